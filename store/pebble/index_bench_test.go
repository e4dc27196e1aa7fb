package pebble

import (
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/chaintest"
)

// Shape of BenchmarkChainConnect1000.
const (
	indexBenchBlocks = 10
	indexBenchTxs    = 1000
	indexBenchKeys   = 200
)

var indexBench struct {
	once   sync.Once
	blocks []*chain.Block
}

// BenchmarkChainConnect1000 connects blocks of 1,000 signed transfers
// through the chain (sanity checks, signatures on all cores, state, one
// synced Pebble batch each), with the address index (as every node runs)
// and without it, in the same run: the index's cost is the difference.
// Compare blockchain's BenchmarkConnectBlock1000 (the same blocks on the
// memory store).
func BenchmarkChainConnect1000(b *testing.B) {
	keys := chaintest.Keys(indexBenchKeys)
	p := chaintest.Params(keys, 1<<50)
	p.MaxBlockTxs = chain.MaxBlockTxs
	p.MaxBlockSize = chain.MaxBlockSize
	indexBench.once.Do(func() {
		br := chaintest.NewBranch(p, keys)
		rng := rand.New(rand.NewSource(1))
		for range indexBenchBlocks {
			indexBench.blocks = append(indexBench.blocks, br.Next(br.RandomTxs(rng, indexBenchTxs), chaintest.Spec{}))
		}
	})
	for _, tc := range []struct {
		name    string
		noIndex bool
	}{{"index", false}, {"noindex", true}} {
		b.Run(tc.name, func(b *testing.B) {
			var txs int
			var elapsed time.Duration
			for range b.N {
				b.StopTimer()
				st, err := Open(b.TempDir(), p.Name, p.GenesisHash(), WithLogger(quietLogger()))
				if err != nil {
					b.Fatal(err)
				}
				st.noAddressIndex = tc.noIndex
				bc, err := blockchain.New(blockchain.Config{Params: p, Store: st})
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				b.StartTimer()
				for _, blk := range indexBench.blocks {
					if _, err := bc.ProcessBlock(blk, blockchain.Requested); err != nil {
						b.Fatal(err)
					}
					txs += len(blk.Txs) - 1
				}
				b.StopTimer()
				elapsed += time.Since(start)
				st.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(txs)/elapsed.Seconds(), "tx/s")
			b.ReportMetric(float64(elapsed.Microseconds())/float64(b.N*indexBenchBlocks)/1000, "ms/block")
		})
	}
}
