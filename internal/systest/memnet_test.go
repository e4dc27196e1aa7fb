package systest

import (
	"context"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/internal/testnet"
	"github.com/chaind/chaind/p2p/memnet"
)

// memCluster starts cfg.Nodes full nodes on one memnet network, logging as
// testLogger does.
func memCluster(t testing.TB, cfg testnet.Config) *testnet.Cluster {
	t.Helper()
	cfg.Transport = testnet.Memnet
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	return testnet.New(t, cfg)
}

// link connects a and b with a link of the given latency.
func link(c *testnet.Cluster, a, b int, latency time.Duration) {
	c.Connect(a, b)
	c.Shape(a, b, latency, 0, 0)
}

// bestOf returns the tip with the most work among nodes.
func bestOf(nodes []*testnet.Node) (chain.Hash, *big.Int) {
	var best chain.Hash
	work := new(big.Int)
	for _, n := range nodes {
		if t := n.Tip(); t.Work.Cmp(work) > 0 {
			best, work = t.Hash, t.Work
		}
	}
	return best, work
}

// TestMemnetPartitionHeal runs 100 nodes (30 with -short) in a random
// sparse graph with 20-100 ms links; five of them mine. The network splits
// into halves, the half with three miners mines more, and after healing
// every node must hold the same tip, on the heavier half's chain.
func TestMemnetPartitionHeal(t *testing.T) {
	n := 100
	if testing.Short() {
		n = 30
	}
	keys := chaintest.Keys(4)
	p := chaintest.Params(keys, 1_000_000_000)
	c := memCluster(t, testnet.Config{Nodes: n, Params: p, StatusInterval: time.Second, RequestTimeout: 3 * time.Second})
	rng := newRand(7)
	half := n / 2
	edges := map[[2]int]bool{}
	addEdge := func(a, b int) {
		if a == b || edges[[2]int{a, b}] || edges[[2]int{b, a}] {
			return
		}
		edges[[2]int{a, b}] = true
		link(c, a, b, time.Duration(20+rng.Intn(81))*time.Millisecond)
	}
	// A spanning tree inside each half keeps each half connected while
	// partitioned; random extra edges (some across) bring the degree to ~3.5.
	for i := 1; i < n; i++ {
		if i == half {
			continue
		}
		base := 0
		if i > half {
			base = half
		}
		addEdge(i, base+rng.Intn(i-base))
	}
	for len(edges) < n*7/4 {
		addEdge(rng.Intn(n), rng.Intn(n))
	}
	nodes := c.Nodes()
	minersA := []*testnet.Node{nodes[0], nodes[1], nodes[2]}
	minersB := []*testnet.Node{nodes[half], nodes[half+1]}
	all := append(append([]*testnet.Node(nil), minersA...), minersB...)

	const interval = 250 * time.Millisecond // four blocks a second in all
	for i := 0; i < 10; i++ {
		mine(t, all[i%len(all)], false)
		time.Sleep(interval)
	}
	c.WaitForConvergence(20 * time.Second)
	forkBase := nodes[0].Tip()

	groupA, groupB := make([]int, 0, half), make([]int, 0, n-half)
	for i := 0; i < n; i++ {
		if i < half {
			groupA = append(groupA, i)
		} else {
			groupB = append(groupB, i)
		}
	}
	c.Partition(groupA, groupB)
	for i := 0; i < 20; i++ {
		if i%4 == 3 {
			mine(t, minersB[(i/4)%2], false)
		} else {
			mine(t, minersA[i%3], false)
		}
		time.Sleep(interval)
	}
	time.Sleep(time.Second) // let each half settle
	bestA, workA := bestOf(nodes[:half])
	bestB, workB := bestOf(nodes[half:])
	if workA.Cmp(workB) <= 0 {
		t.Fatalf("half A (3 miners) has no more work than half B: %v vs %v", workA, workB)
	}
	if info, _ := nodes[half].Node().Chain.BlockInfo(bestA); info.Work != nil {
		t.Fatalf("half B knows half A's tip before healing: the partition leaked")
	}

	healed := time.Now()
	c.Heal()
	c.WaitFor(30*time.Second, "every node on a chain with the heavier half's work", func() bool {
		for _, nd := range nodes {
			if nd.Tip().Work.Cmp(workA) < 0 {
				return false
			}
		}
		return true
	})
	took := time.Since(healed)
	// Equal-work forks can survive until the next block: one more block
	// settles them.
	final := mine(t, minersA[0], false)
	c.WaitForTip(30*time.Second, final.Hash())
	t.Logf("%d nodes, %d links: all on the heavier chain %v after healing, on one tip %v after the next block; tip %d (fork base %d); memnet %+v",
		n, len(edges), took.Round(time.Millisecond), time.Since(healed).Round(time.Millisecond), final.Header.Height, forkBase.Height, c.Net.Stats())
	for _, nd := range nodes {
		if info, ok := nd.Node().Chain.BlockInfo(bestB); ok && info.MainChain {
			t.Fatalf("%s: the lighter half's tip %s is on the main chain", nd.ID, bestB)
		}
	}
	if tw := nodes[0].Tip().Work; tw.Cmp(workA) <= 0 {
		t.Fatalf("final work %v not above half A's %v", tw, workA)
	}
}

// TestMemnetLateJoin: a node that joins after 300 blocks syncs them from
// both peers, and its progress ends in step.
func TestMemnetLateJoin(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	blocks := buildChain(p, 4, 300, 2, 1)
	c := memCluster(t, testnet.Config{Nodes: 3, Params: p, StatusInterval: time.Hour})
	load(t, c.N(0), blocks)
	load(t, c.N(1), blocks)
	link(c, 0, 1, 10*time.Millisecond)
	s := c.N(2).Node().Sync
	if got := s.Progress(); got.Height != 0 || got.Syncing {
		t.Fatalf("fresh node progress %+v", got)
	}
	link(c, 2, 0, 10*time.Millisecond)
	link(c, 2, 1, 10*time.Millisecond)
	c.WaitForTip(20*time.Second, blocks[len(blocks)-1].Hash(), 2)
	var from int
	for _, ps := range s.Peers() {
		if ps.BlocksFetched > 0 {
			from++
		}
		if ps.BestHeight != 300 || ps.TotalWork == nil || ps.LastStatus.IsZero() {
			t.Errorf("peer state %+v", ps)
		}
	}
	if from != 2 {
		t.Errorf("blocks fetched from %d peers, want 2: %+v", from, s.Peers())
	}
	c.WaitFor(5*time.Second, "progress in step", func() bool {
		pr := s.Progress()
		return !pr.Syncing && pr.Height == 300 && pr.TargetHeight == 300 && pr.ETA == 0
	})
	if pr := s.Progress(); pr.BlocksPerSec <= 0 {
		t.Errorf("no connect rate after syncing 300 blocks: %+v", pr)
	}
}

// TestMemnetTxPropagation: a transaction sent to one node reaches every
// mempool of a line of five; a node joining later learns it from a peer's
// mempool; a block with it empties every mempool.
func TestMemnetTxPropagation(t *testing.T) {
	keys := chaintest.Keys(4)
	p := chaintest.Params(keys, 1_000_000_000)
	c := memCluster(t, testnet.Config{Nodes: 6, Params: p, StatusInterval: time.Hour})
	for i := 0; i < 4; i++ {
		link(c, i, i+1, 15*time.Millisecond)
	}
	line := c.Nodes()[:5]
	tx := chaintest.Tx(p, keys[1], keys[2].Address(), 1000, 10, 0)
	if err := line[0].Node().Pool.Add(tx); err != nil {
		t.Fatal(err)
	}
	c.WaitFor(5*time.Second, "tx in every mempool of the line", func() bool {
		for _, n := range line {
			if !n.HasTx(tx.ID()) {
				return false
			}
		}
		return true
	})
	link(c, 5, 4, 15*time.Millisecond)
	c.WaitFor(5*time.Second, "late node learns the pending tx", func() bool { return c.N(5).HasTx(tx.ID()) })

	b := mine(t, line[2], true)
	if len(b.Txs) != 2 {
		t.Fatalf("mined block has %d txs, want the coinbase and the pending tx", len(b.Txs))
	}
	c.WaitFor(5*time.Second, "the block everywhere and the pools empty", func() bool {
		for _, n := range c.Nodes() {
			if n.Tip().Hash != b.Hash() || n.Node().Pool.Len() != 0 {
				return false
			}
		}
		return true
	})
}

// TestSyncNow: SyncNow pulls a heavier chain from the peer with the most
// work and reports the replacement; a second call reports nothing new.
func TestSyncNow(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	long := buildChain(p, 4, 40, 1, 5)
	c := memCluster(t, testnet.Config{Nodes: 3, Params: p, StatusInterval: time.Hour})
	load(t, c.N(0), long[:20])
	load(t, c.N(1), long)
	load(t, c.N(2), long[:10])
	// Linked while running, with the connect-time exchange as the only
	// other trigger; SyncNow must not depend on it having finished.
	link(c, 2, 0, 5*time.Millisecond)
	link(c, 2, 1, 5*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := c.N(2).Node().Sync
	replaced, err := s.SyncNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tip := c.N(2).Tip(); tip.Hash != long[39].Hash() {
		t.Fatalf("tip %d after SyncNow, want 40", tip.Height)
	}
	// replaced may be false only if the connect-time sync got there first.
	t.Logf("first SyncNow: replaced=%v", replaced)
	replaced, err = s.SyncNow(ctx)
	if err != nil || replaced {
		t.Fatalf("second SyncNow: replaced=%v err=%v, want false, nil", replaced, err)
	}
	// A node with no peers is authoritative.
	lone := memCluster(t, testnet.Config{Nodes: 1, Params: p, StatusInterval: time.Hour})
	if replaced, err := lone.N(0).Node().Sync.SyncNow(ctx); replaced || err != nil {
		t.Fatalf("SyncNow without peers: %v %v", replaced, err)
	}
}

// TestRelayExactlyOnce: on a triangle with a slow edge, a block mined at A
// and a transaction sent at A reach C exactly once each: C's validator sees
// one copy, its chain connects the block once, its pool admits the
// transaction once, and the copies that came the other way are dropped by
// the network as seen. On a line, C receives one copy and nothing more.
func TestRelayExactlyOnce(t *testing.T) {
	keys := chaintest.Keys(4)
	p := chaintest.Params(keys, 1_000_000_000)
	for _, shape := range []string{"triangle", "line"} {
		t.Run(shape, func(t *testing.T) {
			c := memCluster(t, testnet.Config{Nodes: 3, Params: p, StatusInterval: time.Hour})
			link(c, 0, 1, 5*time.Millisecond)
			link(c, 1, 2, 5*time.Millisecond)
			if shape == "triangle" {
				link(c, 0, 2, 30*time.Millisecond)
			}
			a, cn := c.N(0), c.N(2)
			mem := func(n *testnet.Node) *memnet.Node { return n.Node().Net.(*memnet.Node) }
			cnode := cn.Node()
			c.WaitFor(5*time.Second, "status exchanged", func() bool {
				return len(cnode.Sync.Peers()) == len(cnode.Net.Peers()) && len(cnode.Net.Peers()) > 0
			})
			var connected, admitted atomic.Int32
			cnode.Chain.Subscribe(func(n blockchain.Notification) {
				if n.Type == blockchain.BlockConnected {
					connected.Add(1)
				}
			})
			cnode.Pool.Subscribe(func(*chain.Tx) { admitted.Add(1) })

			blk := mine(t, a, false)
			c.WaitForTip(5*time.Second, blk.Hash(), 2)
			tx := chaintest.Tx(p, keys[1], keys[2].Address(), 1000, 10, 0)
			if err := a.Node().Pool.Add(tx); err != nil {
				t.Fatal(err)
			}
			c.WaitFor(5*time.Second, "the tx at C", func() bool { return cn.HasTx(tx.ID()) })
			time.Sleep(100 * time.Millisecond) // copies on the slow edge arrive
			st := mem(cn).Stats()
			if connected.Load() != 1 || admitted.Load() != 1 {
				t.Fatalf("C connected the block %d times, admitted the tx %d times", connected.Load(), admitted.Load())
			}
			if st.Handled != 2 {
				t.Fatalf("C's validators saw %d messages for one block and one tx: %+v", st.Handled, st)
			}
			want := uint64(2)
			if shape == "triangle" {
				want = 4 // one copy of each from A and from B
			}
			if st.Received != want || st.Duplicates != want-2 {
				t.Fatalf("C received %+v, want %d copies", st, want)
			}
			for i, n := range c.Nodes()[:2] {
				if h := mem(n).Stats().Handled; h > 2 {
					t.Fatalf("node %d validated %d messages", i, h)
				}
			}
		})
	}
}
