package libp2p

import (
	"testing"
	"time"

	"github.com/chaind/chaind/p2p"
)

// TestGossipMeshed: two connected hosts on one topic enter each other's
// gossip mesh (at a heartbeat), and leave it when the link closes.
func TestGossipMeshed(t *testing.T) {
	topic := func(h *Host) {
		if err := h.HandleGossip("t", newRecorder().handle); err != nil {
			t.Fatal(err)
		}
	}
	a := startHost(t, testConfig(testNet), topic)
	b := startHost(t, testConfig(testNet), topic)
	if a.GossipMeshed(b.Self()) {
		t.Fatal("meshed before connecting")
	}
	connect(t, a, b)
	waitFor(t, 10*time.Second, "a and b in each other's mesh", func() bool { return a.GossipMeshed(b.Self()) && b.GossipMeshed(a.Self()) })
	if err := a.ClosePeer(b.Self()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the mesh link gone", func() bool { return !a.GossipMeshed(b.Self()) && !b.GossipMeshed(a.Self()) })
	if a.GossipMeshed(p2p.PeerID("not-a-peer-id")) {
		t.Fatal("a bad peer id is meshed")
	}
}
