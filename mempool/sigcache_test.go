package mempool

import (
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
)

// TestSigCacheHoldsAdmittedOnly: the pool adds the ids of the
// transactions it admits, singly or in a batch, and none of those it
// refuses, whether for their signature or for a rule checked after it.
func TestSigCacheHoldsAdmittedOnly(t *testing.T) {
	keys := chaintest.Keys(3)
	fc := newFakeChain(keys, funds)
	sc := consensus.NewSigCache(fc.p.GenesisHash(), 100)
	p := New(fc, Config{SigCache: sc, MaxNonceGap: 2})

	single := chaintest.Tx(fc.p, keys[0], keys[1].Address(), 10, 1, 0)
	mustAdd(t, p, single)
	batch := []*chain.Tx{
		chaintest.Tx(fc.p, keys[1], keys[2].Address(), 10, 1, 0),
		chaintest.Tx(fc.p, keys[1], keys[2].Address(), 10, 1, 1),
		chaintest.Tx(fc.p, keys[2], keys[0].Address(), 10, 1, 0),
	}
	badSig := chaintest.Tx(fc.p, keys[2], keys[0].Address(), 10, 1, 1)
	badSig.Signature[0] ^= 1
	gap := chaintest.Tx(fc.p, keys[0], keys[1].Address(), 10, 1, 9) // valid signature, refused by admit
	errs := p.AddBatch(append(batch, badSig, gap))
	for i := range batch {
		if errs[i] != nil {
			t.Fatalf("batch tx %d: %v", i, errs[i])
		}
	}
	wantErr(t, errs[3], ErrBadSignature)
	wantErr(t, errs[4], ErrNonceGap)
	wantErr(t, p.Add(gap), ErrNonceGap)

	for _, tx := range append([]*chain.Tx{single}, batch...) {
		if !sc.Contains(tx.ID()) {
			t.Fatalf("admitted tx nonce %d not cached", tx.Nonce)
		}
	}
	if sc.Contains(badSig.ID()) || sc.Contains(gap.ID()) || sc.Len() != 4 {
		t.Fatalf("refused transactions cached: bad signature %v, nonce gap %v, %d entries",
			sc.Contains(badSig.ID()), sc.Contains(gap.ID()), sc.Len())
	}

	// A copy of an admitted transaction with another signature has its
	// own id: verified, and refused.
	forged := *batch[0]
	forged.Signature[5] ^= 1
	forged.Fee = 100 // would replace batch[0] if it verified
	wantErr(t, p.Add(&forged), ErrBadSignature)
	wantErr(t, p.AddBatch([]*chain.Tx{&forged})[0], ErrBadSignature)
}

// TestSigCacheHitSkipsPoolVerification shows that a cached id is taken as
// verified: an id put in the cache by hand for a transaction whose
// signature is bad (what no caller may do) lets it in, singly and in a
// batch, where without the entry it is refused.
func TestSigCacheHitSkipsPoolVerification(t *testing.T) {
	keys := chaintest.Keys(2)
	fc := newFakeChain(keys, funds)
	sc := consensus.NewSigCache(fc.p.GenesisHash(), 100)
	p := New(fc, Config{SigCache: sc})
	probe := func(from int) *chain.Tx {
		tx := chaintest.Tx(fc.p, keys[from], keys[1-from].Address(), 10, 1, 0)
		tx.Signature[0] ^= 1
		return tx
	}
	a, b := probe(0), probe(1)
	wantErr(t, p.Add(a), ErrBadSignature)
	wantErr(t, p.AddBatch([]*chain.Tx{b})[0], ErrBadSignature)
	sc.Add(a.ID(), b.ID())
	mustAdd(t, p, a)
	if err := p.AddBatch([]*chain.Tx{b})[0]; err != nil {
		t.Fatalf("batch with a cached id: %v", err)
	}

	// A cache of another network is not used.
	other := consensus.NewSigCache(chain.HashBytes([]byte("other")), 100)
	other.Add(a.ID())
	p2 := New(fc, Config{SigCache: other})
	wantErr(t, p2.Add(a), ErrBadSignature)
}
