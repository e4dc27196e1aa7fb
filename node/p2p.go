package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/netsync"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/libp2p"
)

// Peer management bounds.
const (
	// PeerRedialInterval is how often configured peers that are not
	// connected are dialled again (and their API URL resolved again).
	PeerRedialInterval = 5 * time.Second
	// PeerDialTimeout bounds one attempt to reach a configured peer.
	PeerDialTimeout = 10 * time.Second
	// MaxKnownPeers bounds the peers remembered with AddPeer / --peer.
	MaxKnownPeers = 256
	// maxNodeInfoSize bounds a peer API's /api/v1/node answer.
	maxNodeInfoSize = 64 << 10
	// gossipOverhead is room for framing around the largest block.
	gossipOverhead = 64 << 10
)

// ErrNoNetwork is returned by peer operations on a node started without
// peer-to-peer networking.
var ErrNoNetwork = errors.New("peer-to-peer networking is off on this node (no --p2p address)")

// peerBook remembers the peers the user asked for (--peer, AddPeer) and
// which peer id each one turned out to have, so they can be redialled.
type peerBook struct {
	mu    sync.Mutex
	addrs []string
	ids   map[string]p2p.PeerID
}

func (b *peerBook) add(addr string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, a := range b.addrs {
		if a == addr {
			return nil
		}
	}
	if len(b.addrs) >= MaxKnownPeers {
		return fmt.Errorf("already %d configured peers", MaxKnownPeers)
	}
	b.addrs = append(b.addrs, addr)
	return nil
}

func (b *peerBook) snapshot() map[string]p2p.PeerID {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]p2p.PeerID, len(b.addrs))
	for _, a := range b.addrs {
		out[a] = b.ids[a]
	}
	return out
}

func (b *peerBook) setID(addr string, id p2p.PeerID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ids == nil {
		b.ids = make(map[string]p2p.PeerID)
	}
	b.ids[addr] = id
}

// newNetwork builds the libp2p host and the syncer; they start in Start.
func (n *Node) newNetwork() error {
	cfg := libp2p.DefaultConfig(n.cfg.Params.GenesisHash().String())
	cfg.DataDir = n.cfg.DataDir
	cfg.Listen = n.cfg.P2PListen
	cfg.MDNS = n.cfg.MDNS
	if n.cfg.MaxPeers > 0 {
		cfg.MaxPeers = n.cfg.MaxPeers
	}
	cfg.MaxGossipSize = n.cfg.Params.MaxBlockSize + gossipOverhead
	cfg.Logger = n.log // the host names its subsystem (sys=p2p)
	if len(n.cfg.Peers) > MaxKnownPeers {
		return fmt.Errorf("%d peers given, at most %d", len(n.cfg.Peers), MaxKnownPeers)
	}
	host, err := libp2p.NewHost(cfg)
	if err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	syncer, err := netsync.New(netsync.Config{Chain: n.Chain, Pool: n.Pool, Net: host, Logger: n.log})
	if err != nil {
		host.Close()
		return fmt.Errorf("sync: %w", err)
	}
	n.Host, n.Sync = host, syncer
	for _, p := range n.cfg.Peers {
		if err := n.peers.add(p); err != nil {
			return err
		}
	}
	if len(n.cfg.PeerDNS) > 0 {
		for _, name := range n.cfg.PeerDNS {
			if err := checkPeerDNS(name); err != nil {
				return err
			}
		}
		n.dns = newDNSPeers(n.cfg.PeerDNS)
	}
	return nil
}

// startNetwork joins the network and starts the loop that keeps the
// configured peers connected.
func (n *Node) startNetwork(ctx context.Context) error {
	if err := n.Host.Start(ctx); err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	if err := n.Sync.Start(ctx); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	n.log.Info("peer-to-peer listening", "peer_id", n.Host.Self(), "addrs", n.Host.ListenAddrs())
	n.dialConfigured(ctx)
	loopCtx, cancel := context.WithCancel(context.Background())
	n.stopPeers = cancel
	events, unsubscribe := n.Host.Subscribe()
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		n.keepPeers(loopCtx)
	}()
	go func() {
		defer n.wg.Done()
		defer unsubscribe()
		n.forwardPeerEvents(loopCtx, events)
	}()
	return nil
}

// PeerEventJSON is the event stream's view of a peer connecting or leaving.
type PeerEventJSON struct {
	Peer      p2p.PeerID `json:"peer"`
	Connected bool       `json:"connected"`
	Addr      string     `json:"addr"`
}

// forwardPeerEvents puts peer connects and disconnects on the event hub
// until ctx ends.
func (n *Node) forwardPeerEvents(ctx context.Context, events <-chan p2p.PeerEvent) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				return
			}
			n.log.Info("peer", "id", e.Peer.Short(), "connected", e.Connected, "addr", e.Addr)
			n.hub.Publish(Event{Type: "peer", Data: PeerEventJSON{Peer: e.Peer, Connected: e.Connected, Addr: e.Addr}})
		}
	}
}

// dialConfigured dials every configured peer once, in parallel, each for
// at most PeerDialTimeout, and reports at the default log level which
// ones were reached and, with the reason, which were not: a user who
// mistyped a --peer learns it before the node mines alone on its own
// fork. Those not reached are retried by keepPeers.
func (n *Node) dialConfigured(ctx context.Context) {
	var wg sync.WaitGroup
	for addr := range n.peers.snapshot() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dctx, cancel := context.WithTimeout(ctx, PeerDialTimeout)
			defer cancel()
			id, err := n.dial(dctx, addr)
			if err != nil {
				n.log.Warn("bootstrap peer unreachable; retrying in the background", "peer", addr, "err", err)
				return
			}
			n.log.Info("bootstrap peer connected", "peer", addr, "id", id.Short())
		}()
	}
	wg.Wait()
}

// keepPeers dials every configured peer that is not connected, now and
// every PeerRedialInterval, until ctx ends.
func (n *Node) keepPeers(ctx context.Context) {
	t := time.NewTicker(PeerRedialInterval)
	defer t.Stop()
	for {
		connected := make(map[p2p.PeerID]bool)
		for _, pi := range n.Host.Peers() {
			connected[pi.ID] = true
		}
		for addr, id := range n.peers.snapshot() {
			if id != "" && connected[id] {
				continue
			}
			dctx, cancel := context.WithTimeout(ctx, PeerDialTimeout)
			if _, err := n.dial(dctx, addr); err != nil && ctx.Err() == nil {
				n.log.Debug("peer not reachable yet", "peer", addr, "err", err)
			}
			cancel()
		}
		if n.dns != nil {
			n.dnsRound(ctx, connected)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// AddPeer remembers addr (a multiaddr ending in /p2p/<id>, or the HTTP URL
// of another node's API) as a peer to keep connected, and dials it now.
func (n *Node) AddPeer(ctx context.Context, addr string) (p2p.PeerID, error) {
	if n.Host == nil {
		return "", ErrNoNetwork
	}
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", errors.New("empty peer address")
	}
	if err := n.peers.add(addr); err != nil {
		return "", err
	}
	return n.dial(ctx, addr)
}

// dial connects to a configured peer, resolving an API URL first.
func (n *Node) dial(ctx context.Context, addr string) (p2p.PeerID, error) {
	addrs := []string{addr}
	if isHTTPURL(addr) {
		var err error
		if addrs, err = resolveAPIPeer(ctx, addr); err != nil {
			return "", err
		}
	}
	var errs []error
	for _, a := range addrs {
		id, err := n.Host.Connect(ctx, a)
		if err == nil {
			n.peers.setID(addr, id)
			return id, nil
		}
		errs = append(errs, err)
		if errors.Is(err, p2p.ErrSelf) || errors.Is(err, p2p.ErrWrongNetwork) || ctx.Err() != nil {
			break
		}
	}
	return "", fmt.Errorf("connect to %s: %w", addr, errors.Join(errs...))
}

func isHTTPURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// resolveAPIPeer asks another node's API for its peer-to-peer addresses.
// Addresses on the host the URL names come first, and when the node only
// reports wildcard or loopback addresses, the URL's host is put in their
// place (so "--peer http://node1:3001" works across containers).
func resolveAPIPeer(ctx context.Context, apiURL string) ([]string, error) {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("peer URL %q is not a valid http(s) URL", apiURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(apiURL, "/")+"/api/v1/node", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask %s for its peer addresses: %w", apiURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("ask %s for its peer addresses: %s", apiURL, resp.Status)
	}
	var info struct {
		PeerID string   `json:"peer_id"`
		Addrs  []string `json:"listen_addresses"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxNodeInfoSize)).Decode(&info); err != nil {
		return nil, fmt.Errorf("%s/api/v1/node: %w", apiURL, err)
	}
	if info.PeerID == "" || len(info.Addrs) == 0 {
		return nil, fmt.Errorf("the node at %s has no peer-to-peer addresses", apiURL)
	}
	return preferHost(info.Addrs, u.Hostname()), nil
}

// preferHost orders multiaddrs so those on host come first, and adds
// host-substituted copies of /ip4 addresses when none is on host.
func preferHost(addrs []string, host string) []string {
	ips := []string{host}
	if net.ParseIP(host) == nil {
		if resolved, err := net.LookupHost(host); err == nil {
			ips = resolved
		}
	}
	var on, other []string
	for _, a := range addrs {
		matched := false
		for _, ip := range ips {
			if strings.HasPrefix(a, "/ip4/"+ip+"/") || strings.HasPrefix(a, "/ip6/"+ip+"/") {
				matched = true
			}
		}
		if matched {
			on = append(on, a)
		} else {
			other = append(other, a)
		}
	}
	if len(on) == 0 {
		for _, a := range other {
			parts := strings.SplitN(a, "/", 4) // "", "ip4", addr, rest
			if len(parts) == 4 && parts[1] == "ip4" && net.ParseIP(ips[0]) != nil && net.ParseIP(ips[0]).To4() != nil {
				on = append(on, "/ip4/"+ips[0]+"/"+parts[3])
				break
			}
		}
	}
	return append(on, other...)
}

// PeerCount returns the number of connected peers.
func (n *Node) PeerCount() int {
	if n.Host == nil {
		return 0
	}
	return len(n.Host.Peers())
}

// PeerID returns this node's peer id ("" without networking).
func (n *Node) PeerID() string {
	if n.Host == nil {
		return ""
	}
	return string(n.Host.Self())
}

// ListenAddrs returns this node's peer-to-peer addresses.
func (n *Node) ListenAddrs() []string {
	if n.Host == nil {
		return nil
	}
	return n.Host.ListenAddrs()
}

// Peer is a connected peer as the API shows it.
type Peer struct {
	p2p.PeerInfo
	BestHeight uint32     `json:"best_height"`
	BestHash   chain.Hash `json:"best_hash"`
	Fetched    uint64     `json:"blocks_fetched"`
}

// Peers lists the connected peers with what sync knows of them.
func (n *Node) Peers() []Peer {
	if n.Host == nil {
		return nil
	}
	states := make(map[p2p.PeerID]netsync.PeerState)
	for _, s := range n.Sync.Peers() {
		states[s.ID] = s
	}
	var out []Peer
	for _, pi := range n.Host.Peers() {
		s := states[pi.ID]
		out = append(out, Peer{PeerInfo: pi, BestHeight: s.BestHeight, BestHash: s.BestHash, Fetched: s.BlocksFetched})
	}
	return out
}

// SyncProgress reports the sync state (in step when networking is off).
func (n *Node) SyncProgress() netsync.Progress {
	if n.Sync == nil {
		h := n.Chain.Height()
		return netsync.Progress{Height: h, TargetHeight: h}
	}
	return n.Sync.Progress()
}

// Resolve syncs with every peer now (the Flask tutorial's consensus) and
// reports whether our chain was replaced by another branch or extended.
func (n *Node) Resolve(ctx context.Context) (replaced bool, err error) {
	if n.Sync == nil {
		return false, ErrNoNetwork
	}
	return n.Sync.SyncNow(ctx)
}
