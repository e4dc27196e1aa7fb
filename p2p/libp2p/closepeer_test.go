package libp2p

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/chaind/chaind/p2p"
)

// TestClosePeer: closing a peer drops the connection on both sides with no
// penalty (nothing redials it: gossip never dials), and the peer may
// connect again at once, gossip flowing both ways again.
func TestClosePeer(t *testing.T) {
	ra, rb := newRecorder(), newRecorder()
	gossiping := func(r *recorder) func(*Host) {
		return func(h *Host) {
			if err := h.HandleGossip("blocks", r.handle); err != nil {
				t.Fatal(err)
			}
		}
	}
	a := startHost(t, testConfig(testNet), gossiping(ra))
	b := startHost(t, testConfig(testNet), gossiping(rb))
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
	aid, _ := peer.Decode(string(a.Self()))
	bid, _ := peer.Decode(string(b.Self()))
	waitFor(t, 10*time.Second, "each in the other's topic peers again", func() bool {
		return slices.Contains(a.topicPeers("blocks"), bid) && slices.Contains(b.topicPeers("blocks"), aid)
	})
	for i, pair := range [][2]*Host{{a, b}, {b, a}} {
		from, to := pair[0], pair[1]
		msg := fmt.Sprintf("after the reconnect %d", i)
		if err := from.Publish("blocks", []byte(msg)); err != nil {
			t.Fatal(err)
		}
		got := map[*Host]*recorder{a: ra, b: rb}[to]
		waitFor(t, 10*time.Second, msg, func() bool { _, ok := got.has(msg); return ok })
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
