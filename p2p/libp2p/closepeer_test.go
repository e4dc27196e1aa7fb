package libp2p

import (
	"errors"
	"testing"
	"time"

	"github.com/chaind/chaind/p2p"
)

// TestClosePeer: closing a peer drops the connection on both sides with no
// penalty, and the peer may connect again at once.
func TestClosePeer(t *testing.T) {
	a := startHost(t, testConfig(testNet), nil)
	b := startHost(t, testConfig(testNet), nil)
	connect(t, a, b)
	waitFor(t, 10*time.Second, "a and b connected", func() bool { return hasPeer(a, b.Self()) && hasPeer(b, a.Self()) })
	if err := a.ClosePeer(b.Self()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the link down on both sides", func() bool { return !hasPeer(a, b.Self()) && !hasPeer(b, a.Self()) })
	connect(t, b, a)
	waitFor(t, 10*time.Second, "a and b connected again", func() bool { return hasPeer(a, b.Self()) && hasPeer(b, a.Self()) })
	if pi, _ := peerInfo(a, b.Self()); pi.Penalty != 0 {
		t.Fatalf("closing cost the peer %d points", pi.Penalty)
	}
	if err := a.ClosePeer("not-a-peer-id"); !errors.Is(err, p2p.ErrBadAddress) {
		t.Fatalf("bad peer id: %v", err)
	}
	h, err := NewHost(testConfig(testNet))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ClosePeer(b.Self()); !errors.Is(err, p2p.ErrNotStarted) {
		t.Fatalf("before Start: %v", err)
	}
	_ = h.Close()
	if err := h.ClosePeer(b.Self()); !errors.Is(err, p2p.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
