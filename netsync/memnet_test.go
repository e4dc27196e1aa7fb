package netsync

import (
	"context"
	"testing"
	"time"

	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
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
