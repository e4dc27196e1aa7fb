package memnet

import (
	"fmt"

	"github.com/chaind/chaind/p2p"
)

// ShapeLink sets the parameters of the link between this node and peer
// (memnet's links are symmetric: both directions). It fails when there is
// no such link. See p2p.Shaper.
func (nd *Node) ShapeLink(peer p2p.PeerID, s p2p.LinkShape) error {
	if err := s.Check(); err != nil {
		return err
	}
	return nd.net.Shape(nd.id, peer, LinkParams{Latency: s.Latency, Jitter: s.Jitter, Loss: s.Loss, Bandwidth: s.Bandwidth})
}

// Cut takes the link between this node and peer down until Uncut (both
// ends see a disconnect), whatever the partition says. See p2p.Shaper.
func (nd *Node) Cut(peer p2p.PeerID) error { return nd.setCut(peer, true) }

// Uncut brings the link back up if nothing else keeps it down. See p2p.Shaper.
func (nd *Node) Uncut(peer p2p.PeerID) error { return nd.setCut(peer, false) }

func (nd *Node) setCut(peer p2p.PeerID, cut bool) error {
	if peer == nd.id {
		return p2p.ErrSelf
	}
	n := nd.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.nodes[peer] == nil {
		return fmt.Errorf("memnet: cut %s-%s: unknown node", nd.id, peer)
	}
	if cur := n.nodes[nd.id]; cur != nd {
		return fmt.Errorf("memnet: cut %s-%s: %w", nd.id, peer, p2p.ErrClosed)
	}
	if cut {
		nd.cuts[peer] = true
	} else {
		delete(nd.cuts, peer)
	}
	n.refreshNode(nd)
	return nil
}

// isCut reports whether either of a and b cut the other.
func (n *Net) isCut(a, b p2p.PeerID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	na, nb := n.nodes[a], n.nodes[b]
	return na != nil && na.cuts[b] || nb != nil && nb.cuts[a]
}
