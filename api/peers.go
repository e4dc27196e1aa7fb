package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/p2p"
)

// Peer route bounds.
const (
	// MaxRegisterNodes bounds the nodes one /nodes/register may name.
	MaxRegisterNodes = 64
	// PeerConnectTimeout bounds connecting to the peers of one request.
	PeerConnectTimeout = 10 * time.Second
	// ResolveTimeout bounds the sync of one /nodes/resolve.
	ResolveTimeout = 5 * time.Minute
)

// peerRoutes registers the routes that list or change peers: naivechain's
// GET /peers and POST /addPeer, the Flask tutorial's POST /nodes/register
// and GET /nodes/resolve, and GET/POST /api/v1/peers. The routes that
// change peers (or, for /nodes/resolve, may replace the chain) are
// protected.
func (s *Server) peerRoutes() {
	s.handle("GET /peers", s.getPeersHostPorts)
	s.handle("POST /addPeer", s.protect(s.postAddPeer))
	s.handle("POST /nodes/register", s.protect(s.postNodesRegister))
	s.handle("GET /nodes/resolve", s.protect(s.getNodesResolve))
	s.handle("GET /api/v1/peers", s.getPeers)
	s.handle("POST /api/v1/peers", s.protect(s.postAddPeer))
}

// networkError maps a node peer error to a response.
func networkError(err error) error {
	switch {
	case errors.Is(err, node.ErrNoNetwork):
		return &Error{Status: http.StatusServiceUnavailable, Msg: err.Error()}
	case errors.Is(err, p2p.ErrSelf):
		return badRequest("that address is this node itself")
	case errors.Is(err, p2p.ErrWrongNetwork):
		return &Error{Status: http.StatusUnprocessableEntity, Msg: "that peer is on another network (different genesis): " + err.Error()}
	case errors.Is(err, p2p.ErrBanned):
		return &Error{Status: http.StatusForbidden, Msg: "that peer is banned for misbehaviour: " + err.Error()}
	}
	return &Error{Status: http.StatusBadGateway, Msg: "could not connect: " + err.Error()}
}

// getPeersHostPorts is naivechain's GET /peers: the connected peers as
// "host:port" strings.
func (s *Server) getPeersHostPorts(w http.ResponseWriter, r *http.Request) error {
	out := []string{}
	for _, p := range s.n.Peers() {
		out = append(out, p.Remote)
	}
	return writeJSON(w, http.StatusOK, out)
}

// getPeers is GET /api/v1/peers: ids, addresses, direction, penalty score
// and the best height each peer announced.
func (s *Server) getPeers(w http.ResponseWriter, r *http.Request) error {
	v := apitypes.Peers{Peers: []apitypes.Peer{}}
	for _, p := range s.n.Peers() {
		v.Peers = append(v.Peers, apitypes.Peer{
			ID: string(p.ID), Addrs: p.Addrs, HostPorts: p.HostPorts, Remote: p.Remote,
			Direction: p.Direction.String(), Penalty: p.Penalty, ConnectedAt: p.ConnectedAt,
			BestHeight: p.BestHeight, BestHash: p.BestHash, BlocksFetched: apitypes.Uint64(p.Fetched),
		})
		if v.Peers[len(v.Peers)-1].Addrs == nil {
			v.Peers[len(v.Peers)-1].Addrs = []string{}
		}
	}
	v.Count = len(v.Peers)
	return writeJSON(w, http.StatusOK, v)
}

type addPeerRequest struct {
	Peer json.RawMessage `json:"peer"`
}

// postAddPeer is naivechain's POST /addPeer {"peer": ...} (and POST
// /api/v1/peers): connect to a multiaddr or another node's API URL, and
// keep it connected.
func (s *Server) postAddPeer(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, MaxBodySize)
	if err != nil {
		return err
	}
	var req addPeerRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if !present(req.Peer) {
		return badRequest("Missing values: peer")
	}
	addr, err := parseString("peer", req.Peer)
	if err != nil {
		return err
	}
	if addr == "" {
		return badRequest("peer: empty address")
	}
	ctx, cancel := context.WithTimeout(r.Context(), PeerConnectTimeout)
	defer cancel()
	id, err := s.n.AddPeer(ctx, addr)
	if err != nil {
		return networkError(err)
	}
	return writeJSON(w, http.StatusOK, apitypes.AddPeerAnswer{Message: "Peer added", Peer: addr, PeerID: string(id)})
}

type registerRequest struct {
	Nodes json.RawMessage `json:"nodes"`
}

// postNodesRegister is the Flask tutorial's POST /nodes/register
// {"nodes": [...]}: remember each node (an API URL or a multiaddr) as a
// peer and connect to it. 201 with every connected peer; a node that cannot
// be reached now stays registered and is retried, and is listed in errors.
func (s *Server) postNodesRegister(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, MaxBodySize)
	if err != nil {
		return err
	}
	var req registerRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if !present(req.Nodes) {
		return badRequest("Error: Please supply a valid list of nodes")
	}
	var nodes []string
	if err := json.Unmarshal(req.Nodes, &nodes); err != nil || len(nodes) == 0 {
		return badRequest("Error: Please supply a valid list of nodes (a non-empty JSON array of strings)")
	}
	if len(nodes) > MaxRegisterNodes {
		return badRequest("nodes: %d given, at most %d per request", len(nodes), MaxRegisterNodes)
	}
	for i, a := range nodes {
		if a == "" {
			return badRequest("nodes[%d]: empty address", i)
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), PeerConnectTimeout)
	defer cancel()
	errs := map[string]string{}
	for _, a := range nodes {
		if _, err := s.n.AddPeer(ctx, a); err != nil {
			if errors.Is(err, node.ErrNoNetwork) {
				return networkError(err)
			}
			errs[a] = err.Error()
		}
	}
	total := []string{}
	for _, p := range s.n.Peers() {
		total = append(total, p.Remote)
	}
	resp := apitypes.RegisterAnswer{Message: "New nodes have been added", TotalNodes: total}
	if len(errs) > 0 {
		resp.Errors = errs
	}
	return writeJSON(w, http.StatusCreated, resp)
}

// getNodesResolve is the Flask tutorial's consensus: sync with every peer
// now, adopting the chain with the most work, and answer with the chain.
func (s *Server) getNodesResolve(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), ResolveTimeout)
	defer cancel()
	before := s.n.Chain.Tip()
	replaced, err := s.n.Resolve(ctx)
	if err != nil {
		if errors.Is(err, node.ErrNoNetwork) {
			return networkError(err)
		}
		return &Error{Status: http.StatusBadGateway, Msg: "sync with peers failed: " + err.Error()}
	}
	replaced = replaced || s.n.Chain.Tip().Hash != before.Hash
	if replaced {
		return s.streamChain(w, r, `{"message":"Our chain was replaced","new_chain":[`, func(n int) string {
			return `],"length":` + strconv.Itoa(n) + "}\n"
		})
	}
	return s.streamChain(w, r, `{"message":"Our chain is authoritative","chain":[`, func(n int) string {
		return `],"length":` + strconv.Itoa(n) + "}\n"
	})
}
