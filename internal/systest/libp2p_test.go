package systest

import (
	"slices"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/internal/testnet"
	"github.com/chaind/chaind/internal/testnet/wait"
	"github.com/chaind/chaind/netsync"
)

// TestLibp2pLateJoinThreePeers: a node joining late syncs a 5,000-block
// chain over real libp2p connections from three peers, and downloads from
// more than one of them.
func TestLibp2pLateJoinThreePeers(t *testing.T) {
	// 5,000 blocks in -short too: a 1,000-block sync on memory stores is
	// over (in about 20 ms) before the second peer's dial and status
	// exchange complete, so no other peer could serve a block.
	n := 5000
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	blocks := buildChain(p, 4, n, 0, 11)
	c := libp2pCluster(t, testnet.Config{Nodes: 4, Params: p, StatusInterval: netsync.DefaultStatusInterval, RequestTimeout: netsync.DefaultRequestTimeout})
	for i := 0; i < 3; i++ {
		load(t, c.N(i), blocks)
	}
	j := c.N(3)
	start := time.Now()
	c.ConnectPeers(3, 0, 1, 2)
	want := blocks[n-1].Hash()
	c.WaitForTip(60*time.Second, want, 3)
	took := time.Since(start)
	var from int
	var counts []uint64
	for _, ps := range j.Node().Sync.Peers() {
		counts = append(counts, ps.BlocksFetched)
		if ps.BlocksFetched > 0 {
			from++
		}
	}
	t.Logf("synced %d blocks in %v (%.0f blocks/s); blocks per peer %v", n, took.Round(time.Millisecond), float64(n)/took.Seconds(), counts)
	if from < 2 {
		t.Fatalf("downloaded from %d peer(s), want more than one: %v", from, counts)
	}
}

// TestLibp2pDuelingMiners: two nodes mine a block at the same height, each
// with its own transaction, while cut off from each other; after they meet
// again the next block decides, every node follows it, and the losing
// block's transaction returns to the mempool and is mined later.
func TestLibp2pDuelingMiners(t *testing.T) {
	keys := chaintest.Keys(4)
	p := chaintest.Params(keys, 1_000_000_000)
	c := libp2pCluster(t, testnet.Config{Nodes: 3, Params: p, StatusInterval: time.Second})
	a, b, cn := c.N(0), c.N(1), c.N(2)
	c.ConnectAll()
	mine(t, a, false)
	c.WaitForConvergence(10 * time.Second)

	c.Partition([]int{0}, []int{1}, []int{2})
	tx1 := chaintest.Tx(p, keys[1], keys[3].Address(), 1000, 5, 0)
	tx2 := chaintest.Tx(p, keys[2], keys[3].Address(), 2000, 5, 0)
	a1 := mine(t, a, false, tx1)
	b1 := mine(t, b, false, tx2)
	time.Sleep(300 * time.Millisecond) // their gossip is ignored across the cut
	c.Heal()
	c.WaitFor(10*time.Second, "c takes one of the two blocks", func() bool {
		h := cn.Tip().Hash
		return h == a1.Hash() || h == b1.Hash()
	})
	if a.Tip().Hash != a1.Hash() || b.Tip().Hash != b1.Hash() {
		t.Fatalf("a duel needs each miner on its own block: a at %s, b at %s", a.Tip().Hash, b.Tip().Hash)
	}

	a2 := mine(t, a, false)
	c.WaitForTip(10*time.Second, a2.Hash())
	c.WaitFor(10*time.Second, "the losing tx back in every mempool", func() bool {
		for _, x := range c.Nodes() {
			if !x.HasTx(tx2.ID()) {
				return false
			}
		}
		return true
	})
	a3 := mine(t, a, true)
	if !slices.ContainsFunc(a3.Txs, func(tx *chain.Tx) bool { return tx.ID() == tx2.ID() }) {
		t.Fatal("the next block does not carry the losing block's transaction")
	}
	c.WaitForTip(10*time.Second, a3.Hash())
	for _, x := range c.Nodes() {
		for _, tx := range []*chain.Tx{tx1, tx2} {
			if _, conf, err := x.Node().Chain.TxLocation(tx.ID()); err != nil || conf == 0 {
				t.Fatalf("%s: tx %s not on the main chain: %v", x.ID.Short(), tx.ID(), err)
			}
		}
	}
}

// TestLibp2pPartitionHeal: four nodes split 2|2, both halves mine (one
// more), and after healing all four follow the heavier chain.
func TestLibp2pPartitionHeal(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	c := libp2pCluster(t, testnet.Config{Nodes: 4, Params: p, StatusInterval: 2 * time.Second})
	c.ConnectAll()
	for _, miner := range []int{0, 2} {
		mine(t, c.N(miner), false)
		c.WaitForConvergence(10 * time.Second)
	}

	halfA, halfB := []int{0, 1}, []int{2, 3}
	c.Partition(halfA, halfB)
	for i := 0; i < 3; i++ {
		mine(t, c.N(halfA[i%2]), false)
		if i < 2 {
			mine(t, c.N(halfB[i%2]), false)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.WaitFor(10*time.Second, "each half on its own tip", func() bool {
		return testnet.SameTip(c.N(0), c.N(1)) && testnet.SameTip(c.N(2), c.N(3)) && c.N(0).Tip().Hash != c.N(2).Tip().Hash
	})
	heavy := c.N(0).Tip()
	if heavy.Work.Cmp(c.N(2).Tip().Work) <= 0 {
		t.Fatal("half A has no more work")
	}
	healed := time.Now()
	c.Heal()
	c.WaitForTip(5*time.Second, heavy.Hash)
	t.Logf("converged %v after healing", time.Since(healed).Round(time.Millisecond))
}

// TestLibp2pRestart: a node stopped and restarted on the same data
// directory (Pebble store, persistent identity) rejoins and catches up.
func TestLibp2pRestart(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	c := libp2pCluster(t, testnet.Config{Nodes: 2, Params: p, Pebble: true, StatusInterval: time.Second})
	h, m := c.N(0), c.N(1)
	c.Connect(0, 1)
	for i := 0; i < 5; i++ {
		mine(t, m, false)
	}
	c.WaitForTip(10*time.Second, m.Tip().Hash, 0)
	before, id := h.Tip(), h.Node().Net.Self()
	c.Stop(0)
	c.Disconnect(0, 1) // so the restarted node is seen before it catches up
	for i := 0; i < 20; i++ {
		mine(t, m, false)
	}
	c.Start(0)
	if got := h.Node().Net.Self(); got != id {
		t.Fatalf("identity changed across the restart: %s, was %s", got, id)
	}
	if got := h.Tip(); got.Hash != before.Hash {
		t.Fatalf("reopened at %d, stopped at %d", got.Height, before.Height)
	}
	c.Connect(0, 1)
	c.WaitForTip(10*time.Second, m.Tip().Hash, 0)
	if h.Tip().Height != before.Height+20 {
		t.Fatalf("height %d, want %d", h.Tip().Height, before.Height+20)
	}
}

// TestLibp2pPartitionOutlivesRestart: a node crashed and started again
// inside a partition stays cut off (testnet cuts its new network again and
// does not dial across the cut), and after Heal it catches up.
func TestLibp2pPartitionOutlivesRestart(t *testing.T) {
	c := libp2pCluster(t, testnet.Config{Nodes: 3, StatusInterval: 300 * time.Millisecond})
	c.ConnectAll()
	c.Partition([]int{0, 1}, []int{2})
	c.Crash(2)
	c.Start(2)
	b := mine(t, c.N(0), false)
	c.WaitForTip(10*time.Second, b.Hash(), 1)
	if wait.Until(time.Second, func() bool { return c.N(2).Tip().Hash == b.Hash() }) {
		t.Fatal("a block crossed the partition after the restart")
	}
	c.Heal()
	c.WaitForTip(10*time.Second, b.Hash())
}
