package p2p

import (
	"errors"
	"fmt"
	"time"
)

// Bounds of a LinkShape.
const (
	// MaxShapeDelay bounds a shape's latency and jitter. Delays of more
	// than a few seconds each way can trip a transport's keep-alive (yamux
	// pings time out after 10 s) and end the connection.
	MaxShapeDelay = time.Minute
)

// Errors of a Shaper.
var (
	// ErrBadShape is returned for a LinkShape out of range.
	ErrBadShape = errors.New("p2p: bad link shape")
	// ErrCut is returned when dialling a peer this node has cut.
	ErrCut = errors.New("p2p: link to peer is cut")
)

// LinkShape is how a link to one peer behaves: what this node sends waits
// Latency plus a random extra delay of up to Jitter, is lost with
// probability Loss, and crosses at Bandwidth bytes per second (0:
// unlimited). The zero value is an unshaped link.
//
// What loss means depends on the transport. memnet loses whole gossip
// messages (requests are never lost). On a reliable stream (libp2p over
// TCP) nothing is lost: a lost segment is sent again after a retransmission
// timeout, and everything written after it waits behind it (head-of-line
// blocking), so loss shows up as delay. See package p2p/libp2p.
type LinkShape struct {
	Latency   time.Duration
	Jitter    time.Duration
	Loss      float64
	Bandwidth int64
}

// Check reports a shape out of range.
func (s LinkShape) Check() error {
	switch {
	case s.Latency < 0 || s.Latency > MaxShapeDelay:
		return fmt.Errorf("%w: latency %v not in 0..%v", ErrBadShape, s.Latency, MaxShapeDelay)
	case s.Jitter < 0 || s.Jitter > MaxShapeDelay:
		return fmt.Errorf("%w: jitter %v not in 0..%v", ErrBadShape, s.Jitter, MaxShapeDelay)
	case !(s.Loss >= 0 && s.Loss <= 1):
		return fmt.Errorf("%w: loss %v not in 0..1", ErrBadShape, s.Loss)
	case s.Bandwidth < 0:
		return fmt.Errorf("%w: bandwidth %d bytes/s is negative", ErrBadShape, s.Bandwidth)
	}
	return nil
}

// Zero reports whether the shape leaves the link as it is.
func (s LinkShape) Zero() bool { return s == LinkShape{} }

// Shaper is implemented by networks whose links to chosen peers can be
// slowed and cut without root (the libp2p Host, memnet): the lab's link
// shapes and partitions. It is optional, like Addressed and Keeper.
//
// A shape applies to what this node sends to the peer; to shape a link in
// both directions, shape it at both ends (memnet's links are symmetric, so
// there shaping one end shapes both). A cut is enforced by the node that
// makes it, in both directions: its connections with the peer are closed
// and new ones, dialled or accepted, are refused until Uncut.
type Shaper interface {
	// ShapeLink sets the shape of this node's link to peer from now on;
	// the zero shape removes it. Bytes already sent keep their timing.
	ShapeLink(peer PeerID, s LinkShape) error
	// Cut closes this node's connections with peer and refuses new ones
	// until Uncut. Kept peers are not redialled while cut.
	Cut(peer PeerID) error
	// Uncut lets peer connect again (a kept peer is redialled at once).
	Uncut(peer PeerID) error
}
