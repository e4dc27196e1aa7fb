package netsync

import (
	"context"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/memnet"
	"github.com/chaind/chaind/store"
)

// memCluster is a set of full nodes on one memnet.
type memCluster struct {
	net   *memnet.Net
	nodes []*node
	p     *consensus.Params
}

func newMemCluster(t testing.TB, n int, p *consensus.Params, o nodeOpts) *memCluster {
	t.Helper()
	mn, err := memnet.New(memnet.Config{Seed: 1, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	c := &memCluster{net: mn, p: p}
	for i := 0; i < n; i++ {
		nd := mn.NewNode()
		c.nodes = append(c.nodes, newNode(t, string(nd.Self()), p, nd, store.NewMemory(), o))
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.stop()
		}
		mn.Close()
	})
	return c
}

func (c *memCluster) link(t testing.TB, a, b int, latency time.Duration) {
	t.Helper()
	if err := c.net.Link(c.nodes[a].net.Self(), c.nodes[b].net.Self(), memnet.LinkParams{Latency: latency}); err != nil {
		t.Fatal(err)
	}
}

func (c *memCluster) startAll(t testing.TB) {
	for _, n := range c.nodes {
		n.start(t)
	}
}

func (c *memCluster) ids(from, to int) []p2p.PeerID {
	var out []p2p.PeerID
	for _, n := range c.nodes[from:to] {
		out = append(out, n.net.Self())
	}
	return out
}

// bestOf returns the tip with the most work among nodes.
func bestOf(nodes []*node) (chain.Hash, *big.Int) {
	var best chain.Hash
	work := new(big.Int)
	for _, n := range nodes {
		if t := n.tip(); t.Work.Cmp(work) > 0 {
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
	c := newMemCluster(t, n, p, nodeOpts{statusInterval: time.Second, requestTimeout: 3 * time.Second})
	rng := newRand(7)
	half := n / 2
	edges := map[[2]int]bool{}
	addEdge := func(a, b int) {
		if a == b || edges[[2]int{a, b}] || edges[[2]int{b, a}] {
			return
		}
		edges[[2]int{a, b}] = true
		c.link(t, a, b, time.Duration(20+rng.Intn(81))*time.Millisecond)
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
	c.startAll(t)
	minersA := []*node{c.nodes[0], c.nodes[1], c.nodes[2]}
	minersB := []*node{c.nodes[half], c.nodes[half+1]}
	all := append(append([]*node(nil), minersA...), minersB...)

	const interval = 250 * time.Millisecond // four blocks a second in all
	for i := 0; i < 10; i++ {
		all[i%len(all)].mine(t, false)
		time.Sleep(interval)
	}
	waitFor(t, 20*time.Second, "convergence before the partition", func() bool { return sameTip(c.nodes) })
	forkBase := c.nodes[0].tip()

	c.net.Partition(c.ids(0, half), c.ids(half, n))
	for i := 0; i < 20; i++ {
		if i%4 == 3 {
			minersB[(i/4)%2].mine(t, false)
		} else {
			minersA[i%3].mine(t, false)
		}
		time.Sleep(interval)
	}
	time.Sleep(time.Second) // let each half settle
	bestA, workA := bestOf(c.nodes[:half])
	bestB, workB := bestOf(c.nodes[half:])
	if workA.Cmp(workB) <= 0 {
		t.Fatalf("half A (3 miners) has no more work than half B: %v vs %v", workA, workB)
	}
	if info, _ := c.nodes[half].chain.BlockInfo(bestA); info.Work != nil {
		t.Fatalf("half B knows half A's tip before healing: the partition leaked")
	}

	healed := time.Now()
	c.net.Heal()
	waitFor(t, 30*time.Second, "every node on a chain with the heavier half's work", func() bool {
		for _, nd := range c.nodes {
			if nd.tip().Work.Cmp(workA) < 0 {
				return false
			}
		}
		return true
	})
	took := time.Since(healed)
	// Equal-work forks can survive until the next block: one more block
	// settles them.
	final := minersA[0].mine(t, false)
	waitFor(t, 30*time.Second, "all nodes on one tip", func() bool {
		for _, nd := range c.nodes {
			if nd.tip().Hash != final.Hash() {
				return false
			}
		}
		return true
	})
	t.Logf("%d nodes, %d links: all on the heavier chain %v after healing, on one tip %v after the next block; tip %d (fork base %d); memnet %+v",
		n, len(edges), took.Round(time.Millisecond), time.Since(healed).Round(time.Millisecond), final.Header.Height, forkBase.Height, c.net.Stats())
	for _, nd := range c.nodes {
		if info, ok := nd.chain.BlockInfo(bestB); ok && info.MainChain {
			t.Fatalf("%s: the lighter half's tip %s is on the main chain", nd.name, bestB)
		}
	}
	if tw := c.nodes[0].tip().Work; tw.Cmp(workA) <= 0 {
		t.Fatalf("final work %v not above half A's %v", tw, workA)
	}
}

// TestMemnetLateJoin: a node that joins after 300 blocks syncs them from
// both peers, and its progress ends in step.
func TestMemnetLateJoin(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	blocks := buildChain(p, 4, 300, 2, 1)
	c := newMemCluster(t, 3, p, nodeOpts{statusInterval: time.Hour})
	c.nodes[0].load(t, blocks)
	c.nodes[1].load(t, blocks)
	c.link(t, 0, 1, 10*time.Millisecond)
	c.startAll(t)
	if got := c.nodes[2].sync.Progress(); got.Height != 0 || got.Syncing {
		t.Fatalf("fresh node progress %+v", got)
	}
	c.link(t, 2, 0, 10*time.Millisecond)
	c.link(t, 2, 1, 10*time.Millisecond)
	want := blocks[len(blocks)-1].Hash()
	waitFor(t, 20*time.Second, "late joiner at the tip", func() bool { return c.nodes[2].tip().Hash == want })
	var from int
	for _, ps := range c.nodes[2].sync.Peers() {
		if ps.BlocksFetched > 0 {
			from++
		}
		if ps.BestHeight != 300 || ps.TotalWork == nil || ps.LastStatus.IsZero() {
			t.Errorf("peer state %+v", ps)
		}
	}
	if from != 2 {
		t.Errorf("blocks fetched from %d peers, want 2: %+v", from, c.nodes[2].sync.Peers())
	}
	waitFor(t, 5*time.Second, "progress in step", func() bool {
		pr := c.nodes[2].sync.Progress()
		return !pr.Syncing && pr.Height == 300 && pr.TargetHeight == 300 && pr.ETA == 0
	})
	if pr := c.nodes[2].sync.Progress(); pr.BlocksPerSec <= 0 {
		t.Errorf("no connect rate after syncing 300 blocks: %+v", pr)
	}
}

// TestMemnetTxPropagation: a transaction sent to one node reaches every
// mempool of a line of five; a node joining later learns it from a peer's
// mempool; a block with it empties every mempool.
func TestMemnetTxPropagation(t *testing.T) {
	keys := chaintest.Keys(4)
	p := chaintest.Params(keys, 1_000_000_000)
	c := newMemCluster(t, 6, p, nodeOpts{statusInterval: time.Hour})
	for i := 0; i < 4; i++ {
		c.link(t, i, i+1, 15*time.Millisecond)
	}
	c.startAll(t)
	line := c.nodes[:5]
	tx := chaintest.Tx(p, keys[1], keys[2].Address(), 1000, 10, 0)
	if err := line[0].pool.Add(tx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "tx in every mempool of the line", func() bool {
		for _, n := range line {
			if !n.pool.Has(tx.ID()) {
				return false
			}
		}
		return true
	})
	c.link(t, 5, 4, 15*time.Millisecond)
	waitFor(t, 5*time.Second, "late node learns the pending tx", func() bool { return c.nodes[5].pool.Has(tx.ID()) })

	b := line[2].mine(t, true)
	if len(b.Txs) != 2 {
		t.Fatalf("mined block has %d txs, want the coinbase and the pending tx", len(b.Txs))
	}
	waitFor(t, 5*time.Second, "the block everywhere and the pools empty", func() bool {
		for _, n := range c.nodes {
			if n.tip().Hash != b.Hash() || n.pool.Len() != 0 {
				return false
			}
		}
		return true
	})
}

// TestMemnetUnknownParentFetch: a gossiped block whose five ancestors the
// receiver lacks makes it fetch them from the sender. Status rounds are
// off (one hour), so only the orphan can start the fetch.
func TestMemnetUnknownParentFetch(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	blocks := buildChain(p, 4, 6, 1, 3)
	c := newMemCluster(t, 2, p, nodeOpts{statusInterval: time.Hour})
	a, b := c.nodes[0], c.nodes[1]
	c.link(t, 0, 1, 20*time.Millisecond)
	c.startAll(t)
	waitFor(t, 5*time.Second, "status exchanged", func() bool {
		ps := b.sync.Peers()
		return len(ps) == 1 && !ps[0].LastStatus.IsZero()
	})
	// Five blocks reach a without being published (as if mined while the
	// link was busy), then the sixth is published.
	for _, blk := range blocks[:5] {
		a.sync.published.add(blk.Hash())
	}
	a.load(t, blocks)
	waitFor(t, 5*time.Second, "b fetched the missing ancestors", func() bool { return b.tip().Hash == blocks[5].Hash() })
	if got := b.sync.Peers()[0].BlocksFetched; got != 5 {
		t.Errorf("fetched %d blocks, want the 5 missing ancestors", got)
	}
}

// TestMemnetOrphanFetchBounded: orphans from one peer start at most one
// ancestor fetch per OrphanFetchInterval.
func TestMemnetOrphanFetchBounded(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	c := newMemCluster(t, 2, p, nodeOpts{statusInterval: time.Hour})
	c.link(t, 0, 1, time.Millisecond)
	c.startAll(t)
	s := c.nodes[1].sync
	from := c.nodes[0].net.Self()
	waitFor(t, 5*time.Second, "the peer known", func() bool { _, ok := s.peers.get(from); return ok })
	var starts int
	for i := 0; i < 50; i++ {
		before, _ := s.peers.get(from)
		s.triggerOrphanFetch(from)
		after, _ := s.peers.get(from)
		if after.lastOrphan != before.lastOrphan {
			starts++
		}
	}
	if starts != 1 {
		t.Fatalf("%d fetches started by 50 orphans in a burst, want 1", starts)
	}
}

// TestSyncNow: SyncNow pulls a heavier chain from the peer with the most
// work and reports the replacement; a second call reports nothing new.
func TestSyncNow(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	long := buildChain(p, 4, 40, 1, 5)
	c := newMemCluster(t, 3, p, nodeOpts{statusInterval: time.Hour})
	c.nodes[0].load(t, long[:20])
	c.nodes[1].load(t, long)
	c.nodes[2].load(t, long[:10])
	c.startAll(t)
	// Link after start, with the connect-time exchange as the only other
	// trigger; SyncNow must not depend on it having finished.
	c.link(t, 2, 0, 5*time.Millisecond)
	c.link(t, 2, 1, 5*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	replaced, err := c.nodes[2].sync.SyncNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tip := c.nodes[2].tip()
	if tip.Hash != long[39].Hash() {
		t.Fatalf("tip %d after SyncNow, want 40", tip.Height)
	}
	// replaced may be false only if the connect-time sync got there first.
	t.Logf("first SyncNow: replaced=%v", replaced)
	replaced, err = c.nodes[2].sync.SyncNow(ctx)
	if err != nil || replaced {
		t.Fatalf("second SyncNow: replaced=%v err=%v, want false, nil", replaced, err)
	}
	// A node with no peers is authoritative.
	lone := newMemCluster(t, 1, p, nodeOpts{statusInterval: time.Hour})
	lone.startAll(t)
	if replaced, err := lone.nodes[0].sync.SyncNow(ctx); replaced || err != nil {
		t.Fatalf("SyncNow without peers: %v %v", replaced, err)
	}
}

// TestWrongGenesisBanned: a peer of another chain is banned at the status
// exchange.
func TestWrongGenesisBanned(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	other := chaintest.Params(chaintest.Keys(5), 1_000_000_000)
	mn, err := memnet.New(memnet.Config{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer mn.Close()
	a := newNode(t, "a", p, mn.NewNode(), store.NewMemory(), nodeOpts{statusInterval: time.Hour})
	b := newNode(t, "b", other, mn.NewNode(), store.NewMemory(), nodeOpts{statusInterval: time.Hour})
	a.start(t)
	b.start(t)
	if err := mn.Link(a.net.Self(), b.net.Self(), memnet.LinkParams{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the foreign peer banned", func() bool { return len(a.net.Peers()) == 0 && len(b.net.Peers()) == 0 })
	if _, err := a.net.Connect(context.Background(), string(b.net.Self())); err == nil {
		t.Fatal("reconnected to a banned peer")
	}
	if len(a.sync.Peers()) != 0 {
		t.Fatalf("syncer still tracks the banned peer: %+v", a.sync.Peers())
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
			c := newMemCluster(t, 3, p, nodeOpts{statusInterval: time.Hour})
			c.link(t, 0, 1, 5*time.Millisecond)
			c.link(t, 1, 2, 5*time.Millisecond)
			if shape == "triangle" {
				c.link(t, 0, 2, 30*time.Millisecond)
			}
			c.startAll(t)
			a, cn := c.nodes[0], c.nodes[2]
			mem := func(n *node) *memnet.Node { return n.net.(*memnet.Node) }
			waitFor(t, 5*time.Second, "status exchanged", func() bool { return len(cn.sync.Peers()) == len(cn.net.Peers()) && len(cn.net.Peers()) > 0 })
			var connected, admitted atomic.Int32
			cn.chain.Subscribe(func(n blockchain.Notification) {
				if n.Type == blockchain.BlockConnected {
					connected.Add(1)
				}
			})
			cn.pool.Subscribe(func(*chain.Tx) { admitted.Add(1) })

			blk := a.mine(t, false)
			waitFor(t, 5*time.Second, "the block at C", func() bool { return cn.tip().Hash == blk.Hash() })
			tx := chaintest.Tx(p, keys[1], keys[2].Address(), 1000, 10, 0)
			if err := a.pool.Add(tx); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "the tx at C", func() bool { return cn.pool.Has(tx.ID()) })
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
			for i, n := range c.nodes[:2] {
				if h := mem(n).Stats().Handled; h > 2 {
					t.Fatalf("node %d validated %d messages", i, h)
				}
			}
		})
	}
}
