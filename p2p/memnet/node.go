package memnet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/internal/feed"
	"github.com/chaind/chaind/p2p/internal/penalty"
)

// errLinkDown is returned by a request whose link went down in flight.
var errLinkDown = errors.New("memnet: connection lost")

const (
	stateNew = iota
	stateStarted
	stateClosed
)

type gossipMsg struct {
	topic string
	data  []byte
	id    [32]byte
	from  p2p.PeerID
}

type proto struct {
	maxReq, maxResp int
	handler         p2p.RequestHandler
}

// Node is one node of a Net; it implements p2p.Network.
type Node struct {
	net    *Net
	id     p2p.PeerID
	log    *slog.Logger
	book   *penalty.Book
	events *feed.Feed[p2p.PeerEvent]

	mu        sync.Mutex // serialises registration, Start and Close
	state     atomic.Int32
	topics    map[string]p2p.GossipHandler
	protocols map[string]*proto

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	spawnMu  sync.Mutex
	stopping bool

	inMu   sync.Mutex
	inbox  []gossipMsg
	inWake chan struct{}

	received, duplicates, handled atomic.Uint64

	// cuts are the peers this node cut (p2p.Shaper); guarded by net.mu.
	cuts map[p2p.PeerID]bool

	seenMu sync.Mutex
	seen   map[[32]byte]struct{}
	ring   [][32]byte // insertion order, for eviction
	ringAt int
}

var (
	_ p2p.Network   = (*Node)(nil)
	_ p2p.Keeper    = (*Node)(nil)
	_ p2p.Addressed = (*Node)(nil)
	_ p2p.Shaper    = (*Node)(nil)
)

func newNode(n *Net, id p2p.PeerID) *Node {
	ctx, cancel := context.WithCancel(context.Background())
	return &Node{
		net:       n,
		id:        id,
		log:       n.log.With("node", string(id)),
		book:      penalty.New(penalty.Config{Threshold: p2p.BanThreshold, HalfLife: p2p.PenaltyHalfLife, BanDuration: n.cfg.BanDuration}),
		events:    feed.New[p2p.PeerEvent](p2p.EventBuffer),
		topics:    make(map[string]p2p.GossipHandler),
		protocols: make(map[string]*proto),
		ctx:       ctx,
		cancel:    cancel,
		inWake:    make(chan struct{}, 1),
		seen:      make(map[[32]byte]struct{}),
		cuts:      make(map[p2p.PeerID]bool),
	}
}

// Self returns the node's id.
func (nd *Node) Self() p2p.PeerID { return nd.id }

// Addr returns the node's address for Connect: "memnet/<id>".
func (nd *Node) Addr() string { return AddrPrefix + string(nd.id) }

// ListenAddrs returns the node's one address, Addr.
func (nd *Node) ListenAddrs() []string { return []string{nd.Addr()} }

func (nd *Node) running() bool { return nd.state.Load() == stateStarted }

func (nd *Node) bans(p p2p.PeerID) bool {
	b, _ := nd.book.Banned(string(p))
	return b
}

func (nd *Node) emit(ev p2p.PeerEvent) {
	if n := nd.events.Send(ev); n > 0 {
		nd.log.Warn("peer event dropped: subscriber too slow", "peer", ev.Peer, "connected", ev.Connected)
	}
}

// HandleGossip registers a topic's validator. See p2p.Network.
func (nd *Node) HandleGossip(topic string, h p2p.GossipHandler) error {
	if err := p2p.CheckName(topic); err != nil {
		return err
	}
	if h == nil {
		return fmt.Errorf("memnet: topic %q: nil handler", topic)
	}
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.state.Load() != stateNew {
		return fmt.Errorf("memnet: register topic %q: %w", topic, p2p.ErrStarted)
	}
	if _, ok := nd.topics[topic]; ok {
		return fmt.Errorf("memnet: topic %q: %w", topic, p2p.ErrDuplicateHandler)
	}
	nd.topics[topic] = h
	return nil
}

// HandleRequest registers a request/response protocol. See p2p.Network.
func (nd *Node) HandleRequest(name string, maxReq, maxResp int, h p2p.RequestHandler) error {
	if err := p2p.CheckName(name); err != nil {
		return err
	}
	if err := p2p.CheckCaps(maxReq, maxResp); err != nil {
		return fmt.Errorf("memnet: protocol %q: %w", name, err)
	}
	if h == nil {
		return fmt.Errorf("memnet: protocol %q: nil handler", name)
	}
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.state.Load() != stateNew {
		return fmt.Errorf("memnet: register protocol %q: %w", name, p2p.ErrStarted)
	}
	if _, ok := nd.protocols[name]; ok {
		return fmt.Errorf("memnet: protocol %q: %w", name, p2p.ErrDuplicateHandler)
	}
	nd.protocols[name] = &proto{maxReq: maxReq, maxResp: maxResp, handler: h}
	return nil
}

// Start brings the node's links up and starts its gossip worker.
func (nd *Node) Start(ctx context.Context) error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	switch nd.state.Load() {
	case stateStarted:
		return p2p.ErrStarted
	case stateClosed:
		return p2p.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	nd.state.Store(stateStarted)
	nd.spawn(nd.worker)
	nd.net.mu.Lock()
	nd.net.refreshNode(nd)
	nd.net.mu.Unlock()
	return nil
}

// Close takes the node's links down and stops its goroutines.
func (nd *Node) Close() error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.state.Load() == stateClosed {
		return nil
	}
	nd.state.Store(stateClosed)
	nd.net.mu.Lock()
	nd.net.refreshNode(nd)
	nd.net.mu.Unlock()
	nd.spawnMu.Lock()
	nd.stopping = true
	nd.spawnMu.Unlock()
	nd.cancel()
	nd.wg.Wait()
	nd.events.Close()
	return nil
}

func (nd *Node) spawn(f func()) bool {
	nd.spawnMu.Lock()
	defer nd.spawnMu.Unlock()
	if nd.stopping {
		return false
	}
	nd.wg.Add(1)
	go func() {
		defer nd.wg.Done()
		f()
	}()
	return true
}

func (nd *Node) stateErr() error {
	switch nd.state.Load() {
	case stateNew:
		return p2p.ErrNotStarted
	case stateClosed:
		return p2p.ErrClosed
	}
	return nil
}

// Peers lists the nodes this one has an up link with. See p2p.Network.
func (nd *Node) Peers() []p2p.PeerInfo {
	if !nd.running() {
		return nil
	}
	nd.net.mu.Lock()
	var out []p2p.PeerInfo
	for _, l := range nd.net.adj[nd.id] {
		if !l.up || (l.a != nd && l.b != nd) {
			continue
		}
		o := l.other(nd)
		dir := p2p.Inbound
		if l.a == nd {
			dir = p2p.Outbound
		}
		addr := AddrPrefix + string(o.id)
		out = append(out, p2p.PeerInfo{
			ID: o.id, Addrs: []string{addr}, Remote: addr, Direction: dir, ConnectedAt: l.since,
		})
	}
	nd.net.mu.Unlock()
	for i := range out {
		out[i].Penalty = nd.book.Points(string(out[i].ID))
	}
	slices.SortFunc(out, func(a, b p2p.PeerInfo) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out
}

// Subscribe returns peer events. See p2p.Network.
func (nd *Node) Subscribe() (<-chan p2p.PeerEvent, func()) { return nd.events.Subscribe() }

// Connect links this node to the node at addr ("memnet/<id>" or "<id>")
// with the Net's default link parameters. See p2p.Network.
func (nd *Node) Connect(ctx context.Context, addr string) (p2p.PeerID, error) {
	if err := nd.stateErr(); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	id := p2p.PeerID(strings.TrimPrefix(addr, AddrPrefix))
	other := nd.net.Node(id)
	if other == nil {
		return "", fmt.Errorf("%w: %q: no such node", p2p.ErrBadAddress, addr)
	}
	if id == nd.id {
		return "", p2p.ErrSelf
	}
	if nd.bans(id) {
		return "", fmt.Errorf("%w: %s", p2p.ErrBanned, id)
	}
	if !other.running() {
		return "", fmt.Errorf("memnet: connect to %s: connection refused", id)
	}
	if other.bans(nd.id) {
		return "", fmt.Errorf("memnet: connect to %s: connection closed by the peer (banned there?)", id)
	}
	if nd.net.isCut(nd.id, id) {
		return "", fmt.Errorf("%w: %s", p2p.ErrCut, id)
	}
	if err := nd.net.Link(nd.id, id, nd.net.cfg.Link); err != nil {
		return "", err
	}
	return id, nil
}

// KeepPeer links this node to the node at addrs[0] for good: unlike
// Connect it makes the link even when the other node is not running, and
// the link comes up whenever both run and no partition or ban separates
// them (memnet's links are redialled by nature). It returns the error
// p2p.ErrNotConnected when the link is not up yet. See p2p.Keeper.
func (nd *Node) KeepPeer(ctx context.Context, addrs []string) (p2p.PeerID, error) {
	if err := nd.stateErr(); err != nil {
		return "", err
	}
	if len(addrs) == 0 {
		return "", fmt.Errorf("%w: no address", p2p.ErrBadAddress)
	}
	id := p2p.PeerID(strings.TrimPrefix(addrs[0], AddrPrefix))
	if nd.net.Node(id) == nil {
		return "", fmt.Errorf("%w: %q: no such node", p2p.ErrBadAddress, addrs[0])
	}
	if id == nd.id {
		return "", p2p.ErrSelf
	}
	if err := nd.net.Link(nd.id, id, nd.net.cfg.Link); err != nil {
		return "", err
	}
	if nd.net.upLink(nd.id, id) == nil {
		return id, fmt.Errorf("%w: %s (kept; linked when it runs)", p2p.ErrNotConnected, id)
	}
	return id, nil
}

// Penalize charges points to a peer; at p2p.BanThreshold the link to it is
// removed and it cannot reconnect until the ban ends. See p2p.Network.
func (nd *Node) Penalize(p p2p.PeerID, points int, reason string) {
	if p == nd.id || points <= 0 {
		return
	}
	banned, total := nd.book.Add(string(p), points)
	nd.log.Debug("peer penalised", "peer", p, "points", points, "total", total, "reason", reason)
	if banned {
		nd.log.Warn("peer banned", "peer", p, "points", total, "reason", reason)
		nd.net.Unlink(nd.id, p)
	}
}

// isSeen reports whether a message id is in the seen set.
func (nd *Node) isSeen(id [32]byte) bool {
	nd.seenMu.Lock()
	defer nd.seenMu.Unlock()
	_, ok := nd.seen[id]
	return ok
}

// NodeStats counts the gossip one node received.
type NodeStats struct {
	Received   uint64 // messages that arrived in its inbox
	Duplicates uint64 // dropped on arrival as already seen
	Handled    uint64 // handed to a topic's validator
}

// Stats returns the node's gossip counters.
func (nd *Node) Stats() NodeStats {
	return NodeStats{Received: nd.received.Load(), Duplicates: nd.duplicates.Load(), Handled: nd.handled.Load()}
}

// markSeen records a message id and reports whether it was new.
func (nd *Node) markSeen(id [32]byte) bool {
	nd.seenMu.Lock()
	defer nd.seenMu.Unlock()
	if _, ok := nd.seen[id]; ok {
		return false
	}
	if len(nd.ring) < SeenCacheSize {
		nd.ring = append(nd.ring, id)
	} else {
		delete(nd.seen, nd.ring[nd.ringAt])
		nd.ring[nd.ringAt] = id
		nd.ringAt = (nd.ringAt + 1) % SeenCacheSize
	}
	nd.seen[id] = struct{}{}
	return true
}

// Publish floods data to every neighbour. See p2p.Network.
func (nd *Node) Publish(topic string, data []byte) error {
	if err := nd.stateErr(); err != nil {
		return err
	}
	if _, ok := nd.topics[topic]; !ok {
		return fmt.Errorf("%w: %q", p2p.ErrUnknownTopic, topic)
	}
	m := gossipMsg{topic: topic, data: bytes.Clone(data), id: sha256.Sum256(data)}
	if !nd.markSeen(m.id) {
		return nil // already seen: relayed when it was
	}
	for _, hp := range nd.net.neighbours(nd) {
		nd.net.sendGossip(nd, hp, m)
	}
	return nil
}

// enqueue hands an arriving gossip message to the worker; false if dropped.
func (nd *Node) enqueue(m gossipMsg) bool {
	if !nd.running() {
		return false
	}
	nd.inMu.Lock()
	if len(nd.inbox) >= MaxInbox {
		nd.inMu.Unlock()
		return false
	}
	nd.inbox = append(nd.inbox, m)
	nd.inMu.Unlock()
	nd.received.Add(1)
	select {
	case nd.inWake <- struct{}{}:
	default:
	}
	return true
}

// worker handles arriving gossip in order: dedup, validate, relay.
func (nd *Node) worker() {
	var batch []gossipMsg
	for {
		select {
		case <-nd.ctx.Done():
			return
		case <-nd.inWake:
		}
		nd.inMu.Lock()
		batch, nd.inbox = nd.inbox, batch[:0]
		nd.inMu.Unlock()
		for i := range batch {
			if nd.ctx.Err() != nil {
				return
			}
			nd.handleGossip(batch[i])
			batch[i] = gossipMsg{}
		}
	}
}

// handleGossip validates an arriving message and relays it when accepted.
// As in gossipsub, a message enters the seen set when its validator
// accepts it or this node publishes it, not when it arrives: a copy that
// was ignored or rejected is validated again if it comes again, and the
// node's own publication of something it received and ignored still goes
// out. A message is handed to the validator at most once after it is seen,
// and relayed at most once whichever of relay and publish comes first.
func (nd *Node) handleGossip(m gossipMsg) {
	h, ok := nd.topics[m.topic]
	if !ok {
		return
	}
	if nd.isSeen(m.id) {
		nd.duplicates.Add(1)
		return
	}
	nd.handled.Add(1)
	switch h(m.from, bytes.Clone(m.data)) {
	case p2p.Accept:
		if !nd.markSeen(m.id) {
			return // published by this node meanwhile: it went out then
		}
		for _, hp := range nd.net.neighbours(nd) {
			if hp.to.id != m.from {
				nd.net.sendGossip(nd, hp, m)
			}
		}
	case p2p.Reject:
		nd.Penalize(m.from, p2p.PenaltyInvalidMessage, "invalid gossip on "+m.topic)
	}
}

type result struct {
	resp []byte
	err  error
}

// Request sends a request over the link to a neighbour and waits for the
// answer. See p2p.Network.
func (nd *Node) Request(ctx context.Context, to p2p.PeerID, name string, req []byte) ([]byte, error) {
	if err := nd.stateErr(); err != nil {
		return nil, err
	}
	maxReq, maxResp := p2p.DefaultMaxRequestSize, p2p.DefaultMaxResponseSize
	if p, ok := nd.protocols[name]; ok {
		maxReq, maxResp = p.maxReq, p.maxResp
	} else if err := p2p.CheckName(name); err != nil {
		return nil, err
	}
	if len(req) > maxReq {
		return nil, fmt.Errorf("%w: %s: %d bytes, limit %d", p2p.ErrRequestTooLarge, name, len(req), maxReq)
	}
	if nd.bans(to) {
		return nil, fmt.Errorf("%w: %s", p2p.ErrBanned, to)
	}
	hp, ok := nd.net.upHop(nd, to)
	if !ok {
		return nil, fmt.Errorf("%w: %s", p2p.ErrNotConnected, to)
	}
	server, params := hp.to, hp.params
	latency := params.Latency
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p2p.DefaultRequestTimeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	nd.net.requests.Add(1)

	res := make(chan result, 1)
	body := bytes.Clone(req)
	nd.net.sched.after(latency+hp.link.transmit(hp.dir, len(body), params.Bandwidth), func() {
		if nd.net.upLink(nd.id, to) == nil {
			res <- result{err: errLinkDown}
			return
		}
		server.serve(nd.id, name, body, deadline, func(r result) {
			nd.net.sched.after(latency+hp.link.transmit(1-hp.dir, len(r.resp), params.Bandwidth), func() {
				if nd.net.upLink(nd.id, to) == nil {
					r = result{err: errLinkDown}
				}
				res <- r
			})
		})
	})

	select {
	case r := <-res:
		if r.err != nil {
			var re *p2p.RemoteError
			if errors.As(r.err, &re) {
				return nil, r.err
			}
			return nil, fmt.Errorf("memnet: %s to %s: %w", name, to, r.err)
		}
		if len(r.resp) > maxResp {
			nd.Penalize(to, p2p.PenaltyOversized, "oversized response on "+name)
			return nil, fmt.Errorf("%w: %s from %s: %d bytes, limit %d", p2p.ErrResponseTooLarge, name, to, len(r.resp), maxResp)
		}
		return r.resp, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("memnet: %s to %s: %w", name, to, ctx.Err())
	case <-nd.ctx.Done():
		return nil, p2p.ErrClosed
	}
}

// serve answers a request that arrived from a neighbour. reply must be
// called exactly once and must not block.
func (nd *Node) serve(from p2p.PeerID, name string, req []byte, deadline time.Time, reply func(result)) {
	if !nd.running() {
		reply(result{err: errLinkDown})
		return
	}
	p, ok := nd.protocols[name]
	if !ok {
		reply(result{err: fmt.Errorf("protocol %s not supported by %s", name, nd.id)})
		return
	}
	remote := func(code p2p.RemoteCode, msg string) result {
		if len(msg) > p2p.MaxRemoteErrorSize {
			msg = msg[:p2p.MaxRemoteErrorSize]
		}
		return result{err: &p2p.RemoteError{Peer: nd.id, Protocol: name, Code: code, Msg: msg}}
	}
	if len(req) > p.maxReq {
		nd.Penalize(from, p2p.PenaltyOversized, "oversized request on "+name)
		reply(remote(p2p.CodeRequestTooLarge, fmt.Sprintf("request too large: %d bytes, limit %d", len(req), p.maxReq)))
		return
	}
	ok = nd.spawn(func() {
		dl := time.Now().Add(p2p.DefaultRequestTimeout)
		if deadline.Before(dl) {
			dl = deadline
		}
		ctx, cancel := context.WithDeadline(nd.ctx, dl)
		defer cancel()
		resp, err := p.handler(ctx, from, req)
		switch {
		case err != nil:
			reply(remote(p2p.CodeHandler, err.Error()))
		case len(resp) > p.maxResp:
			reply(remote(p2p.CodeResponseTooLarge, fmt.Sprintf("response too large: %d bytes, limit %d", len(resp), p.maxResp)))
		default:
			reply(result{resp: bytes.Clone(resp)})
		}
	})
	if !ok {
		reply(result{err: errLinkDown})
	}
}
