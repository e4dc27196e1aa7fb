package netsync

import (
	"testing"
	"time"

	"github.com/chaind/chaind/internal/chaintest"
)

// TestMinimumChainWork: a fresh node does not download a chain below the
// network's minimum chain work and stays syncing (initial download); a
// chain above it is downloaded, and the node is then synced.
func TestMinimumChainWork(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	blocks := buildChain(p, 4, 300, 1, 1)
	c := newMemCluster(t, 3, p, nodeOpts{statusInterval: 200 * time.Millisecond})
	c.nodes[0].load(t, blocks[:150]) // below the minimum
	c.nodes[1].load(t, blocks)       // above it
	info, ok := c.nodes[1].chain.BlockInfo(blocks[199].Hash())
	if !ok {
		t.Fatal("block 200 unknown")
	}
	p.MinimumChainWork = info.Work // the work of block 200
	c.startAll(t)
	fresh := c.nodes[2]
	if !fresh.sync.Progress().Syncing {
		t.Fatal("a fresh node below the minimum work is not syncing")
	}
	c.link(t, 2, 0, 5*time.Millisecond)
	// Several status rounds with the light peer: nothing is downloaded.
	time.Sleep(time.Second)
	if h := fresh.tip().Height; h != 0 {
		t.Fatalf("downloaded %d blocks of a chain below the minimum work", h)
	}
	if !fresh.sync.Progress().Syncing {
		t.Fatal("not syncing while below the minimum work")
	}
	if c.nodes[0].sync.Progress().Syncing != true {
		t.Fatal("a node at height 150, below the minimum, reports synced")
	}
	c.link(t, 2, 1, 5*time.Millisecond)
	want := blocks[len(blocks)-1].Hash()
	waitFor(t, 20*time.Second, "the fresh node on the chain above the minimum", func() bool { return fresh.tip().Hash == want })
	waitFor(t, 5*time.Second, "synced", func() bool { return !fresh.sync.Progress().Syncing })
}
