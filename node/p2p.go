package node

import (
	"context"
	"errors"
	"fmt"
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
	// DNSPeerInterval is how often the names of --peer-dns are resolved
	// again, to find nodes that joined behind them.
	DNSPeerInterval = 5 * time.Second
	// PeerDialTimeout bounds one attempt to reach a peer given to AddPeer.
	PeerDialTimeout = 10 * time.Second
	// MaxKnownPeers bounds the peers remembered with AddPeer / --peer.
	MaxKnownPeers = 256
	// gossipOverhead is room for framing around the largest block.
	gossipOverhead = 64 << 10
)

// ErrNoNetwork is returned by peer operations on a node started without
// peer-to-peer networking.
var ErrNoNetwork = errors.New("peer-to-peer networking is off on this node (no --p2p address)")

// peerBook bounds and deduplicates the peers the user asked for (--peer,
// AddPeer); keeping them connected is the network's job (p2p.Keeper).
type peerBook struct {
	mu    sync.Mutex
	addrs map[string]bool
}

// add records addr and reports whether it is new; it fails past
// MaxKnownPeers.
func (b *peerBook) add(addr string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.addrs[addr] {
		return false, nil
	}
	if len(b.addrs) >= MaxKnownPeers {
		return false, fmt.Errorf("already %d configured peers", MaxKnownPeers)
	}
	if b.addrs == nil {
		b.addrs = make(map[string]bool)
	}
	b.addrs[addr] = true
	return true, nil
}

// newNetwork builds the syncer on the configured network, or on a libp2p
// host when none is given; they start in Start.
func (n *Node) newNetwork() error {
	if len(n.cfg.Peers) > MaxKnownPeers {
		return fmt.Errorf("%d peers given, at most %d", len(n.cfg.Peers), MaxKnownPeers)
	}
	net := n.cfg.Network
	if net == nil {
		cfg := libp2p.DefaultConfig(n.cfg.Params.GenesisHash().String())
		cfg.DataDir = n.cfg.DataDir
		cfg.Listen = n.cfg.P2PListen
		cfg.MDNS = n.cfg.MDNS
		if n.cfg.MaxPeers > 0 {
			cfg.MaxPeers = n.cfg.MaxPeers
		}
		cfg.MaxGossipSize = n.cfg.Params.MaxBlockSize + gossipOverhead
		cfg.Logger = n.log // the host names its subsystem (sys=p2p)
		host, err := libp2p.NewHost(cfg)
		if err != nil {
			return fmt.Errorf("p2p: %w", err)
		}
		net = host
	}
	syncer, err := netsync.New(netsync.Config{Chain: n.Chain, Pool: n.Pool, Net: net, Logger: n.log,
		StatusInterval: n.cfg.StatusInterval, RequestTimeout: n.cfg.RequestTimeout})
	if err != nil {
		net.Close()
		return fmt.Errorf("sync: %w", err)
	}
	n.Net, n.Sync = net, syncer
	for _, p := range n.cfg.Peers {
		if _, err := n.peers.add(strings.TrimSpace(p)); err != nil {
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

// startNetwork joins the network, hands the configured peers to it and
// forwards peer events to the hub.
func (n *Node) startNetwork(ctx context.Context) error {
	if err := n.Net.Start(ctx); err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	if err := n.Sync.Start(ctx); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	n.log.Info("peer-to-peer network started", "peer_id", n.Net.Self(), "addrs", n.ListenAddrs())
	loopCtx, cancel := context.WithCancel(context.Background())
	n.stopPeers = cancel
	events, unsubscribe := n.Net.Subscribe()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer unsubscribe()
		n.forwardPeerEvents(loopCtx, events)
	}()
	// The first attempt at every configured peer is made before Start
	// returns (so before mining), bounded by PeerDialTimeout: a user who
	// mistyped a --peer learns it, with the reason, before the node mines
	// alone on its own fork.
	var first sync.WaitGroup
	for _, addr := range n.cfg.Peers {
		addr = strings.TrimSpace(addr)
		n.wg.Add(1)
		first.Add(1)
		go func() {
			defer n.wg.Done()
			n.keepConfigured(loopCtx, addr, first.Done)
		}()
	}
	if n.dns != nil {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.keepDNSPeers(loopCtx)
		}()
	}
	waited := make(chan struct{})
	go func() { first.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(PeerDialTimeout):
		n.log.Warn("configured peers still being tried after the dial timeout; starting anyway", "timeout", PeerDialTimeout)
	case <-ctx.Done():
	}
	return nil
}

// keepConfigured hands one configured peer to the network to keep,
// resolving an API URL first (with bounded retries; the node gives up on
// a URL that never answers, and says so).
// tried is called once, after the first resolve and dial attempt.
func (n *Node) keepConfigured(ctx context.Context, addr string, tried func()) {
	var once sync.Once
	defer once.Do(tried)
	addrs := []string{addr}
	if isHTTPURL(addr) {
		var err error
		if addrs, err = n.resolver.resolveRetry(ctx, addr, func(err error) {
			once.Do(tried)
			n.log.Warn("configured peer unreachable; retrying", "peer", addr, "err", err)
		}); err != nil {
			if ctx.Err() == nil {
				n.log.Error("configured peer not resolved: giving up on it", "peer", addr, "err", err)
			}
			return
		}
	}
	dctx, cancel := context.WithTimeout(ctx, PeerDialTimeout)
	defer cancel()
	id, err := n.keep(dctx, addrs)
	switch {
	case err != nil && ctx.Err() == nil:
		n.log.Warn("configured peer unreachable; the network keeps redialling it", "peer", addr, "err", err)
	case err == nil:
		n.log.Info("configured peer connected", "peer", addr, "id", id.Short())
	}
}

// keep hands a peer's addresses to the network to keep connected; a
// network that cannot keep peers is asked to connect once.
func (n *Node) keep(ctx context.Context, addrs []string) (p2p.PeerID, error) {
	if k, ok := n.Net.(p2p.Keeper); ok {
		return k.KeepPeer(ctx, addrs)
	}
	var errs []error
	for _, a := range addrs {
		id, err := n.Net.Connect(ctx, a)
		if err == nil {
			return id, nil
		}
		errs = append(errs, err)
		if errors.Is(err, p2p.ErrSelf) || errors.Is(err, p2p.ErrWrongNetwork) || ctx.Err() != nil {
			break
		}
	}
	return "", errors.Join(errs...)
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
			n.hub.Publish(&PeerChanged{Peer: e.Peer, Connected: e.Connected, Addr: e.Addr})
		}
	}
}

// AddPeer keeps addr (a multiaddr ending in /p2p/<id>, or the HTTP URL
// of another node's API, resolved once here) connected from now on, and
// dials it now; the error is the first dial's (the network keeps trying).
func (n *Node) AddPeer(ctx context.Context, addr string) (p2p.PeerID, error) {
	if n.Net == nil {
		return "", ErrNoNetwork
	}
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", errors.New("empty peer address")
	}
	addrs := []string{addr}
	if isHTTPURL(addr) {
		var err error
		if addrs, err = n.resolver.resolve(ctx, addr); err != nil {
			return "", err
		}
	}
	if _, err := n.peers.add(addr); err != nil {
		return "", err
	}
	id, err := n.keep(ctx, addrs)
	if err != nil {
		return id, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return id, nil
}

func isHTTPURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// PeerCount returns the number of connected peers.
func (n *Node) PeerCount() int {
	if n.Net == nil {
		return 0
	}
	return len(n.Net.Peers())
}

// PeerID returns this node's peer id ("" without networking).
func (n *Node) PeerID() string {
	if n.Net == nil {
		return ""
	}
	return string(n.Net.Self())
}

// ListenAddrs returns this node's peer-to-peer addresses.
func (n *Node) ListenAddrs() []string {
	if a, ok := n.Net.(p2p.Addressed); ok {
		return a.ListenAddrs()
	}
	return nil
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
	if n.Net == nil {
		return nil
	}
	states := make(map[p2p.PeerID]netsync.PeerState)
	for _, s := range n.Sync.Peers() {
		states[s.ID] = s
	}
	var out []Peer
	for _, pi := range n.Net.Peers() {
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
