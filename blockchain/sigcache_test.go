package blockchain_test

import (
	"errors"
	"math/rand"
	"testing"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/store"
)

// sigBranch returns a branch on a network funding 20 keys.
func sigBranch() *chaintest.Branch {
	keys := chaintest.Keys(20)
	return chaintest.NewBranch(chaintest.Params(keys, 1<<40), keys)
}

func TestSigCacheSkipsPoolVerifiedTxs(t *testing.T) {
	br := sigBranch()
	b := br.Next(br.RandomTxs(rand.New(rand.NewSource(1)), 100), chaintest.Spec{})

	cold := newChain(t, br.P)
	mustProcess(t, cold, b)
	if s := cold.SigCache().Stats(); s.Hits != 0 || s.Misses != 100 {
		t.Fatalf("cold cache: %+v, want 100 signatures verified", s)
	}

	warm := newChain(t, br.P)
	warm.SigCache().Add(chain.TxIDs(b.Txs[1:])...) // what the pool admitted
	mustProcess(t, warm, b)
	if s := warm.SigCache().Stats(); s.Hits != 100 || s.Misses != 0 {
		t.Fatalf("warm cache: %+v, want all 100 signatures found and none verified", s)
	}
	if ok, diff := chainState(cold).Equal(chainState(warm)); !ok {
		t.Fatalf("the warm and cold chains disagree on the state: %s", diff)
	}
}

// TestSigCacheForgedTxInBlockRefused offers blocks in which one
// transaction is a cached one with another signature, or with the cached
// signature on changed fields: neither is taken from the cache.
func TestSigCacheForgedTxInBlockRefused(t *testing.T) {
	br := sigBranch()
	txs := br.RandomTxs(rand.New(rand.NewSource(2)), 30)
	bc := newChain(t, br.P)
	bc.SigCache().Add(chain.TxIDs(txs)...)

	forge := map[string]func(tx *chain.Tx){
		"signature": func(tx *chain.Tx) { tx.Signature[10] ^= 0x40 },
		"amount":    func(tx *chain.Tx) { tx.Amount-- },
	}
	for name, change := range forge {
		list := append([]*chain.Tx(nil), txs...)
		forged := *list[7]
		change(&forged)
		list[7] = &forged
		fb := br.Fork("forged "+name).Next(list, chaintest.Spec{})
		_, err := bc.ProcessBlock(fb, blockchain.Requested)
		if !errors.Is(err, consensus.ErrBadSignature) {
			t.Fatalf("forged %s: %v, want a bad signature", name, err)
		}
		if bc.SigCache().Contains(forged.ID()) {
			t.Fatalf("forged %s: its id was cached", name)
		}
	}
	honest := br.Next(txs, chaintest.Spec{})
	mustProcess(t, bc, honest)
	requireTip(t, bc, honest)
}

func TestSigCacheForgetsBuriedBlocks(t *testing.T) {
	br := sigBranch()
	rng := rand.New(rand.NewSource(3))
	bc := newChain(t, br.P)
	var blocks []*chain.Block
	for i := 0; i < 4; i++ {
		b := br.Next(br.RandomTxs(rng, 10), chaintest.Spec{})
		bc.SigCache().Add(chain.TxIDs(b.Txs[1:])...)
		blocks = append(blocks, b)
	}
	mustProcess(t, bc, blocks...)
	// Tip at height 4: blocks 1 and 2 are SigCacheKeepDepth deep or more.
	for i, b := range blocks {
		want := i+1 > len(blocks)-blockchain.SigCacheKeepDepth
		for _, tx := range b.Txs[1:] {
			if got := bc.SigCache().Contains(tx.ID()); got != want {
				t.Fatalf("block %d's tx %s cached %v, want %v", i+1, tx.ID(), got, want)
			}
		}
	}
	if n := bc.SigCache().Len(); n != 10*blockchain.SigCacheKeepDepth {
		t.Fatalf("%d entries left, want %d", n, 10*blockchain.SigCacheKeepDepth)
	}
}

func TestSigCacheOff(t *testing.T) {
	br := sigBranch()
	b := br.Next(br.RandomTxs(rand.New(rand.NewSource(4)), 10), chaintest.Spec{})
	bc, err := blockchain.New(blockchain.Config{Params: br.P, Store: store.NewMemory(), SigCacheEntries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if bc.SigCache() != nil {
		t.Fatal("SigCacheEntries -1 left a cache")
	}
	mustProcess(t, bc, b)
	requireTip(t, bc, b)
}
