package libp2p

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/chaind/chaind/p2p"
)

// busBuffer is the libp2p event bus subscription's buffer.
const busBuffer = 1024

// chainPeerTag marks peers of this network in the connection manager, so
// that it trims other connections first.
const (
	chainPeerTag      = "chaind"
	chainPeerTagValue = 100
	protectKept       = "chaind-kept"
)

// peerEntry is one connected peer of this network.
type peerEntry struct {
	id          peer.ID
	pid         p2p.PeerID
	remote      string
	dir         p2p.Direction
	connectedAt time.Time
}

// peerSet is the set of connected peers known to be of this network.
type peerSet struct {
	mu     sync.RWMutex
	m      map[peer.ID]*peerEntry
	notify chan struct{} // closed and replaced on every change (see changed)
}

func newPeerSet() *peerSet {
	return &peerSet{m: make(map[peer.ID]*peerEntry), notify: make(chan struct{})}
}

// changed returns a channel that is closed at the next change of the set
// (or of a peer's standing, see bump).
func (s *peerSet) changed() <-chan struct{} {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.notify
}

// bump wakes the waiters on changed. Called with s.mu held for writing.
func (s *peerSet) bumpLocked() {
	close(s.notify)
	s.notify = make(chan struct{})
}

func (s *peerSet) bump() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bumpLocked()
}

func (s *peerSet) has(p peer.ID) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.m[p]
	return ok
}

func (s *peerSet) len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

func (s *peerSet) list() []*peerEntry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*peerEntry, 0, len(s.m))
	for _, e := range s.m {
		out = append(out, e)
	}
	return out
}

// startPeerEvents subscribes to libp2p's identify and connectedness events
// and runs the loop that keeps the peer set and emits PeerEvents.
func (h *Host) startPeerEvents() error {
	sub, err := h.h.EventBus().Subscribe([]any{
		new(event.EvtPeerIdentificationCompleted),
		new(event.EvtPeerConnectednessChanged),
	}, eventbus.BufSize(busBuffer))
	if err != nil {
		return fmt.Errorf("p2p: subscribe to host events: %w", err)
	}
	h.spawn(func() {
		defer sub.Close()
		for {
			select {
			case <-h.ctx.Done():
				return
			case ev, ok := <-sub.Out():
				if !ok {
					return
				}
				switch ev := ev.(type) {
				case event.EvtPeerIdentificationCompleted:
					h.onIdentified(ev.Peer, ev.Conn, ev.Protocols)
				case event.EvtPeerConnectednessChanged:
					if ev.Connectedness == network.NotConnected {
						h.onDisconnected(ev.Peer)
					}
				}
			}
		}
	})
	return nil
}

// onIdentified admits a peer that speaks this network's protocols to the
// peer set, and turns away one that does not.
func (h *Host) onIdentified(p peer.ID, c network.Conn, protos []protocol.ID) {
	if p == h.self || h.peers.has(p) {
		return
	}
	if !slices.Contains(protos, h.protocolID(pexName)) {
		h.log.Debug("disconnecting peer of another network", "peer", p)
		h.gater.markForeign(p)
		h.peers.bump()
		// Hang up after a moment, so the other side's identify of us
		// completes and it too learns why (ErrWrongNetwork, not a bare
		// closed connection). The gater already refuses anything new.
		h.spawn(func() {
			t := time.NewTimer(foreignCloseDelay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-h.ctx.Done():
			}
			_ = h.h.Network().ClosePeer(p)
		})
		return
	}
	h.addPeer(p, c)
}

// addPeer adds a connected peer of this network to the set and announces
// it. It does nothing if the peer is already in the set or no longer
// connected.
func (h *Host) addPeer(p peer.ID, c network.Conn) {
	e := &peerEntry{id: p, pid: p2p.PeerID(p.String()), connectedAt: time.Now()}
	if c != nil {
		e.remote = addrString(c.RemoteMultiaddr())
		if c.Stat().Direction == network.DirOutbound {
			e.dir = p2p.Outbound
		}
	}
	h.peers.mu.Lock()
	if _, ok := h.peers.m[p]; ok || h.h.Network().Connectedness(p) != network.Connected {
		h.peers.mu.Unlock()
		return
	}
	h.peers.m[p] = e
	h.peers.bumpLocked()
	h.peers.mu.Unlock()

	h.h.ConnManager().TagPeer(p, chainPeerTag, chainPeerTagValue)
	h.log.Debug("peer connected", "peer", e.pid.Short(), "addr", e.remote, "dir", e.dir)
	h.emit(p2p.PeerEvent{Peer: e.pid, Connected: true, Addr: e.remote})
	if h.cfg.PeerExchange {
		h.spawn(func() { h.exchangeWith(p) })
	}
}

func (h *Host) onDisconnected(p peer.ID) {
	h.peers.mu.Lock()
	e, ok := h.peers.m[p]
	delete(h.peers.m, p)
	h.peers.bumpLocked()
	h.peers.mu.Unlock()
	if !ok {
		return
	}
	h.log.Debug("peer disconnected", "peer", e.pid.Short())
	h.emit(p2p.PeerEvent{Peer: e.pid, Connected: false, Addr: e.remote})
	if h.isKept(p) {
		select {
		case h.redialKick <- struct{}{}:
		default:
		}
	}
}

func (h *Host) emit(ev p2p.PeerEvent) {
	if n := h.events.Send(ev); n > 0 {
		h.log.Warn("peer event dropped: subscriber too slow", "peer", ev.Peer.Short(), "connected", ev.Connected, "subscribers", n)
	}
}

// Peers lists the connected peers of this network. See Network.
func (h *Host) Peers() []p2p.PeerInfo {
	if !h.started() {
		return nil
	}
	entries := h.peers.list()
	out := make([]p2p.PeerInfo, 0, len(entries))
	for _, e := range entries {
		info := p2p.PeerInfo{
			ID:          e.pid,
			Remote:      e.remote,
			Direction:   e.dir,
			Penalty:     h.book.Points(string(e.pid)),
			ConnectedAt: e.connectedAt,
		}
		for _, a := range h.h.Peerstore().Addrs(e.id) {
			info.Addrs = append(info.Addrs, a.String()+"/p2p/"+e.pid.String())
			if hp, ok := hostPort(a); ok {
				info.HostPorts = append(info.HostPorts, hp)
			}
		}
		slices.Sort(info.Addrs)
		slices.Sort(info.HostPorts)
		info.HostPorts = slices.Compact(info.HostPorts)
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b p2p.PeerInfo) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out
}

// hostPort renders an IP or DNS based TCP/UDP multiaddr (including
// WebSocket ones) as "host:port".
func hostPort(a ma.Multiaddr) (string, bool) {
	if len(a) < 2 {
		return "", false
	}
	switch a[0].Protocol().Code {
	case ma.P_IP4, ma.P_IP6, ma.P_DNS, ma.P_DNS4, ma.P_DNS6:
	default:
		return "", false
	}
	switch a[1].Protocol().Code {
	case ma.P_TCP, ma.P_UDP:
	default:
		return "", false
	}
	return net.JoinHostPort(a[0].Value(), a[1].Value()), true
}

// addrString renders a connection address as "host:port" when it can and
// as a multiaddr otherwise.
func addrString(a ma.Multiaddr) string {
	if a == nil {
		return ""
	}
	if hp, ok := hostPort(a); ok {
		return hp
	}
	return a.String()
}

// waitIdentified waits until every current connection to p is identified.
func (h *Host) waitIdentified(ctx context.Context, p peer.ID) error {
	ider, ok := h.h.(interface{ IDService() identify.IDService })
	if !ok {
		return nil
	}
	for _, c := range h.h.Network().ConnsToPeer(p) {
		select {
		case <-ider.IDService().IdentifyWait(c):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
