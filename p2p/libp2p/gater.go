package libp2p

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/chaind/chaind/p2p/internal/penalty"
)

// ForeignBackoff is how long a peer found to be on another network (or not
// a chaind node at all) is neither dialled nor accepted.
const ForeignBackoff = 10 * time.Minute

// foreignCloseDelay is how long a connection to a peer of another network
// stays open after identify, so both sides learn the reason.
const foreignCloseDelay = 500 * time.Millisecond

// maxForeign bounds the foreign-peer list.
const maxForeign = 4096

// gater is the host's connection gater: it refuses banned peers, banned
// addresses (see ipGuard: a banned identity's address is banned with it,
// except loopback and Exempt prefixes) and, for a while, peers of other
// networks, in both directions.
type gater struct {
	book *penalty.Book
	ips  *ipGuard

	mu      sync.Mutex
	foreign map[peer.ID]time.Time
}

func newGater(book *penalty.Book, limits IPLimits) *gater {
	return &gater{book: book, ips: newIPGuard(limits), foreign: make(map[peer.ID]time.Time)}
}

// markForeign refuses p for ForeignBackoff.
func (g *gater) markForeign(p peer.ID) {
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.foreign) >= maxForeign {
		for id, until := range g.foreign {
			if !now.Before(until) || len(g.foreign) >= maxForeign {
				delete(g.foreign, id)
			}
		}
	}
	g.foreign[p] = now.Add(ForeignBackoff)
}

// isForeign reports whether p is currently marked as of another network.
func (g *gater) isForeign(p peer.ID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.foreign[p]
	return ok && time.Now().Before(until)
}

// allowed reports whether connections with p are permitted.
func (g *gater) allowed(p peer.ID) bool {
	if banned, _ := g.book.Banned(p.String()); banned {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.foreign[p]
	if !ok {
		return true
	}
	if time.Now().Before(until) {
		return false
	}
	delete(g.foreign, p)
	return true
}

func (g *gater) InterceptPeerDial(p peer.ID) bool { return g.allowed(p) }

func (g *gater) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool {
	return !g.ips.bannedAddr(a) && g.allowed(p)
}

// InterceptAccept refuses a banned address before any handshake.
func (g *gater) InterceptAccept(c network.ConnMultiaddrs) bool {
	return !g.ips.bannedAddr(c.RemoteMultiaddr())
}

func (g *gater) InterceptSecured(_ network.Direction, p peer.ID, c network.ConnMultiaddrs) bool {
	return !g.ips.bannedAddr(c.RemoteMultiaddr()) && g.allowed(p)
}

func (g *gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }
