package mempool

import (
	"slices"
	"testing"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/wallet"
)

// realChain returns a chain on a funded regtest network and a pool that
// follows its notifications the way a node wires them.
func realChain(t testing.TB, nkeys int, cfg Config) (*blockchain.Blockchain, *Pool, *consensus.Params, []*wallet.Key) {
	t.Helper()
	keys := chaintest.Keys(nkeys)
	p := chaintest.Params(keys, funds)
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: store.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	pool := New(bc, cfg)
	bc.Subscribe(pool.OnChainEvent)
	return bc, pool, p, keys
}

func process(t testing.TB, bc *blockchain.Blockchain, blocks ...*chain.Block) {
	t.Helper()
	for _, b := range blocks {
		if _, err := bc.ProcessBlock(b, blockchain.Requested); err != nil {
			t.Fatalf("block %d: %v", b.Header.Height, err)
		}
	}
}

func TestBlockConnectedRemovesIncludedAndInvalidated(t *testing.T) {
	bc, pool, p, keys := realChain(t, 4, Config{})
	to := keys[3].Address()
	k0 := []*chain.Tx{chaintest.Tx(p, keys[0], to, 1000, 10, 0), chaintest.Tx(p, keys[0], to, 1000, 10, 1), chaintest.Tx(p, keys[0], to, 1000, 10, 2)}
	k1 := chaintest.Tx(p, keys[1], to, 1000, 5, 0)
	k2a, k2b := chaintest.Tx(p, keys[2], to, 100, 1, 0), chaintest.Tx(p, keys[2], to, 500_000, 1, 1)
	for i, err := range pool.AddBatch(append(slices.Clone(k0), k1, k2a, k2b)) {
		if err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
	}
	// The block holds two of k0's pooled transactions, a different
	// transaction for k1's nonce 0, and a spend by k2 that leaves it too
	// little for its pooled nonce 1.
	k1other := chaintest.Tx(p, keys[1], to, 2000, 1, 0)
	k2big := chaintest.Tx(p, keys[2], to, 900_000, 1, 0)
	br := chaintest.NewBranch(p, keys)
	process(t, bc, br.Next([]*chain.Tx{k0[0], k0[1], k1other, k2big}, chaintest.Spec{}))

	if pool.Len() != 1 || !pool.Has(k0[2].ID()) {
		t.Fatalf("pool holds %d, want only k0's nonce 2", pool.Len())
	}
	if got := ids(pool.Template(100, 1<<20)); !slices.Equal(got, ids(k0[2:])) {
		t.Fatal("template is not k0's nonce 2")
	}
	if n, spend, next := pool.Pending(keys[0].Address()); n != 1 || spend != 1010 || next != 3 {
		t.Fatalf("Pending(k0) = %d, %d, %d; want 1, 1010, 3", n, spend, next)
	}
	wantErr(t, pool.Add(k0[0]), ErrNonceTooLow)
	checkInvariants(t, pool)
}

func TestReorgTakesTransactionsBack(t *testing.T) {
	bc, pool, p, keys := realChain(t, 3, Config{})
	var rec recorder
	pool.Subscribe(rec.add)
	to := keys[2].Address()
	// 25 transactions of k0: more than the nonce-gap bound, so taking the
	// tip block back first (nonces 20..24) needs the reorg allowance.
	var k0 []*chain.Tx
	for n := range uint64(25) {
		k0 = append(k0, chaintest.Tx(p, keys[0], to, 100+n, 1+n%7, n))
	}
	k1 := chaintest.Tx(p, keys[1], to, 5000, 3, 0)
	for i, err := range pool.AddBatch(append(slices.Clone(k0), k1)) {
		if err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
	}
	tmpl := pool.Template(100, 1<<20)
	if len(tmpl) != 26 {
		t.Fatalf("template has %d txs, want 26", len(tmpl))
	}
	// Mine them in two blocks: first 20 of k0 and k1, then the rest.
	var first, second []*chain.Tx
	for _, tx := range tmpl {
		if tx.Sender() == keys[0].Address() && tx.Nonce >= 20 {
			second = append(second, tx)
		} else {
			first = append(first, tx)
		}
	}
	br := chaintest.NewBranch(p, keys)
	process(t, bc, br.Next(first, chaintest.Spec{}), br.Next(second, chaintest.Spec{}))
	if pool.Len() != 0 {
		t.Fatalf("pool holds %d after both blocks connected", pool.Len())
	}
	announced := len(rec.ids())

	// A heavier branch from genesis that holds only k1's transaction.
	alt := chaintest.NewBranch(p, keys)
	alt.Memo = "alt"
	process(t, bc, alt.Next([]*chain.Tx{k1}, chaintest.Spec{}), alt.Next(nil, chaintest.Spec{}), alt.Next(nil, chaintest.Spec{}))
	if tip := bc.Tip(); tip.Hash != alt.Tip().Hash() {
		t.Fatal("no reorg to the heavier branch")
	}
	if pool.Len() != 25 || pool.Has(k1.ID()) {
		t.Fatalf("after reorg pool holds %d (k1 %v), want k0's 25", pool.Len(), pool.Has(k1.ID()))
	}
	if got := ids(pool.Template(100, 1<<20)); !slices.Equal(got, ids(k0)) {
		t.Fatal("template after reorg is not k0's 25 in nonce order")
	}
	if got := len(rec.ids()) - announced; got != 25 {
		t.Fatalf("%d re-admitted transactions announced, want 25", got)
	}
	checkInvariants(t, pool)

	// Mining the template on the new branch empties the pool again.
	process(t, bc, alt.Next(pool.Template(100, 1<<20), chaintest.Spec{}))
	if pool.Len() != 0 {
		t.Fatalf("pool holds %d after mining its template", pool.Len())
	}
}

func TestDisconnectDropsWhatTheRecipientCanNoLongerPay(t *testing.T) {
	bc, pool, p, keys := realChain(t, 3, Config{})
	poor := chaintest.Key(99) // not funded at genesis
	pay := chaintest.Tx(p, keys[0], poor.Address(), 10_000, 1, 0)
	br := chaintest.NewBranch(p, keys)
	process(t, bc, br.Next([]*chain.Tx{pay}, chaintest.Spec{}))
	spend := chaintest.Tx(p, poor, keys[1].Address(), 9_000, 1, 0)
	mustAdd(t, pool, spend)

	// A heavier branch without the payment: poor's spend is unpayable,
	// and the payment itself comes back.
	alt := chaintest.NewBranch(p, keys)
	alt.Memo = "alt"
	process(t, bc, alt.Next(nil, chaintest.Spec{}), alt.Next(nil, chaintest.Spec{}))
	if pool.Has(spend.ID()) || !pool.Has(pay.ID()) || pool.Len() != 1 {
		t.Fatalf("after reorg: spend %v, payment %v, len %d", pool.Has(spend.ID()), pool.Has(pay.ID()), pool.Len())
	}
	checkInvariants(t, pool)
}

// TestDeepReorgKeepsEverySenderTransaction: a reorg that gives back more
// of one sender's transactions than MaxTxsPerSender keeps all of them. The
// tip block's disconnection comes first, so under the per-sender bound the
// pool would keep the latest nonces, which cannot be mined without the
// earliest, and lose the executable ones.
func TestDeepReorgKeepsEverySenderTransaction(t *testing.T) {
	const limit = 8
	bc, pool, p, keys := realChain(t, 3, Config{MaxTxsPerSender: limit})
	to := keys[2].Address()
	br := chaintest.NewBranch(p, keys)
	var sent []*chain.Tx
	for range 3 { // three blocks of limit transactions each
		batch := make([]*chain.Tx, 0, limit)
		for range limit {
			batch = append(batch, chaintest.Tx(p, keys[0], to, 100, 1, uint64(len(sent)+len(batch))))
		}
		for i, err := range pool.AddBatch(batch) {
			if err != nil {
				t.Fatalf("tx %d: %v", len(sent)+i, err)
			}
		}
		sent = append(sent, batch...)
		process(t, bc, br.Next(pool.Template(100, 1<<20), chaintest.Spec{}))
	}
	if pool.Len() != 0 {
		t.Fatalf("pool holds %d after the blocks connected", pool.Len())
	}

	alt := chaintest.NewBranch(p, keys)
	alt.Memo = "alt"
	for range 4 {
		process(t, bc, alt.Next(nil, chaintest.Spec{}))
	}
	if tip := bc.Tip(); tip.Hash != alt.Tip().Hash() {
		t.Fatal("no reorg to the heavier branch")
	}
	if got := ids(pool.Template(100, 1<<20)); !slices.Equal(got, ids(sent)) {
		t.Fatalf("after the reorg the template holds %d transactions, want all %d in nonce order", len(got), len(sent))
	}
	checkStructure(t, pool, false)
	// The bound still holds against new transactions of that sender.
	wantErr(t, pool.Add(chaintest.Tx(p, keys[0], to, 100, 1, uint64(len(sent)))), ErrSenderLimit)
}
