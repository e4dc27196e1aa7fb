package systest

import (
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/store/pebble"
)

// BenchmarkPebbleChain connects CHAIND_BENCH_BLOCKS (default 10,000) blocks
// of 100 transactions through the chain onto a fresh Pebble store, then
// closes and reopens it. Building the blocks (a million signatures) is not
// timed.
func BenchmarkPebbleChain(b *testing.B) {
	bb := benchBlocks(b, 100)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		st, err := pebble.Open(dir, bb.p.Name, bb.p.GenesisHash())
		if err != nil {
			b.Fatal(err)
		}
		bc, err := blockchain.New(blockchain.Config{Params: bb.p, Store: st})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		var txs int
		for _, blk := range bb.blocks {
			if _, err := bc.ProcessBlock(blk, blockchain.Requested); err != nil {
				b.Fatal(err)
			}
			txs += len(blk.Txs) - 1
		}
		connect := time.Since(start)
		tip := bc.Tip()
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		st, err = pebble.Open(dir, bb.p.Name, bb.p.GenesisHash())
		if err != nil {
			b.Fatal(err)
		}
		bc, err = blockchain.New(blockchain.Config{Params: bb.p, Store: st})
		if err != nil {
			b.Fatal(err)
		}
		reopen := time.Since(start)
		if bc.Tip().Hash != tip.Hash {
			b.Fatal("reopened on another tip")
		}
		st.Close()
		b.ReportMetric(float64(len(bb.blocks))/connect.Seconds(), "blocks/s")
		b.ReportMetric(float64(txs)/connect.Seconds(), "tx/s")
		b.ReportMetric(float64(reopen.Milliseconds()), "reopen-ms")
	}
}
