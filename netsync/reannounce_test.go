package netsync

import (
	"slices"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/memnet"
	"github.com/chaind/chaind/wallet"
)

// TestReannounceAfterReorg: a transaction mined only on the minority's
// side of a partition goes back to the minority node's pool when, after
// the heal, a heavier block reorganises it away, and its re-announcement
// reaches the majority node, which never had it: the connection's mempool
// exchange was over before the reorg, and the node's first announcement on
// "txs" is one the network has seen (a second publication is dropped). The
// majority then mines it with the minority's miner stopped.
func TestReannounceAfterReorg(t *testing.T) {
	keys, p, c := splitPair(t)
	a, m := c.nodes[0], c.nodes[1]
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

// oneSendersTxs returns n transactions of one sender, nonces 0 to n-1.
func oneSendersTxs(n int) []*chain.Tx {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 1_000_000_000)
	txs := make([]*chain.Tx, n)
	for i := range txs {
		txs[i] = chaintest.Tx(p, keys[0], keys[1].Address(), 1, 1, uint64(i))
	}
	return txs
}

// TestChainOrder: the transactions of blocks disconnected tip first come
// out oldest block first, each block's in its order.
func TestChainOrder(t *testing.T) {
	txs := oneSendersTxs(5)
	b1, b2, b3 := chain.Hash{1}, chain.Hash{2}, chain.Hash{3}
	// Disconnected: b3 (nonce 4), then b2 (2, 3), then b1 (0, 1).
	back := []returned{{txs[4], b3}, {txs[2], b2}, {txs[3], b2}, {txs[0], b1}, {txs[1], b1}}
	var nonces []uint64
	for _, r := range chainOrder(back) {
		nonces = append(nonces, r.tx.Nonce)
	}
	if !slices.Equal(nonces, []uint64{0, 1, 2, 3, 4}) {
		t.Fatalf("chain order: nonces %v", nonces)
	}
	if len(chainOrder(nil)) != 0 {
		t.Fatal("nothing in, something out")
	}
}

// TestReannounceManyInOrder: a reorg that returns more of one sender's
// transactions than the pool's nonce gap limit, over two blocks, gets
// every one of them to the majority, which never had them (announced the
// old tip's block first, the later nonces would be refused as too far
// ahead, and nothing would announce them again). The majority is heavier
// at the heal, so the minority reorganises in the heal's sync; its pool is
// empty (its transactions are in its blocks) when the new connection
// exchanges mempools.
func TestReannounceManyInOrder(t *testing.T) {
	keys, p, c := splitPair(t)
	a, m := c.nodes[0], c.nodes[1]
	const perBlock = mempool.DefaultMaxNonceGap + 4
	nonce := uint64(0)
	for range 2 {
		for range perBlock {
			if err := a.pool.Add(chaintest.Tx(p, keys[1], keys[2].Address(), 1000, 10, nonce)); err != nil {
				t.Fatal(err)
			}
			nonce++
		}
		if b := a.mine(t, true); len(b.Txs) != perBlock+1 {
			t.Fatalf("the minority's block has %d transactions, want %d", len(b.Txs), perBlock+1)
		}
	}
	time.Sleep(200 * time.Millisecond) // the first announcements went out, to no one
	var heavier *chain.Block
	for range 3 {
		heavier = m.mine(t, false) // one more than the minority: a reorganises at the heal
	}
	c.net.Heal()
	waitFor(t, 10*time.Second, "the minority on the majority's branch", func() bool { return a.tip().Hash == heavier.Hash() })
	waitFor(t, 5*time.Second, "every re-announced transaction at the majority", func() bool { return m.pool.Len() == 2*perBlock })
}

// TestDeepReorgLosesNoTransaction: a partition's minority mines 40 blocks
// holding 160 transactions of one sender (more than the majority's pool
// takes from a stranger, mempool.DefaultMaxTxsPerSender) and the heal
// reorganises them all away. The minority's pool takes every one back
// (under the per-sender bound, the tip block's first, it would keep the
// latest nonces and lose the executable ones), re-announces those the
// majority's pool has room for, and the rest as the majority mines the
// earlier ones: with the minority's miner stopped, the majority mines all
// 160 and no node is left holding any.
func TestDeepReorgLosesNoTransaction(t *testing.T) {
	const blocks, perBlock = 40, 4
	keys, p, c := splitPair(t)
	a, m := c.nodes[0], c.nodes[1]
	sender := keys[1]
	var sent []*chain.Tx
	for range blocks {
		for range perBlock {
			tx := chaintest.Tx(p, sender, keys[2].Address(), 1000, 10, uint64(len(sent)))
			if err := a.pool.Add(tx); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, tx)
		}
		if b := a.mine(t, true); len(b.Txs) != perBlock+1 {
			t.Fatalf("the minority's block has %d transactions, want %d", len(b.Txs), perBlock+1)
		}
	}
	var heavier *chain.Block
	for range blocks + 1 {
		heavier = m.mine(t, false)
	}
	time.Sleep(100 * time.Millisecond) // the first announcements went out, to no one
	c.net.Heal()
	waitFor(t, 10*time.Second, "the minority on the majority's branch", func() bool { return a.tip().Hash == heavier.Hash() })

	// The minority's miner is stopped; the majority mines what reaches it.
	want := uint64(len(sent))
	deadline := time.Now().Add(8 * time.Second)
	for m.chain.Account(sender.Address()).Nonce < want {
		if time.Now().After(deadline) {
			t.Fatalf("the majority mined %d of the %d returned transactions; pools: minority %d, majority %d",
				m.chain.Account(sender.Address()).Nonce, want, a.pool.Len(), m.pool.Len())
		}
		if m.pool.Len() == 0 {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		m.mine(t, true)
	}
	tip := m.tip().Hash
	waitFor(t, 5*time.Second, "the minority at the majority's tip with an empty pool", func() bool {
		return a.tip().Hash == tip && a.pool.Len() == 0 && m.pool.Len() == 0
	})
	for _, tx := range sent {
		if _, _, err := m.chain.TxLocation(tx.ID()); err != nil {
			t.Fatalf("transaction nonce %d not on the final chain: %v", tx.Nonce, err)
		}
	}
}

// TestHeldReturned: held transactions keep their order, leave when ready
// or gone, stay otherwise, and are bounded by MaxReturned.
func TestHeldReturned(t *testing.T) {
	txs := oneSendersTxs(6)
	var r returnedTxs
	r.hold(txs)
	gone := func(tx *chain.Tx) bool { return tx.Nonce == 1 }
	ready := func(tx *chain.Tx) bool { return tx.Nonce%2 == 0 }
	nonces := func(txs []*chain.Tx) []uint64 {
		var out []uint64
		for _, tx := range txs {
			out = append(out, tx.Nonce)
		}
		return out
	}
	if got := nonces(r.release(gone, ready)); !slices.Equal(got, []uint64{0, 2, 4}) {
		t.Fatalf("released %v, want 0 2 4", got)
	}
	if got := nonces(r.held); !slices.Equal(got, []uint64{3, 5}) {
		t.Fatalf("still held %v, want 3 5", got)
	}
	never := func(*chain.Tx) bool { return false }
	if got := r.release(never, never); len(got) != 0 || len(r.held) != 2 {
		t.Fatalf("released %d and held %d with nothing ready", len(got), len(r.held))
	}
	many := make([]*chain.Tx, MaxReturned)
	for i := range many {
		many[i] = txs[0]
	}
	r.hold(many)
	if len(r.held) != MaxReturned {
		t.Fatalf("held %d, bound %d", len(r.held), MaxReturned)
	}
}

// splitPair starts two linked nodes, a (0, the minority in the tests) and
// m (1), with status exchange off (an hour) so that only gossip and the
// heal's sync move blocks, lets a's first block reach both, and partitions
// them. Keys 0..3 are funded.
func splitPair(t *testing.T) ([]*wallet.Key, *consensus.Params, *memCluster) {
	t.Helper()
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
	return keys, p, c
}
