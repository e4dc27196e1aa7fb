package mempool

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/state"
)

func TestTemplateOrder(t *testing.T) {
	p, fc, keys := setup(t, 5, Config{})
	to := keys[4].Address()
	tx := func(k int, fee, nonce uint64) *chain.Tx { return chaintest.Tx(fc.p, keys[k], to, 1, fee, nonce) }
	a0, a1 := tx(0, 5, 0), tx(0, 50, 1)
	b := &chain.Tx{To: to, Amount: 1, Fee: 10, Memo: make([]byte, chain.MaxMemoSize)}
	for i := range b.Memo {
		b.Memo[i] = 'm'
	}
	keys[1].SignTx(b, fc.p.GenesisHash())
	c := tx(2, 20, 0)
	d0, d2 := tx(3, 30, 0), tx(3, 90, 2) // d2 waits behind a gap
	// Arrival order must not matter.
	mustAdd(t, p, a1, d2, c, b, a0, d0)

	want := []*chain.Tx{d0, c, b, a0, a1}
	if got := ids(p.Template(100, 1<<20)); !slices.Equal(got, ids(want)) {
		t.Fatal("template is not fee order with a's nonces in order")
	}
	if got := ids(p.Template(2, 1<<20)); !slices.Equal(got, ids(want[:2])) {
		t.Fatal("template ignores the count limit")
	}
	// b (205 bytes) does not fit after d0 and c; a0 does, then a1 does not.
	limit := 3*chain.MinTxSize + 10
	if got := ids(p.Template(100, limit)); !slices.Equal(got, ids([]*chain.Tx{d0, c, a0})) {
		t.Fatal("template does not skip the transaction that does not fit")
	}
	if p.Template(0, 1<<20) != nil || p.Template(10, 0) != nil {
		t.Fatal("zero limits give transactions")
	}
	all := p.Txs()
	if got := ids(all); !slices.Equal(got, ids([]*chain.Tx{d2, a1, d0, c, b, a0})) {
		t.Fatal("Txs is not in fee order")
	}
}

func TestTemplateEqualFeesByArrival(t *testing.T) {
	p, fc, keys := setup(t, 3, Config{})
	to := keys[0].Address()
	first := chaintest.Tx(fc.p, keys[1], to, 1, 7, 0)
	second := chaintest.Tx(fc.p, keys[2], to, 1, 7, 0)
	mustAdd(t, p, first, second)
	if got := ids(p.Template(10, 1<<20)); !slices.Equal(got, ids([]*chain.Tx{first, second})) {
		t.Fatal("equal fees not in arrival order")
	}
}

// TestTemplateApplies fills a pool at random (gaps, replacements,
// double spends, a tight bound) and checks that every template applies
// to the state in order as a block, respects its limits, takes every
// executable transaction when unlimited, and under a count limit never
// passes over a sender whose first transaction pays more than one taken.
func TestTemplateApplies(t *testing.T) {
	const nkeys = 12
	p, fc, keys := setup(t, nkeys, Config{MaxTxs: 60, MaxNonceGap: 3, MaxTxsPerSender: 8})
	rng := rand.New(rand.NewSource(7))
	st := state.New()
	for i, k := range keys {
		acct := state.Account{Balance: uint64(500 + rng.Intn(5000)), Nonce: uint64(rng.Intn(3))}
		if i == 0 {
			acct.Balance = 0
		}
		fc.set(k.Address(), acct)
		st.Set(k.Address(), acct)
	}
	var txs []*chain.Tx
	for range 400 {
		k := rng.Intn(nkeys)
		acct := fc.Account(keys[k].Address())
		nonce := acct.Nonce + uint64(rng.Intn(6))
		txs = append(txs, chaintest.Tx(fc.p, keys[k], keys[rng.Intn(nkeys)].Address(), 1+uint64(rng.Intn(400)), uint64(rng.Intn(50)), nonce))
	}
	for i := 0; i < len(txs); i += 50 {
		p.AddBatch(txs[i:min(i+50, len(txs))])
		checkInvariants(t, p)
	}
	if p.Len() == 0 {
		t.Fatal("nothing admitted")
	}
	for _, limit := range []struct{ n, bytes int }{{1000, 1 << 20}, {10, 1 << 20}, {1000, 12 * chain.MinTxSize}} {
		tmpl := p.Template(limit.n, limit.bytes)
		if len(tmpl) == 0 || len(tmpl) > limit.n {
			t.Fatalf("template of %d for limit %d", len(tmpl), limit.n)
		}
		size := 0
		var fees uint64
		for _, tx := range tmpl {
			size += tx.Size()
			fees += tx.Fee
		}
		if size > limit.bytes {
			t.Fatalf("template of %d bytes for limit %d", size, limit.bytes)
		}
		cb := &chain.Tx{To: keys[0].Address(), Amount: fees, Nonce: 1}
		blk := &chain.Block{Txs: append([]*chain.Tx{cb}, tmpl...)}
		undo, err := st.ApplyBlock(blk, 0)
		if err != nil {
			t.Fatalf("template does not apply: %v", err)
		}
		st.UndoBlock(undo)
		if limit.n == 10 {
			minTaken := tmpl[0].Fee
			touched := map[chain.Address]bool{}
			for _, tx := range tmpl {
				minTaken = min(minTaken, tx.Fee)
				touched[tx.Sender()] = true
			}
			for _, tx := range p.Txs() {
				acct := fc.Account(tx.Sender())
				if !touched[tx.Sender()] && tx.Nonce == acct.Nonce && tx.Fee > minTaken {
					t.Fatalf("template passed over a head paying %d for one paying %d", tx.Fee, minTaken)
				}
			}
		}
		if limit.n == 1000 && limit.bytes == 1<<20 {
			// Unlimited: every executable transaction is in it.
			exec := 0
			for _, k := range keys {
				_, _, next := p.Pending(k.Address())
				exec += int(next - fc.Account(k.Address()).Nonce)
			}
			if exec != len(tmpl) {
				t.Fatalf("template has %d of %d executable transactions", len(tmpl), exec)
			}
		}
	}
}
