package testnet_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/testnet"
	"github.com/chaind/chaind/internal/testnet/wait"
)

// TestPartitionHealConverges: four nodes split 2|2, both halves mine (one
// more), and after Heal all four follow the heavier half.
func TestPartitionHealConverges(t *testing.T) {
	c := testnet.New(t, testnet.Config{Nodes: 4})
	c.ConnectAll()
	c.N(0).Mine("")
	c.WaitForConvergence(5 * time.Second)

	c.Partition([]int{0, 1}, []int{2, 3})
	c.N(0).Mine("")
	c.WaitForTip(5*time.Second, c.N(0).Tip().Hash, 1)
	c.N(1).Mine("")
	c.N(2).Mine("")
	if !wait.Until(5*time.Second, func() bool {
		return testnet.SameTip(c.N(0), c.N(1)) && testnet.SameTip(c.N(2), c.N(3)) && !testnet.SameTip(c.Nodes()...)
	}) {
		t.Fatalf("halves not apart: %s", testnet.TipSummary(c.Nodes()...))
	}
	heavy := c.N(0).Tip()
	if heavy.Height != 3 || c.N(2).Tip().Height != 2 {
		t.Fatalf("halves at %s", testnet.TipSummary(c.Nodes()...))
	}
	c.Heal()
	if tip := c.WaitForConvergence(5 * time.Second); tip.Hash != heavy.Hash {
		t.Fatalf("converged on %d, not the heavier half's %d", tip.Height, heavy.Height)
	}
}

// TestShapeSlowsALink: a 300 ms link delays a block by at least that.
func TestShapeSlowsALink(t *testing.T) {
	c := testnet.New(t, testnet.Config{Nodes: 2})
	c.Connect(0, 1)
	c.Shape(0, 1, 300*time.Millisecond, 0, 0)
	b := c.N(0).Mine("")
	start := time.Now()
	c.WaitForTip(5*time.Second, b.Hash(), 1)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("block crossed a 300 ms link in %v", d)
	}
}

// TestTipSummary names the nodes on each tip.
func TestTipSummary(t *testing.T) {
	c := testnet.New(t, testnet.Config{Nodes: 3})
	c.N(2).Mine("")
	s := testnet.TipSummary(c.Nodes()...)
	if !strings.Contains(s, "2 at 0") || !strings.Contains(s, "1 at 1") || !strings.Contains(s, string(c.N(2).ID)) {
		t.Fatalf("summary %q", s)
	}
	if testnet.SameTip(c.Nodes()...) || !testnet.SameTip(c.N(0), c.N(1)) {
		t.Fatal("SameTip")
	}
}

// TestMemnetDuelingMiners: the memnet twin of internal/systest's libp2p
// dueling-miners test. Two nodes mine a block at the same height, each
// with its own transaction, while cut off from each other; after they meet
// again the next block decides, every node follows it, and the losing
// block's transaction ends up on the main chain all the same.
func TestMemnetDuelingMiners(t *testing.T) {
	c := testnet.New(t, testnet.Config{Nodes: 3})
	c.ConnectAll()
	a, b, cn := c.N(0), c.N(1), c.N(2)
	a.Mine("")
	c.WaitForConvergence(5 * time.Second)

	c.Partition([]int{0}, []int{1}, []int{2})
	tx1 := a.Send(cn.Address(), 1000, 5)
	tx2 := b.Send(cn.Address(), 2000, 5)
	a1 := a.Mine("")
	b1 := b.Mine("")
	if len(a1.Txs) != 2 || len(b1.Txs) != 2 {
		t.Fatalf("duel blocks carry %d and %d txs", len(a1.Txs), len(b1.Txs))
	}
	c.Heal()
	c.WaitFor(5*time.Second, "c takes one of the two blocks", func() bool {
		h := cn.Tip().Hash
		return h == a1.Hash() || h == b1.Hash()
	})
	if a.Tip().Hash != a1.Hash() || b.Tip().Hash != b1.Hash() {
		t.Fatalf("a duel needs each miner on its own block: %s", testnet.TipSummary(c.Nodes()...))
	}

	a2 := a.Mine("")
	c.WaitForTip(5*time.Second, a2.Hash())
	// The losing block's transaction is not lost: a may have learnt it
	// from b after the heal and mined it in a2; otherwise it returns to
	// the pool of b, which disconnected b1, and b's next block carries it.
	// (The others need not have it: b announced it during the partition,
	// and the transport drops a node's re-announcement of a message it
	// already published, as gossipsub does within its seen-cache time.)
	if !slices.ContainsFunc(a2.Txs, func(tx *chain.Tx) bool { return tx.ID() == tx2.ID() }) {
		c.WaitFor(5*time.Second, "the losing tx back in b's mempool", func() bool { return b.HasTx(tx2.ID()) })
		b3 := b.Mine("")
		if !slices.ContainsFunc(b3.Txs, func(tx *chain.Tx) bool { return tx.ID() == tx2.ID() }) {
			t.Fatal("b's next block does not carry its losing block's transaction")
		}
		c.WaitForTip(5*time.Second, b3.Hash())
	}
	for _, nd := range c.Nodes() {
		for _, tx := range []*chain.Tx{tx1, tx2} {
			if _, conf, err := nd.Node().Chain.TxLocation(tx.ID()); err != nil || conf == 0 {
				t.Fatalf("%s: tx %s not on the main chain: %v", nd.ID, tx.ID(), err)
			}
		}
	}
}
