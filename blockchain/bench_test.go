package blockchain_test

import (
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/store"
)

// benchBlocks builds n blocks of txs signed transactions each, once per
// shape, on a regtest network funding 200 keys.
var benchCache sync.Map

type benchChain struct {
	p      *consensus.Params
	blocks []*chain.Block
}

func benchBlocks(b *testing.B, n, txs int) benchChain {
	key := [2]int{n, txs}
	if v, ok := benchCache.Load(key); ok {
		return v.(benchChain)
	}
	b.Helper()
	keys := chaintest.Keys(200)
	p := chaintest.Params(keys, 1<<50)
	p.MaxBlockTxs = chain.MaxBlockTxs
	p.MaxBlockSize = chain.MaxBlockSize
	br := chaintest.NewBranch(p, keys)
	rng := rand.New(rand.NewSource(1))
	blocks := make([]*chain.Block, 0, n)
	for i := 0; i < n; i++ {
		blocks = append(blocks, br.Next(br.RandomTxs(rng, txs), chaintest.Spec{}))
	}
	bc := benchChain{p: p, blocks: blocks}
	benchCache.Store(key, bc)
	return bc
}

// BenchmarkConnectBlock1000 connects blocks of 1,000 signed transactions
// (sanity checks, parallel signature verification, state, store) on an
// in-memory store. Compare its tx/s with BenchmarkVerifyBatchAllCores.
func BenchmarkConnectBlock1000(b *testing.B) {
	bb := benchBlocks(b, 10, 1000)
	b.ResetTimer()
	var txs int
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		bc, err := blockchain.New(blockchain.Config{Params: bb.p, Store: store.NewMemory()})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		b.StartTimer()
		for _, blk := range bb.blocks {
			if _, err := bc.ProcessBlock(blk, blockchain.Requested); err != nil {
				b.Fatal(err)
			}
			txs += len(blk.Txs) - 1
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(txs)/elapsed.Seconds(), "tx/s")
}

// BenchmarkVerifyBatchAllCores is the signature verifier alone on the same
// transactions: the ceiling for BenchmarkConnectBlock1000.
func BenchmarkVerifyBatchAllCores(b *testing.B) {
	bb := benchBlocks(b, 10, 1000)
	b.ResetTimer()
	var n int
	for i := 0; i < b.N; i++ {
		for _, blk := range bb.blocks {
			if _, ok := consensus.VerifyTxs(blk.Txs, bb.p.GenesisHash()); !ok {
				b.Fatal("bad signature")
			}
			n += len(blk.Txs) - 1
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "sigs/s")
}

// BenchmarkConnectBlock100SigCache connects blocks of 100 signed transfers
// (the devnet's 100-transaction blocks) through ProcessBlock with the
// signature cache cold (nothing seen before: every signature is
// batch-verified, as without a cache) and warm (every transaction already
// admitted by the pool: its id is cached and no signature is checked);
// off is the chain without a cache, as before it existed.
func BenchmarkConnectBlock100SigCache(b *testing.B) {
	bb := benchBlocks(b, 10, 100)
	for _, mode := range []string{"off", "cold", "warm"} {
		b.Run(mode, func(b *testing.B) {
			entries := 0
			if mode == "off" {
				entries = -1
			}
			var blocks int
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				bc, err := blockchain.New(blockchain.Config{Params: bb.p, Store: store.NewMemory(), SigCacheEntries: entries})
				if err != nil {
					b.Fatal(err)
				}
				if mode == "warm" {
					for _, blk := range bb.blocks {
						bc.SigCache().Add(chain.TxIDs(blk.Txs[1:])...)
					}
				}
				start := time.Now()
				for _, blk := range bb.blocks {
					if _, err := bc.ProcessBlock(blk, blockchain.Requested); err != nil {
						b.Fatal(err)
					}
					blocks++
				}
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(blocks), "ms/block")
			b.ReportMetric(0, "ns/op")
		})
	}
}
