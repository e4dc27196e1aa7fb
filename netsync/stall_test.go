package netsync

import (
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/p2p/memnet"
)

// TestStalledHeadersPenalised (memnet; issue 8, finding 4): a peer that
// announces more work than ours and never answers a headers request in
// time is charged PenaltyStall for each timed-out request, as a peer that
// stalls block requests is: stalling costs points.
func TestStalledHeadersPenalised(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	c := newMemCluster(t, 1, p, nodeOpts{statusInterval: 200 * time.Millisecond, requestTimeout: 200 * time.Millisecond})
	victim := c.nodes[0]
	stall := &fakePeer{p: p, net: c.net.NewNode(), claim: claimAhead(p, 100),
		headers: func(chain.Hash, uint32) []chain.Header {
			time.Sleep(time.Second) // past the victim's request timeout
			return nil
		}}
	startFake(t, stall)
	c.startAll(t)
	if err := c.net.Link(victim.net.Self(), stall.net.Self(), memnet.LinkParams{Latency: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	penalty := func() int {
		for _, pi := range victim.net.Peers() {
			if pi.ID == stall.net.Self() {
				return pi.Penalty
			}
		}
		return 0
	}
	waitFor(t, 10*time.Second, "the staller charged for a timed-out headers request", func() bool { return penalty() >= PenaltyStall })
	if victim.tip().Height != 0 {
		t.Fatal("the victim moved")
	}
}
