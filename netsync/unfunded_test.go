package netsync

import (
	"testing"
	"time"

	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/memnet"
)

// peerPenalty returns the points n holds against id, or -1 when id is not
// connected.
func peerPenalty(n p2p.Network, id p2p.PeerID) int {
	for _, pi := range n.Peers() {
		if pi.ID == id {
			return pi.Penalty
		}
	}
	return -1
}

// unfundedTxs returns n signed transactions from keys that hold nothing,
// each valid in every other respect.
func unfundedTxs(t testing.TB, p *consensus.Params, first, n int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	to := chaintest.Key(0).Address()
	for i := range out {
		out[i] = chaintest.Tx(p, chaintest.Key(first+i), to, 10, 1, 0).Encode()
	}
	return out
}

// TestUnfundedTxsPenalisedProportionately (memnet, three peers): a peer
// that floods transactions its senders cannot pay is banned, at a cost of
// no signature verification per transaction; an honest peer that relays a
// reorg race's worth of them (valid on its branch, unfunded on ours) pays
// a few points and stays connected; a bystander is untouched.
func TestUnfundedTxsPenalisedProportionately(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	c := newMemCluster(t, 2, p, nodeOpts{})
	victim, honest := c.nodes[0], c.nodes[1]
	f := &fakePeer{p: p, net: c.net.NewNode(), claim: claimLow(p)}
	startFake(t, f)
	c.link(t, 0, 1, 0)
	if err := c.net.Link(victim.net.Self(), f.net.Self(), memnet.LinkParams{}); err != nil {
		t.Fatal(err)
	}
	c.startAll(t)
	waitFor(t, 5*time.Second, "victim connected to both peers", func() bool {
		return hasPeer(victim.net, honest.net.Self()) && hasPeer(victim.net, f.net.Self())
	})

	// The honest peer relays 200 (20 points' worth at most).
	const honestTxs = 200
	for _, raw := range unfundedTxs(t, p, 1000, honestTxs) {
		if err := honest.net.Publish(TopicTxs, raw); err != nil {
			t.Fatal(err)
		}
	}
	want := honestTxs / UnfundedPerPoint * PenaltyUnfunded
	waitFor(t, 5*time.Second, "the honest relay charged", func() bool {
		return peerPenalty(victim.net, honest.net.Self()) >= want-1
	})

	// The attacker floods until banned.
	flood := unfundedTxs(t, p, 5000, 2*p2p.BanThreshold*UnfundedPerPoint)
	for _, raw := range flood {
		if !hasPeer(victim.net, f.net.Self()) {
			break
		}
		if err := f.net.Publish(TopicTxs, raw); err != nil {
			break // disconnected
		}
	}
	waitFor(t, 10*time.Second, "the flooding peer banned", func() bool { return !hasPeer(victim.net, f.net.Self()) })

	if got := peerPenalty(victim.net, honest.net.Self()); got < 0 || got >= p2p.BanThreshold/2 {
		t.Fatalf("honest relay holds %d points (want about %d, connected)", got, want)
	}
	if got := peerPenalty(honest.net, victim.net.Self()); got != 0 {
		t.Fatalf("the victim holds %d points at the honest node, want none", got)
	}
	if n := victim.pool.Len(); n != 0 {
		t.Fatalf("%d unfunded transactions admitted", n)
	}
}
