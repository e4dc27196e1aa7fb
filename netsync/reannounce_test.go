package netsync

import (
	"testing"
	"time"

	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/memnet"
)

// TestReannounceAfterReorg: a transaction mined only on the minority's
// side of a partition goes back to the minority node's pool when, after
// the heal, a heavier block reorganises it away, and its re-announcement
// reaches the majority node, which never had it: the connection's mempool
// exchange was over before the reorg, and the node's first announcement on
// "txs" is one the network has seen (a second publication is dropped). The
// majority then mines it with the minority's miner stopped.
func TestReannounceAfterReorg(t *testing.T) {
	keys := chaintest.Keys(4)
	p := chaintest.Params(keys, 1_000_000_000)
	c := newMemCluster(t, 2, p, nodeOpts{statusInterval: time.Hour})
	c.link(t, 0, 1, 5*time.Millisecond)
	c.startAll(t)
	a, m := c.nodes[0], c.nodes[1]
	first := a.mine(t, false)
	waitFor(t, 5*time.Second, "the first block at both", func() bool { return m.tip().Hash == first.Hash() })

	c.net.Partition([]p2p.PeerID{a.net.Self()}, []p2p.PeerID{m.net.Self()})
	waitFor(t, 5*time.Second, "the partition", func() bool { return len(a.net.Peers()) == 0 })
	tx := chaintest.Tx(p, keys[1], keys[2].Address(), 1000, 10, 0)
	if err := a.pool.Add(tx); err != nil {
		t.Fatal(err)
	}
	// The first announcement goes out (to no one) from the publish queue
	// before the heal.
	time.Sleep(200 * time.Millisecond)
	minority := a.mine(t, true)
	if len(minority.Txs) != 2 {
		t.Fatalf("the minority's block has %d transactions, want the coinbase and tx", len(minority.Txs))
	}
	majority := m.mine(t, false) // same height: no reorg at the heal
	c.net.Heal()
	waitFor(t, 5*time.Second, "the heal and the status exchange", func() bool {
		return len(a.sync.Peers()) == 1 && len(m.sync.Peers()) == 1
	})
	time.Sleep(200 * time.Millisecond) // the mempool exchanges of the new connection are over
	if m.pool.Has(tx.ID()) {
		t.Fatal("the majority has the transaction before any reorg")
	}
	before := m.net.(*memnet.Node).Stats()

	heavier := m.mine(t, false)
	waitFor(t, 5*time.Second, "the minority on the majority's branch", func() bool { return a.tip().Hash == heavier.Hash() })
	if a.chain.Height() != 3 || heavier.Header.PrevHash != majority.Hash() {
		t.Fatalf("unexpected chain: a at %d (%s), heavier on %s", a.chain.Height(), a.tip().Hash, heavier.Header.PrevHash)
	}
	waitFor(t, 5*time.Second, "the re-announced transaction at the majority", func() bool { return m.pool.Has(tx.ID()) })
	after := m.net.(*memnet.Node).Stats()
	if got := after.Handled - before.Handled; got > 3 {
		t.Errorf("the majority validated %d messages for one block round trip and one re-announcement", got)
	}
	// The minority's miner is stopped; the majority mines the transaction.
	b := m.mine(t, true)
	if len(b.Txs) != 2 || b.Txs[1].ID() != tx.ID() {
		t.Fatalf("the majority's block has %d transactions, want the re-announced one", len(b.Txs))
	}
	waitFor(t, 5*time.Second, "the block at the minority and its pool empty", func() bool {
		return a.tip().Hash == b.Hash() && a.pool.Len() == 0
	})
}
