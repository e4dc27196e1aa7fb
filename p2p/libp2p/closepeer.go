package libp2p

import (
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/chaind/chaind/p2p"
)

// ClosePeer closes every connection to the peer id, without a ban or a
// penalty: the peer sees a disconnect and may dial again (a kept peer is
// redialled by the keep loop). Tests use it to take a link down.
func (h *Host) ClosePeer(id p2p.PeerID) error {
	if !h.started() {
		if h.state.Load() == stateClosed {
			return p2p.ErrClosed
		}
		return p2p.ErrNotStarted
	}
	pid, err := peer.Decode(string(id))
	if err != nil {
		return fmt.Errorf("%w: peer id %q: %v", p2p.ErrBadAddress, id, err)
	}
	if err := h.h.Network().ClosePeer(pid); err != nil {
		return fmt.Errorf("p2p: close %s: %w", id.Short(), err)
	}
	return nil
}
