package systest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/chaind/chaind/p2p"
)

// gatedNet wraps a p2p.Network and can cut this node off from chosen peers
// without closing connections or banning: requests to them fail as if not
// connected, their gossip and requests are ignored, and they leave Peers()
// with a Disconnected event (and come back with a Connected one). The
// libp2p host has no partitions yet, so the libp2p partition tests cut
// here, above the real transport: testnet.Config.Wrap puts the gate on
// every node and testnet's Partition and Heal drive it (Cut, Uncut).
type gatedNet struct {
	p2p.Network

	mu      sync.Mutex
	blocked map[p2p.PeerID]bool
	subs    map[chan p2p.PeerEvent]struct{}
}

var errGated = errors.New("gated: partitioned from peer")

func newGatedNet(inner p2p.Network) *gatedNet {
	return &gatedNet{Network: inner, blocked: map[p2p.PeerID]bool{}, subs: map[chan p2p.PeerEvent]struct{}{}}
}

func (g *gatedNet) isBlocked(id p2p.PeerID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.blocked[id]
}

// block cuts the node off from ids.
func (g *gatedNet) block(ids ...p2p.PeerID) {
	connected := g.connected()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, id := range ids {
		if g.blocked[id] {
			continue
		}
		g.blocked[id] = true
		if connected[id] {
			g.emitLocked(p2p.PeerEvent{Peer: id, Connected: false})
		}
	}
}

// Cut and Uncut let testnet's Partition and Heal drive the gate.
func (g *gatedNet) Cut(id p2p.PeerID) error {
	g.block(id)
	return nil
}

func (g *gatedNet) Uncut(id p2p.PeerID) error {
	connected := g.connected()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.blocked[id] {
		delete(g.blocked, id)
		if connected[id] {
			g.emitLocked(p2p.PeerEvent{Peer: id, Connected: true})
		}
	}
	return nil
}

func (g *gatedNet) connected() map[p2p.PeerID]bool {
	m := map[p2p.PeerID]bool{}
	for _, pi := range g.Network.Peers() {
		m[pi.ID] = true
	}
	return m
}

func (g *gatedNet) emitLocked(ev p2p.PeerEvent) {
	for ch := range g.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

func (g *gatedNet) Peers() []p2p.PeerInfo {
	var out []p2p.PeerInfo
	for _, pi := range g.Network.Peers() {
		if !g.isBlocked(pi.ID) {
			out = append(out, pi)
		}
	}
	return out
}

func (g *gatedNet) HandleGossip(topic string, h p2p.GossipHandler) error {
	return g.Network.HandleGossip(topic, func(from p2p.PeerID, data []byte) p2p.Verdict {
		if g.isBlocked(from) {
			return p2p.Ignore
		}
		return h(from, data)
	})
}

func (g *gatedNet) HandleRequest(name string, maxReq, maxResp int, h p2p.RequestHandler) error {
	return g.Network.HandleRequest(name, maxReq, maxResp, func(ctx context.Context, from p2p.PeerID, req []byte) ([]byte, error) {
		if g.isBlocked(from) {
			return nil, errGated
		}
		return h(ctx, from, req)
	})
}

func (g *gatedNet) Request(ctx context.Context, to p2p.PeerID, name string, req []byte) ([]byte, error) {
	if g.isBlocked(to) {
		return nil, fmt.Errorf("%w: %s", p2p.ErrNotConnected, to.Short())
	}
	return g.Network.Request(ctx, to, name, req)
}

func (g *gatedNet) Subscribe() (<-chan p2p.PeerEvent, func()) {
	in, cancel := g.Network.Subscribe()
	out := make(chan p2p.PeerEvent, p2p.EventBuffer)
	g.mu.Lock()
	g.subs[out] = struct{}{}
	g.mu.Unlock()
	go func() { // ends when the inner subscription is cancelled or closed
		for ev := range in {
			g.mu.Lock()
			if !g.blocked[ev.Peer] {
				select {
				case out <- ev:
				default:
				}
			}
			g.mu.Unlock()
		}
		g.mu.Lock()
		delete(g.subs, out)
		close(out)
		g.mu.Unlock()
	}()
	return out, cancel
}
