package libp2p

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/chaind/chaind/p2p"
)

// Discovery timing.
const (
	// RedialMinBackoff is the first wait before redialling a lost kept
	// peer; the wait doubles on each failure up to Config.RedialInterval.
	RedialMinBackoff = time.Second
	// MaxKeptPeers bounds the peers a host keeps connected.
	MaxKeptPeers = 256
	// DiscoveryDialTimeout bounds one dial made by discovery.
	DiscoveryDialTimeout = 10 * time.Second
	// dhtLookupTimeout bounds one DHT lookup for more peers.
	dhtLookupTimeout = 30 * time.Second
	// firstDiscoveryDelay is the wait before the first discovery round, so
	// that bootstrap dials come first.
	firstDiscoveryDelay = 2 * time.Second
)

// Connect dials a peer by multiaddr (ending in /p2p/<id>) and returns its
// id once identify shows it is a peer of this network. See Network.
func (h *Host) Connect(ctx context.Context, addr string) (p2p.PeerID, error) {
	if !h.started() {
		if h.state.Load() == stateClosed {
			return "", p2p.ErrClosed
		}
		return "", p2p.ErrNotStarted
	}
	ai, err := peer.AddrInfoFromString(addr)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", p2p.ErrBadAddress, addr, err)
	}
	if err := h.connect(ctx, *ai); err != nil {
		return "", err
	}
	return p2p.PeerID(ai.ID.String()), nil
}

func (h *Host) connect(ctx context.Context, ai peer.AddrInfo) error {
	id := p2p.PeerID(ai.ID.String())
	if ai.ID == h.self {
		return p2p.ErrSelf
	}
	if h.banned(ai.ID) {
		return fmt.Errorf("%w: %s", p2p.ErrBanned, id.Short())
	}
	if h.links.isCut(ai.ID) {
		return fmt.Errorf("%w: %s", p2p.ErrCut, id.Short())
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ConnectTimeout)
		defer cancel()
	}
	if err := h.h.Connect(ctx, ai); err != nil {
		return fmt.Errorf("p2p: connect to %s: %w", id.Short(), err)
	}
	if err := h.waitIdentified(ctx, ai.ID); err != nil {
		return fmt.Errorf("p2p: connect to %s: identify: %w", id.Short(), err)
	}
	// The event loop decides, from this connection's identify result,
	// whether the peer is of this network: wait for its verdict. A
	// connection the peer refused (it banned us) dies without one.
	for {
		changed := h.peers.changed()
		switch {
		case h.peers.has(ai.ID):
			return nil
		case h.gater.isForeign(ai.ID):
			return fmt.Errorf("%w: %s", p2p.ErrWrongNetwork, id.Short())
		case len(h.h.Network().ConnsToPeer(ai.ID)) == 0:
			return fmt.Errorf("p2p: connect to %s: connection closed by the peer (banned there?)", id.Short())
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("p2p: connect to %s: waiting for identify: %w", id.Short(), ctx.Err())
		}
	}
}

// isKept reports whether p is a peer the host keeps connected.
func (h *Host) isKept(p peer.ID) bool {
	h.keptMu.Lock()
	defer h.keptMu.Unlock()
	_, ok := h.kept[p]
	return ok
}

// keptPeers returns the kept peers.
func (h *Host) keptPeers() []peer.AddrInfo {
	h.keptMu.Lock()
	defer h.keptMu.Unlock()
	out := make([]peer.AddrInfo, 0, len(h.kept))
	for _, ai := range h.kept {
		out = append(out, ai)
	}
	return out
}

// keep adds ai to the kept peers (merging addresses) and protects it.
// Called once the host is started.
func (h *Host) keep(ai peer.AddrInfo) error {
	h.keptMu.Lock()
	old, ok := h.kept[ai.ID]
	if !ok && len(h.kept) >= MaxKeptPeers {
		h.keptMu.Unlock()
		return fmt.Errorf("p2p: already %d kept peers", MaxKeptPeers)
	}
	if ok {
		ai.Addrs = append(old.Addrs, ai.Addrs...)
	}
	h.kept[ai.ID] = ai
	h.keptMu.Unlock()
	h.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, keptAddrTTL)
	h.h.ConnManager().Protect(ai.ID, protectKept)
	return nil
}

// KeepPeer dials a peer at its multiaddrs (each ending in /p2p/<id>, all
// of the same peer) and keeps it: redialled with backoff from
// RedialMinBackoff to Config.RedialInterval whenever it is not connected,
// and protected from the connection manager. See p2p.Keeper.
func (h *Host) KeepPeer(ctx context.Context, addrs []string) (p2p.PeerID, error) {
	if !h.started() {
		if h.state.Load() == stateClosed {
			return "", p2p.ErrClosed
		}
		return "", p2p.ErrNotStarted
	}
	var ai *peer.AddrInfo
	for _, a := range addrs {
		one, err := peer.AddrInfoFromString(a)
		if err != nil {
			return "", fmt.Errorf("%w: %q: %v", p2p.ErrBadAddress, a, err)
		}
		switch {
		case ai == nil:
			ai = one
		case one.ID != ai.ID:
			return "", fmt.Errorf("%w: addresses of two peers (%s, %s)", p2p.ErrBadAddress, ai.ID, one.ID)
		default:
			ai.Addrs = append(ai.Addrs, one.Addrs...)
		}
	}
	if ai == nil {
		return "", fmt.Errorf("%w: no address", p2p.ErrBadAddress)
	}
	id := p2p.PeerID(ai.ID.String())
	if ai.ID == h.self {
		return "", p2p.ErrSelf
	}
	if err := h.keep(*ai); err != nil {
		return "", err
	}
	return id, h.connect(ctx, *ai)
}

// keepLoop dials the bootstrap peers once at start and redials every kept
// peer (the bootstrap peers with RedialBootstrap, and those given to
// KeepPeer) whenever it is not connected, backing off from
// RedialMinBackoff to RedialInterval per peer.
func (h *Host) keepLoop() {
	minWait := min(RedialMinBackoff, h.cfg.RedialInterval)
	backoff := make(map[peer.ID]time.Duration)
	next := make(map[peer.ID]time.Time)
	attempt := func(ai peer.AddrInfo) {
		ctx, cancel := context.WithTimeout(h.ctx, DiscoveryDialTimeout)
		defer cancel()
		err := h.connect(ctx, ai)
		if err == nil {
			backoff[ai.ID] = 0
			return
		}
		if h.ctx.Err() == nil {
			h.log.Info("kept peer unreachable", "peer", p2p.PeerID(ai.ID.String()).Short(), "err", err)
		}
		b := backoff[ai.ID]
		if b == 0 {
			b = minWait
		} else {
			b = min(2*b, h.cfg.RedialInterval)
		}
		backoff[ai.ID] = b
		next[ai.ID] = time.Now().Add(b)
	}
	for _, ai := range h.bootstrap {
		attempt(ai)
	}
	tick := time.NewTicker(minWait)
	defer tick.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-tick.C:
		case <-h.redialKick:
		}
		now := time.Now()
		for _, ai := range h.keptPeers() {
			if h.h.Network().Connectedness(ai.ID) == network.Connected && h.peers.has(ai.ID) {
				continue
			}
			if now.Before(next[ai.ID]) || !h.gater.allowed(ai.ID) || h.links.isCut(ai.ID) {
				continue
			}
			attempt(ai)
			if h.ctx.Err() != nil {
				return
			}
		}
	}
}

// dialLoop dials the candidates found by peer exchange, the DHT and mDNS,
// a few at a time, while the node is below its low watermark.
func (h *Host) dialLoop() {
	for {
		select {
		case <-h.ctx.Done():
			return
		case ai := <-h.candidates:
			if h.peers.has(ai.ID) || h.peers.len() >= lowWatermark(h.cfg.MaxPeers) || !h.gater.allowed(ai.ID) {
				continue
			}
			select {
			case h.dialSem <- struct{}{}:
			case <-h.ctx.Done():
				return
			}
			started := h.spawn(func() {
				defer func() { <-h.dialSem }()
				ctx, cancel := context.WithTimeout(h.ctx, DiscoveryDialTimeout)
				defer cancel()
				if err := h.connect(ctx, ai); err != nil {
					h.log.Debug("discovered peer not reachable", "peer", p2p.PeerID(ai.ID.String()).Short(), "err", err)
				}
			})
			if !started {
				return
			}
		}
	}
}

// discoveryLoop looks for more peers every DiscoveryInterval while the node
// is below its low watermark: it asks a few peers for their peers and, with
// the DHT on, walks the DHT and offers the peers in its routing table.
func (h *Host) discoveryLoop() {
	if !h.cfg.PeerExchange && h.kad == nil {
		return
	}
	wait := time.NewTimer(firstDiscoveryDelay)
	defer wait.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-wait.C:
		}
		if h.peers.len() < lowWatermark(h.cfg.MaxPeers) {
			h.discoverOnce()
		}
		wait.Reset(h.cfg.DiscoveryInterval)
	}
}

func (h *Host) discoverOnce() {
	if h.cfg.PeerExchange {
		entries := h.peers.list()
		rand.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
		for i, e := range entries {
			if i == pexPeersPerRound {
				break
			}
			h.exchangeWith(e.id)
		}
	}
	if h.kad != nil {
		ctx, cancel := context.WithTimeout(h.ctx, dhtLookupTimeout)
		// A lookup of our own id fills the routing table with our neighbourhood.
		if _, err := h.kad.GetClosestPeers(ctx, string(h.self)); err != nil && h.ctx.Err() == nil {
			h.log.Debug("DHT lookup failed", "err", err)
		}
		cancel()
		for _, p := range h.kad.RoutingTable().ListPeers() {
			h.offer(peer.AddrInfo{ID: p, Addrs: h.h.Peerstore().Addrs(p)})
		}
	}
}

// mdnsServiceName is the mDNS service of a network. The network id is
// hashed to fit a DNS label.
func mdnsServiceName(networkID string) string {
	sum := sha256.Sum256([]byte(networkID))
	return "_chaind-" + hex.EncodeToString(sum[:6]) + "._udp"
}

// mdnsNotifee hands peers found by mDNS to the dial loop.
type mdnsNotifee struct{ h *Host }

func (n mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	if ai.ID == n.h.self {
		return
	}
	n.h.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, pexAddrTTL)
	n.h.offer(ai)
}
