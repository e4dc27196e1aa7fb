package mempool

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/state"
	"github.com/chaind/chaind/wallet"
)

const funds = 1_000_000

func setup(t testing.TB, nkeys int, cfg Config) (*Pool, *fakeChain, []*wallet.Key) {
	t.Helper()
	keys := chaintest.Keys(nkeys)
	fc := newFakeChain(keys, funds)
	return New(fc, cfg), fc, keys
}

func mustAdd(t testing.TB, p *Pool, txs ...*chain.Tx) {
	t.Helper()
	for _, tx := range txs {
		if err := p.Add(tx); err != nil {
			t.Fatalf("add nonce %d fee %d: %v", tx.Nonce, tx.Fee, err)
		}
	}
}

func wantErr(t testing.TB, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("admitted, want %v", targets)
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Fatalf("error %q does not match %q", err, target)
		}
	}
}

func TestAddAndQueries(t *testing.T) {
	p, fc, keys := setup(t, 3, Config{})
	var rec recorder
	p.Subscribe(rec.add)
	tx := chaintest.Tx(fc.p, keys[0], keys[1].Address(), 100, 5, 0)
	mustAdd(t, p, tx)
	id := tx.ID()
	if got, ok := p.Get(id); !ok || got != tx || !p.Has(id) || p.Len() != 1 {
		t.Fatalf("after add: Get %v %v, Has %v, Len %d", got, ok, p.Has(id), p.Len())
	}
	if n, spend, next := p.Pending(keys[0].Address()); n != 1 || spend != 105 || next != 1 {
		t.Fatalf("Pending = %d, %d, %d; want 1, 105, 1", n, spend, next)
	}
	if n, spend, next := p.Pending(keys[2].Address()); n != 0 || spend != 0 || next != 0 {
		t.Fatalf("Pending of idle key = %d, %d, %d", n, spend, next)
	}
	wantErr(t, p.Add(tx), ErrDuplicate)
	wantErr(t, p.AddBatch([]*chain.Tx{tx})[0], ErrDuplicate)
	if got := rec.ids(); !slices.Equal(got, []chain.Hash{id}) {
		t.Fatalf("subscriber saw %d txs, want exactly the admitted one", len(got))
	}
	if _, ok := p.Get(chain.Hash{1}); ok || p.Has(chain.Hash{1}) {
		t.Fatal("unknown id found")
	}
	checkInvariants(t, p)
}

func TestNonceTooLow(t *testing.T) {
	p, fc, keys := setup(t, 2, Config{})
	fc.set(keys[0].Address(), state.Account{Balance: funds, Nonce: 5})
	err := p.Add(chaintest.Tx(fc.p, keys[0], keys[1].Address(), 1, 0, 4))
	wantErr(t, err, ErrNonceTooLow, consensus.ErrBadNonce)
	if consensus.CodeOf(err) != consensus.CodeBadNonce {
		t.Fatalf("CodeOf = %v", consensus.CodeOf(err))
	}
	if errors.Is(err, ErrNonceGap) {
		t.Fatal("nonce too low also matches ErrNonceGap")
	}
	mustAdd(t, p, chaintest.Tx(fc.p, keys[0], keys[1].Address(), 1, 0, 5))
	if _, _, next := p.Pending(keys[0].Address()); next != 6 {
		t.Fatalf("next nonce %d, want 6", next)
	}
}

func TestNonceGap(t *testing.T) {
	const gap = 3
	p, fc, keys := setup(t, 2, Config{MaxNonceGap: gap})
	k, to := keys[0], keys[1].Address()
	tx := func(nonce uint64) *chain.Tx { return chaintest.Tx(fc.p, k, to, 10, 1, nonce) }
	mustAdd(t, p, tx(0), tx(1))
	// Next executable nonce is 2: nonces up to 2+gap are admitted.
	mustAdd(t, p, tx(2+gap))
	wantErr(t, p.Add(tx(3+gap)), ErrNonceGap, consensus.ErrBadNonce)
	if got, want := ids(p.Template(100, 1<<20)), ids([]*chain.Tx{tx(0), tx(1)}); !slices.Equal(got, want) {
		t.Fatalf("template takes %d txs, want the contiguous run 0..1", len(got))
	}
	if n, _, next := p.Pending(k.Address()); n != 3 || next != 2 {
		t.Fatalf("Pending = %d txs, next %d; want 3, 2", n, next)
	}
	mustAdd(t, p, tx(2))
	if got := p.Template(100, 1<<20); len(got) != 3 {
		t.Fatalf("template has %d txs, want 3 (nonce %d waits behind the gap)", len(got), 2+gap)
	}
	mustAdd(t, p, tx(3), tx(4))
	var want []*chain.Tx
	for n := uint64(0); n <= 2+gap; n++ {
		want = append(want, tx(n))
	}
	if got := ids(p.Template(100, 1<<20)); !slices.Equal(got, ids(want)) {
		t.Fatal("template is not the full run 0..5 once the gap is filled")
	}
	// The bound moves with the run.
	mustAdd(t, p, tx(6+gap))
	checkInvariants(t, p)

	// A negative bound admits only the next executable nonce.
	p2 := New(fc, Config{MaxNonceGap: -1})
	wantErr(t, p2.Add(tx(1)), ErrNonceGap)
	mustAdd(t, p2, tx(0), tx(1))
}

func TestFeeBumped(t *testing.T) {
	cases := []struct {
		old, new uint64
		bump     int
		want     bool
	}{
		{100, 109, 10, false},
		{100, 110, 10, true},
		{100, 100, 0, false},
		{100, 101, 0, true},
		{0, 0, 10, false},
		{0, 1, 10, true},
		{7, 8, 10, true},    // 8*100 >= 7*110
		{10, 11, 10, true},  // exactly 10%
		{11, 12, 10, false}, // 1200 < 1210
		{math.MaxUint64, math.MaxUint64, 10, false},
		{math.MaxUint64 / 2, math.MaxUint64, 10, true},
		{math.MaxUint64 - 10, math.MaxUint64, 10, false},
	}
	for _, c := range cases {
		if got := feeBumped(c.old, c.new, c.bump); got != c.want {
			t.Errorf("feeBumped(%d, %d, %d%%) = %v, want %v", c.old, c.new, c.bump, got, c.want)
		}
	}
}

func TestReplacement(t *testing.T) {
	p, fc, keys := setup(t, 2, Config{})
	var rec recorder
	p.Subscribe(rec.add)
	k, to := keys[0], keys[1].Address()
	old := chaintest.Tx(fc.p, k, to, 1000, 100, 0)
	next := chaintest.Tx(fc.p, k, to, 1000, 100, 1)
	mustAdd(t, p, old, next)

	low := chaintest.Tx(fc.p, k, to, 1000, 109, 0)
	wantErr(t, p.Add(low), ErrReplacementFee)
	if !p.Has(old.ID()) || p.Has(low.ID()) {
		t.Fatal("a refused replacement changed the pool")
	}
	repl := chaintest.Tx(fc.p, k, to, 1000, 110, 0)
	mustAdd(t, p, repl)
	if p.Has(old.ID()) || !p.Has(repl.ID()) || !p.Has(next.ID()) || p.Len() != 2 {
		t.Fatalf("after replacement: old %v, new %v, next %v, len %d", p.Has(old.ID()), p.Has(repl.ID()), p.Has(next.ID()), p.Len())
	}
	if _, spend, _ := p.Pending(k.Address()); spend != 1110+1100 {
		t.Fatalf("pending spend %d, want %d", spend, 1110+1100)
	}
	if got := rec.ids(); len(got) != 3 || got[2] != repl.ID() {
		t.Fatal("the replacement was not announced")
	}
	if tmpl := ids(p.Template(10, 1<<20)); !slices.Equal(tmpl, ids([]*chain.Tx{repl, next})) {
		t.Fatal("template does not use the replacement")
	}

	// A replacement the sender cannot pay together with its other pending
	// transaction is refused even with a high enough fee.
	rich := chaintest.Tx(fc.p, k, to, funds-1100, 500, 0)
	wantErr(t, p.Add(rich), ErrInsufficientFunds, consensus.ErrInsufficientFunds)
	if !p.Has(repl.ID()) {
		t.Fatal("refused replacement removed the pooled one")
	}
	checkInvariants(t, p)
}

func TestDoubleSpend(t *testing.T) {
	p, fc, keys := setup(t, 3, Config{})
	fc.set(keys[0].Address(), state.Account{Balance: 1000})
	k := keys[0]
	first := chaintest.Tx(fc.p, k, keys[1].Address(), 600, 1, 0)
	mustAdd(t, p, first)
	second := chaintest.Tx(fc.p, k, keys[2].Address(), 600, 1, 1)
	err := p.Add(second)
	wantErr(t, err, ErrInsufficientFunds, consensus.ErrInsufficientFunds)
	if consensus.CodeOf(err) != consensus.CodeInsufficientFunds {
		t.Fatalf("CodeOf = %v", consensus.CodeOf(err))
	}
	// A transaction behind a gap counts too: filling the gap must keep the
	// whole run payable.
	mustAdd(t, p, chaintest.Tx(fc.p, k, keys[1].Address(), 300, 0, 2))
	wantErr(t, p.Add(chaintest.Tx(fc.p, k, keys[1].Address(), 200, 0, 1)), ErrInsufficientFunds)
	mustAdd(t, p, chaintest.Tx(fc.p, k, keys[1].Address(), 99, 0, 1))
	if n, spend, next := p.Pending(k.Address()); n != 3 || spend != 1000 || next != 3 {
		t.Fatalf("Pending = %d, %d, %d; want 3, 1000, 3", n, spend, next)
	}
	// More than the balance alone.
	wantErr(t, p.Add(chaintest.Tx(fc.p, keys[1], k.Address(), funds, 1, 0)), ErrInsufficientFunds)
	checkInvariants(t, p)
}

func TestBadSignatures(t *testing.T) {
	p, fc, keys := setup(t, 2, Config{})
	var rec recorder
	p.Subscribe(rec.add)
	k, to := keys[0], keys[1].Address()

	tampered := chaintest.Tx(fc.p, k, to, 10, 1, 0)
	tampered.Amount = 11
	err := p.Add(tampered)
	wantErr(t, err, ErrBadSignature, consensus.ErrBadSignature)

	other := chaintest.Params(keys, funds)
	other.GenesisData = "another network"
	if other.GenesisHash() == fc.p.GenesisHash() {
		t.Fatal("test networks share a genesis")
	}
	foreign := chaintest.Tx(other, k, to, 10, 1, 0)
	wantErr(t, p.Add(foreign), ErrBadSignature)

	good := []*chain.Tx{
		chaintest.Tx(fc.p, k, to, 10, 1, 0),
		chaintest.Tx(fc.p, k, to, 10, 1, 1),
		chaintest.Tx(fc.p, k, to, 10, 1, 2),
	}
	errs := p.AddBatch([]*chain.Tx{good[0], tampered, good[1], foreign, good[2]})
	for i, wantBad := range []bool{false, true, false, true, false} {
		if wantBad {
			wantErr(t, errs[i], ErrBadSignature)
		} else if errs[i] != nil {
			t.Fatalf("errs[%d] = %v", i, errs[i])
		}
	}
	if p.Len() != 3 || !slices.Equal(rec.ids(), ids(good)) {
		t.Fatalf("pool holds %d, announced %d; want the 3 good ones", p.Len(), len(rec.ids()))
	}
	checkInvariants(t, p)
}

func TestAddBatchFindsEveryBadSignature(t *testing.T) {
	const n = 60
	p, fc, keys := setup(t, n, Config{})
	txs := make([]*chain.Tx, n)
	bad := map[int]bool{3: true, 10: true, 11: true, 25: true, 40: true, n - 1: true}
	for i := range txs {
		txs[i] = chaintest.Tx(fc.p, keys[i], keys[0].Address(), 5, uint64(i), 0)
		if bad[i] {
			txs[i].Signature[0] ^= 1
		}
	}
	errs := p.AddBatch(txs)
	for i, err := range errs {
		if bad[i] {
			wantErr(t, err, ErrBadSignature)
		} else if err != nil {
			t.Fatalf("errs[%d] = %v", i, err)
		}
	}
	if p.Len() != n-len(bad) {
		t.Fatalf("pool holds %d, want %d", p.Len(), n-len(bad))
	}
	checkInvariants(t, p)
}

func TestSanityRefused(t *testing.T) {
	p, fc, keys := setup(t, 2, Config{})
	k, to := keys[0], keys[1].Address()
	wantErr(t, p.Add(chaintest.Tx(fc.p, k, to, 0, 5, 0)), consensus.ErrZeroAmount)
	wantErr(t, p.Add(&chain.Tx{To: to, Amount: 5}), consensus.ErrExtraCoinbase)
	overflow := chaintest.Tx(fc.p, k, to, math.MaxUint64, 1, 0)
	wantErr(t, p.Add(overflow), consensus.ErrOverflow)
	memo := &chain.Tx{To: to, Amount: 1, Memo: []byte{0xff, 0xfe}}
	k.SignTx(memo, fc.p.GenesisHash())
	wantErr(t, p.Add(memo), consensus.ErrBadEncoding)
	wantErr(t, p.Add(nil), ErrNilTx, consensus.ErrMalformed)
	errs := p.AddBatch([]*chain.Tx{nil, chaintest.Tx(fc.p, k, to, 1, 0, 0)})
	wantErr(t, errs[0], ErrNilTx)
	if errs[1] != nil {
		t.Fatalf("good tx after nil: %v", errs[1])
	}
	p.BlockConnected(nil)
	p.BlockDisconnected(nil)
	p.BlockDisconnected(&chain.Block{Txs: []*chain.Tx{nil}})
	if p.Len() != 1 {
		t.Fatalf("pool holds %d, want 1", p.Len())
	}
}

func TestSenderLimit(t *testing.T) {
	p, fc, keys := setup(t, 2, Config{MaxTxsPerSender: 4})
	k, to := keys[0], keys[1].Address()
	for n := uint64(0); n < 4; n++ {
		mustAdd(t, p, chaintest.Tx(fc.p, k, to, 1, 10, n))
	}
	wantErr(t, p.Add(chaintest.Tx(fc.p, k, to, 1, 10, 4)), ErrSenderLimit)
	// A replacement does not grow the list and is still allowed.
	mustAdd(t, p, chaintest.Tx(fc.p, k, to, 1, 20, 3))
	checkInvariants(t, p)
}

func TestEviction(t *testing.T) {
	p, fc, keys := setup(t, 6, Config{MaxTxs: 4})
	to := keys[0].Address()
	tx := func(k int, fee, nonce uint64) *chain.Tx { return chaintest.Tx(fc.p, keys[k], to, 1, fee, nonce) }
	a0, a1, b, c := tx(0, 1, 0), tx(0, 100, 1), tx(1, 5, 0), tx(2, 6, 0)
	mustAdd(t, p, a0, a1, b, c)

	wantErr(t, p.Add(tx(3, 1, 0)), ErrPoolFull)
	// Behind its own sender's fee-1 transaction, a high fee is worth 1.
	wantErr(t, p.Add(tx(0, 1000, 2)), ErrPoolFull)

	// The lowest fee (a0) is in the middle of a's run: a's last one goes.
	d := tx(3, 2, 0)
	mustAdd(t, p, d)
	if p.Len() != 4 || p.Has(a1.ID()) || !p.Has(a0.ID()) {
		t.Fatalf("after evicting for d: len %d, a0 %v, a1 %v", p.Len(), p.Has(a0.ID()), p.Has(a1.ID()))
	}
	checkInvariants(t, p)
	// Now a0 ends its run and is the lowest: it goes.
	e := tx(4, 3, 0)
	mustAdd(t, p, e)
	if p.Has(a0.ID()) {
		t.Fatal("a0 not evicted")
	}
	if n, _, _ := p.Pending(keys[0].Address()); n != 0 {
		t.Fatalf("sender a still holds %d", n)
	}
	// Equal to the lowest fee (d's 2) is not enough; more evicts d.
	wantErr(t, p.Add(tx(5, 2, 0)), ErrPoolFull)
	f := tx(5, 100, 0)
	mustAdd(t, p, f)
	if p.Has(d.ID()) {
		t.Fatal("d not evicted")
	}
	// A replacement in a full pool evicts nothing.
	b2 := tx(1, 50, 0)
	mustAdd(t, p, b2)
	want := []chain.Hash{f.ID(), b2.ID(), c.ID(), e.ID()}
	if got := ids(p.Txs()); !slices.Equal(got, want) {
		t.Fatalf("pool after evictions holds %x, want f, b2, c, e", got)
	}
	checkInvariants(t, p)
}

func TestEvictionOwnSenderGap(t *testing.T) {
	p, fc, keys := setup(t, 4, Config{MaxTxs: 4})
	to := keys[0].Address()
	tx := func(k int, fee, nonce uint64) *chain.Tx { return chaintest.Tx(fc.p, keys[k], to, 1, fee, nonce) }
	s0, s5 := tx(0, 10, 0), tx(0, 1, 5)
	mustAdd(t, p, s0, s5, tx(1, 4, 0), tx(2, 4, 0))
	// Filling s's gap at nonce 1 with fee 10 beats the pool's lowest fee
	// (s5's 1, at the end of s's list), which goes.
	s1 := tx(0, 10, 1)
	mustAdd(t, p, s1)
	if p.Has(s5.ID()) || !p.Has(s0.ID()) || !p.Has(s1.ID()) {
		t.Fatal("wrong transaction evicted")
	}
	checkInvariants(t, p)
}

func TestSenderRefreshOnAdd(t *testing.T) {
	// A block the pool has not heard of moved the account: the next
	// admission for the sender drops what that block made stale.
	p, fc, keys := setup(t, 2, Config{})
	k, to := keys[0], keys[1].Address()
	t0, t1, t2 := chaintest.Tx(fc.p, k, to, 100, 1, 0), chaintest.Tx(fc.p, k, to, 100, 1, 1), chaintest.Tx(fc.p, k, to, 100, 1, 2)
	mustAdd(t, p, t0, t1, t2)
	fc.set(k.Address(), state.Account{Balance: 150, Nonce: 1})
	if n, spend, next := p.Pending(k.Address()); n != 2 || spend != 202 || next != 3 {
		t.Fatalf("Pending against the moved account = %d, %d, %d; want 2, 202, 3", n, spend, next)
	}
	mustAdd(t, p, chaintest.Tx(fc.p, keys[1], to, 1, 0, 0))
	if p.Len() != 4 {
		t.Fatal("another sender's admission touched this sender")
	}
	// t0 is stale, t1 is payable from 150, t2 is not: a new nonce 2 that
	// fits the remaining 49 takes t2's place.
	t2b := chaintest.Tx(fc.p, k, to, 40, 9, 2)
	mustAdd(t, p, t2b)
	if p.Has(t0.ID()) || !p.Has(t1.ID()) || p.Has(t2.ID()) || !p.Has(t2b.ID()) {
		t.Fatalf("after refresh: t0 %v t1 %v t2 %v", p.Has(t0.ID()), p.Has(t1.ID()), p.Has(t2.ID()))
	}
	wantErr(t, p.Add(chaintest.Tx(fc.p, k, to, 1, 0, 3)), ErrInsufficientFunds)
	checkInvariants(t, p)
}

// TestUnfundedRefusedBeforeSignature: a transaction its sender cannot pay
// is refused as ErrUnfunded (and ErrInsufficientFunds) before its
// signature is looked at, by Add and AddBatch alike, so a flood from
// unfunded keys costs no signature verification. A used nonce is refused
// before the signature too. The proof: such transactions carrying bad
// signatures are refused for the cheap reason, not ErrBadSignature.
func TestUnfundedRefusedBeforeSignature(t *testing.T) {
	p, fc, keys := setup(t, 3, Config{})
	poor := chaintest.Key(77) // no account at the tip
	unfunded := chaintest.Tx(fc.p, poor, keys[1].Address(), 10, 1, 0)
	unfunded.Signature[3] ^= 1
	wantErr(t, p.Add(unfunded), ErrUnfunded, ErrInsufficientFunds)

	rich := chaintest.Tx(fc.p, keys[0], keys[1].Address(), funds, 1, 0) // cost exceeds the balance by 1
	rich.Signature[3] ^= 1
	wantErr(t, p.Add(rich), ErrUnfunded)

	fc.set(keys[2].Address(), state.Account{Balance: funds, Nonce: 5})
	used := chaintest.Tx(fc.p, keys[2], keys[1].Address(), 10, 1, 4)
	used.Signature[3] ^= 1
	wantErr(t, p.Add(used), ErrNonceTooLow)

	good := chaintest.Tx(fc.p, keys[0], keys[1].Address(), 10, 1, 0)
	badSig := chaintest.Tx(fc.p, keys[2], keys[1].Address(), 10, 1, 5)
	badSig.Signature[3] ^= 1
	errs := p.AddBatch([]*chain.Tx{unfunded, good, rich, used, badSig})
	wantErr(t, errs[0], ErrUnfunded)
	if errs[1] != nil {
		t.Fatalf("funded transaction in the batch: %v", errs[1])
	}
	wantErr(t, errs[2], ErrUnfunded)
	wantErr(t, errs[3], ErrNonceTooLow)
	wantErr(t, errs[4], ErrBadSignature) // funded: its signature is checked
	// Funded but over budget together with the pool is not "unfunded": an
	// honest sender's second spend can fail so.
	second := chaintest.Tx(fc.p, keys[0], keys[1].Address(), funds-5, 1, 1)
	err := p.Add(second)
	wantErr(t, err, ErrInsufficientFunds)
	if errors.Is(err, ErrUnfunded) {
		t.Fatalf("a spend the balance covers alone is reported unfunded: %v", err)
	}
	checkInvariants(t, p)
}

// TestLocalAccounts: a local account (the node's own key) is exempt from
// the per-sender limit and from eviction, within MaxLocalTxs.
func TestLocalAccounts(t *testing.T) {
	p, fc, keys := setup(t, 4, Config{MaxTxs: 8, MaxTxsPerSender: 2, MaxLocalTxs: 6})
	local, to := keys[0], keys[3].Address()
	p.SetLocal(local.Address())
	for n := uint64(0); n < 6; n++ {
		mustAdd(t, p, chaintest.Tx(fc.p, local, to, 1, 1, n))
	}
	wantErr(t, p.Add(chaintest.Tx(fc.p, local, to, 1, 1, 6)), ErrLocalLimit)
	checkInvariants(t, p)

	// A stranger still has the per-sender limit.
	mustAdd(t, p, chaintest.Tx(fc.p, keys[1], to, 1, 1, 0), chaintest.Tx(fc.p, keys[1], to, 1, 1, 1))
	wantErr(t, p.Add(chaintest.Tx(fc.p, keys[1], to, 1, 1, 2)), ErrSenderLimit)
	// The pool is full (8): a stranger's high fee evicts the other
	// stranger, never the local fee-1 transactions.
	hi := chaintest.Tx(fc.p, keys[2], to, 1, 1000, 0)
	mustAdd(t, p, hi)
	if n, _, _ := p.Pending(local.Address()); n != 6 {
		t.Fatalf("local account holds %d after an eviction, want 6", n)
	}
	if n, _, _ := p.Pending(keys[1].Address()); n != 1 {
		t.Fatalf("stranger holds %d, want 1 (its tail evicted)", n)
	}
	checkInvariants(t, p)

	// Marking an account local after it has pooled transactions takes it
	// out of the eviction heap.
	p.SetLocal(keys[2].Address())
	checkInvariants(t, p)
}

// TestLocalEvictsStranger: in a full pool a local transaction takes the
// place of a stranger's whatever the fees; with only local transactions
// left, the pool is full for it too.
func TestLocalEvictsStranger(t *testing.T) {
	p, fc, keys := setup(t, 3, Config{MaxTxs: 2, MaxLocalTxs: 2})
	local, to := keys[0], keys[2].Address()
	p.SetLocal(local.Address())
	stranger := chaintest.Tx(fc.p, keys[1], to, 1, 500, 0)
	mustAdd(t, p, stranger, chaintest.Tx(fc.p, local, to, 1, 0, 0))
	mustAdd(t, p, chaintest.Tx(fc.p, local, to, 1, 0, 1))
	if p.Has(stranger.ID()) {
		t.Fatal("the stranger's transaction was not evicted for a local one")
	}
	wantErr(t, p.Add(chaintest.Tx(fc.p, keys[1], to, 1, 900, 0)), ErrPoolFull)
	checkInvariants(t, p)
}
