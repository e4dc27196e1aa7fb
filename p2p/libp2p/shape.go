package libp2p

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/sec"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/chaind/chaind/p2p"
)

// Link shaping and cuts (p2p.Shaper) without root and without tc: every
// secured connection is wrapped, below the stream multiplexer, in a
// shapedConn that holds back what this node writes to the peer, and a
// gater refuses connections with cut peers. Everything the node sends to
// the peer (gossip, requests, responses, identify, yamux's own frames) is
// shaped alike, as a slow network link would.
//
// How each parameter is modelled, per Write of the multiplexer (a yamux
// frame, usually a few bytes to 16 KiB):
//   - Bandwidth: the write occupies the link for len/Bandwidth after the
//     writes before it (a serialising link), then travels Latency.
//   - Jitter: a uniform extra delay in [0, Jitter], but the stream keeps
//     order, so a write is never delivered before the one before it.
//   - Loss: TCP is reliable, so nothing is lost. A write of n bytes covers
//     ceil(n/tcpSegment) segments; if any of them is lost (probability
//     1-(1-Loss)^segments) the write arrives one retransmission timeout
//     later, RTO = minRTO + 2*(Latency+Jitter) (Linux's 200 ms floor plus
//     a round trip), and each further loss of the retransmission (prob.
//     Loss) doubles the RTO, as TCP backs off, up to maxRetransmits. Every
//     write after it waits behind it (head-of-line blocking). Loss 100%
//     therefore means very slow, not cut: use Cut for a dead link.
//
// Only this node's direction is shaped; the lab shapes both ends.
const (
	// tcpSegment is the payload of one TCP segment on a 1500-byte MTU.
	tcpSegment = 1448
	// minRTO is Linux's floor of the retransmission timeout.
	minRTO = 200 * time.Millisecond
	// maxRetransmits bounds the retransmissions modelled for one write.
	maxRetransmits = 6
	// maxShapedQueue bounds the bytes a shaped connection holds back; a
	// Write beyond it blocks, as a full socket buffer does.
	maxShapedQueue = 8 << 20
)

// linkControl holds the shapes and cuts of a Host's links, per peer. Safe
// for concurrent use.
type linkControl struct {
	mu     sync.RWMutex
	shapes map[peer.ID]p2p.LinkShape
	cut    map[peer.ID]bool
}

func newLinkControl() *linkControl {
	return &linkControl{shapes: make(map[peer.ID]p2p.LinkShape), cut: make(map[peer.ID]bool)}
}

func (l *linkControl) shape(p peer.ID) p2p.LinkShape {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.shapes[p]
}

func (l *linkControl) setShape(p peer.ID, s p2p.LinkShape) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.Zero() {
		delete(l.shapes, p)
		return
	}
	l.shapes[p] = s
}

func (l *linkControl) isCut(p peer.ID) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cut[p]
}

func (l *linkControl) setCut(p peer.ID, cut bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cut {
		l.cut[p] = true
	} else {
		delete(l.cut, p)
	}
}

// cutGater refuses connections with cut peers, then asks the host's gater.
type cutGater struct {
	connmgr.ConnectionGater
	links *linkControl
}

func (g cutGater) InterceptPeerDial(p peer.ID) bool {
	return !g.links.isCut(p) && g.ConnectionGater.InterceptPeerDial(p)
}

func (g cutGater) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool {
	return !g.links.isCut(p) && g.ConnectionGater.InterceptAddrDial(p, a)
}

func (g cutGater) InterceptSecured(d network.Direction, p peer.ID, a network.ConnMultiaddrs) bool {
	return !g.links.isCut(p) && g.ConnectionGater.InterceptSecured(d, p, a)
}

func (g cutGater) InterceptUpgraded(c network.Conn) (bool, control.DisconnectReason) {
	if g.links.isCut(c.RemotePeer()) {
		return false, 0
	}
	return g.ConnectionGater.InterceptUpgraded(c)
}

// shapingTransport wraps the security transport so that every secured
// connection is a shapedConn.
type shapingTransport struct {
	sec.SecureTransport
	links *linkControl
}

func (t shapingTransport) SecureInbound(ctx context.Context, c net.Conn, p peer.ID) (sec.SecureConn, error) {
	sc, err := t.SecureTransport.SecureInbound(ctx, c, p)
	if err != nil {
		return nil, err
	}
	return newShapedConn(sc, t.links), nil
}

func (t shapingTransport) SecureOutbound(ctx context.Context, c net.Conn, p peer.ID) (sec.SecureConn, error) {
	sc, err := t.SecureTransport.SecureOutbound(ctx, c, p)
	if err != nil {
		return nil, err
	}
	return newShapedConn(sc, t.links), nil
}

func (t shapingTransport) ID() protocol.ID { return t.SecureTransport.ID() }

// chunk is one write held back until due.
type chunk struct {
	data []byte
	due  time.Time
}

// shapedConn holds back what is written to it according to the current
// shape of the link to its peer, and writes it to the secured connection
// when due, in order, from its own goroutine (which Close stops). An
// unshaped link with nothing held back is written straight through.
type shapedConn struct {
	sec.SecureConn
	peer  peer.ID
	links *linkControl

	// writeMu is held while writing to the SecureConn, and while checking
	// that nothing is held back before writing straight through, so that
	// writes reach the peer in order.
	writeMu sync.Mutex

	mu       sync.Mutex // guards the fields below
	rng      *rand.Rand
	queue    []chunk
	queued   int       // bytes in queue
	free     time.Time // when the bandwidth-limited link is next idle
	last     time.Time // due time of the last chunk: the stream keeps order
	err      error     // first write error, or net.ErrClosed after Close
	deadline time.Time // write deadline: bounds a Write waiting for room
	running  bool      // the writer goroutine was started (by the first held write)

	wake      chan struct{} // a chunk was queued
	room      chan struct{} // the queue shrank
	done      chan struct{} // closed by Close
	exited    chan struct{} // closed when run returns
	closeOnce sync.Once
	closeErr  error
}

func newShapedConn(sc sec.SecureConn, links *linkControl) *shapedConn {
	c := &shapedConn{
		SecureConn: sc,
		peer:       sc.RemotePeer(),
		links:      links,
		rng:        rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		wake:       make(chan struct{}, 1),
		room:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		exited:     make(chan struct{}),
	}
	return c
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Write shapes p and returns once it is held back (or written, on an
// unshaped link); it blocks only while maxShapedQueue bytes are held back.
func (c *shapedConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s := c.links.shape(c.peer)
	if s.Zero() {
		c.writeMu.Lock()
		c.mu.Lock()
		through, err := len(c.queue) == 0, c.err
		c.mu.Unlock()
		if err != nil {
			c.writeMu.Unlock()
			return 0, err
		}
		if through {
			n, err := c.SecureConn.Write(p)
			c.writeMu.Unlock()
			return n, err
		}
		c.writeMu.Unlock()
	}
	return c.hold(p, s)
}

// hold queues a copy of p with the delivery time its shape gives it.
func (c *shapedConn) hold(p []byte, s p2p.LinkShape) (int, error) {
	c.mu.Lock()
	for c.err == nil && c.queued > 0 && c.queued+len(p) > maxShapedQueue {
		deadline := c.deadline
		c.mu.Unlock()
		if err := c.waitRoom(deadline); err != nil {
			return 0, err
		}
		c.mu.Lock()
	}
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if !c.running {
		// Unshaped links (every link of a node outside the lab) never get
		// here: they pay no goroutine.
		c.running = true
		go c.run()
	}
	now := time.Now()
	sent := now
	if c.free.After(sent) {
		sent = c.free // a backlog left by an earlier bandwidth limit drains first
	}
	if s.Bandwidth > 0 {
		sent = sent.Add(time.Duration(float64(len(p)) / float64(s.Bandwidth) * float64(time.Second)))
		c.free = sent
	}
	due := sent.Add(s.Latency)
	if s.Jitter > 0 {
		due = due.Add(time.Duration(c.rng.Int64N(int64(s.Jitter) + 1)))
	}
	if s.Loss > 0 {
		due = due.Add(c.retransmission(len(p), s))
	}
	if due.Before(c.last) {
		due = c.last
	}
	c.last = due
	c.queue = append(c.queue, chunk{data: bytes.Clone(p), due: due})
	c.queued += len(p)
	signal(c.wake)
	return len(p), nil
}

// retransmission returns the extra delay loss gives a write of n bytes
// (see the model above). Called with mu held.
func (c *shapedConn) retransmission(n int, s p2p.LinkShape) time.Duration {
	segments := (n + tcpSegment - 1) / tcpSegment
	lostAny := 1 - math.Pow(1-s.Loss, float64(segments))
	if c.rng.Float64() >= lostAny {
		return 0
	}
	rto := minRTO + 2*(s.Latency+s.Jitter)
	delay := rto
	for range maxRetransmits - 1 {
		if c.rng.Float64() >= s.Loss {
			break
		}
		rto *= 2
		delay += rto
	}
	return delay
}

func (c *shapedConn) waitRoom(deadline time.Time) error {
	var expired <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-c.room:
		return nil
	case <-c.done:
		return net.ErrClosed
	case <-expired:
		return os.ErrDeadlineExceeded
	}
}

// run writes held-back chunks to the secured connection when they are due.
func (c *shapedConn) run() {
	defer close(c.exited)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var batch [][]byte
	for {
		c.mu.Lock()
		if c.err != nil {
			c.mu.Unlock()
			return
		}
		if len(c.queue) == 0 {
			c.mu.Unlock()
			select {
			case <-c.wake:
				continue
			case <-c.done:
				return
			}
		}
		wait := time.Until(c.queue[0].due)
		c.mu.Unlock()
		if wait > 0 {
			// Chunks queued meanwhile are never due before the head.
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-c.done:
				return
			}
			continue
		}
		c.writeMu.Lock()
		c.mu.Lock()
		now := time.Now()
		batch = batch[:0]
		for len(c.queue) > 0 && !c.queue[0].due.After(now) {
			batch = append(batch, c.queue[0].data)
			c.queued -= len(c.queue[0].data)
			c.queue[0] = chunk{}
			c.queue = c.queue[1:]
		}
		if len(c.queue) == 0 {
			c.queue = nil // let the backing array go
		}
		c.mu.Unlock()
		signal(c.room)
		for _, b := range batch {
			if _, err := c.SecureConn.Write(b); err != nil {
				c.mu.Lock()
				if c.err == nil {
					c.err = fmt.Errorf("shaped write to %s: %w", p2p.PeerID(c.peer.String()).Short(), err)
				}
				c.mu.Unlock()
				break
			}
		}
		c.writeMu.Unlock()
	}
}

// SetDeadline sets the read deadline of the secured connection and the
// write deadline of Write (see SetWriteDeadline).
func (c *shapedConn) SetDeadline(t time.Time) error {
	c.setWriteDeadline(t)
	return c.SecureConn.SetReadDeadline(t)
}

// SetWriteDeadline bounds how long Write may wait for room. It is not
// passed to the secured connection: held-back bytes are written later
// than the multiplexer's deadline (yamux sets one 10 s ahead), by design.
func (c *shapedConn) SetWriteDeadline(t time.Time) error {
	c.setWriteDeadline(t)
	return nil
}

func (c *shapedConn) setWriteDeadline(t time.Time) {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
}

// Close drops what is held back (as a cut link loses what is in flight),
// closes the secured connection and waits for the writer goroutine, if a
// shaped write started it.
func (c *shapedConn) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		if c.err == nil {
			c.err = net.ErrClosed
		}
		c.queue, c.queued = nil, 0
		running := c.running
		c.mu.Unlock()
		close(c.done)
		c.closeErr = c.SecureConn.Close()
		if running {
			<-c.exited
		}
	})
	return c.closeErr
}

var _ p2p.Shaper = (*Host)(nil)

// ShapeLink sets the shape of what this host sends to peer. See p2p.Shaper.
func (h *Host) ShapeLink(id p2p.PeerID, s p2p.LinkShape) error {
	if err := s.Check(); err != nil {
		return err
	}
	p, err := peer.Decode(string(id))
	if err != nil {
		return fmt.Errorf("p2p: shape link: peer id %q: %w", id, err)
	}
	h.links.setShape(p, s)
	return nil
}

// Cut closes the connections with peer and refuses new ones, dialled or
// accepted, until Uncut. See p2p.Shaper.
func (h *Host) Cut(id p2p.PeerID) error {
	p, err := peer.Decode(string(id))
	if err != nil {
		return fmt.Errorf("p2p: cut: peer id %q: %w", id, err)
	}
	if p == h.self {
		return p2p.ErrSelf
	}
	h.links.setCut(p, true)
	if h.started() {
		if err := h.h.Network().ClosePeer(p); err != nil {
			return fmt.Errorf("p2p: cut %s: %w", id.Short(), err)
		}
	}
	return nil
}

// Uncut lets peer connect again and, if it is a kept peer, dials it now.
// See p2p.Shaper.
func (h *Host) Uncut(id p2p.PeerID) error {
	p, err := peer.Decode(string(id))
	if err != nil {
		return fmt.Errorf("p2p: uncut: peer id %q: %w", id, err)
	}
	h.links.setCut(p, false)
	if !h.started() || !h.isKept(p) {
		return nil
	}
	var ai peer.AddrInfo
	for _, k := range h.keptPeers() {
		if k.ID == p {
			ai = k
		}
	}
	h.spawn(func() {
		ctx, cancel := context.WithTimeout(h.ctx, DiscoveryDialTimeout)
		defer cancel()
		if err := h.connect(ctx, ai); err != nil && h.ctx.Err() == nil {
			h.log.Debug("redial after uncut", "peer", id.Short(), "err", err)
		}
	})
	return nil
}
