//go:build unix

package pebble

import (
	"math/rand"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/store/storetest"
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
// memory store). CHAIND_BENCH_ROUNDS=n runs both n times, alternating.
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
	// Rounds alternate the two, so a machine whose load changes treats
	// both alike (-count would run all of one first), and which goes
	// first alternates too (the first of a pair pays for the garbage the
	// round before left).
	rounds := 1
	if n, err := strconv.Atoi(os.Getenv("CHAIND_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	for r := range rounds {
		for i := range 2 {
			noIndex := (i+r)%2 == 1
			name := "index"
			if noIndex {
				name = "noindex"
			}
			b.Run(name, func(b *testing.B) { benchChainConnect(b, p, noIndex) })
		}
	}
}

func benchChainConnect(b *testing.B, p *consensus.Params, noIndex bool) {
	var txs int
	var elapsed time.Duration
	cpu := processCPU()
	for range b.N {
		b.StopTimer()
		st, err := Open(b.TempDir(), p.Name, p.GenesisHash(), WithLogger(quietLogger()))
		if err != nil {
			b.Fatal(err)
		}
		st.noAddressIndex = noIndex
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
	// CPU time (user and system, all threads, setup included) is steadier
	// than wall time on a shared machine.
	b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N*indexBenchBlocks)/1000, "cpu-ms/block")
}

// processCPU is the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPebbleConnect1000 is the store alone: synced ConnectBlock calls
// of blocks of 1,000 transfers, with the address index and without it,
// alternating by round (CHAIND_BENCH_ROUNDS).
func BenchmarkPebbleConnect1000(b *testing.B) {
	rounds := 1
	if n, err := strconv.Atoi(os.Getenv("CHAIND_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	for range rounds {
		for _, tc := range []struct {
			name    string
			noIndex bool
		}{{"index", false}, {"noindex", true}} {
			b.Run(tc.name, func(b *testing.B) {
				c := storetest.NewChain(9, benchPool, false, false)
				p := openTestStore(b, b.TempDir(), c)
				defer p.Close()
				p.noAddressIndex = tc.noIndex
				storetest.MustConnect(b, p, c.Genesis(b))
				var pending []*store.Update
				cpu := processCPU()
				b.ResetTimer()
				for i := range b.N {
					if len(pending) == 0 {
						b.StopTimer()
						for range min(50, b.N-i) {
							pending = append(pending, c.Next(b, indexBenchTxs))
						}
						b.StartTimer()
					}
					storetest.MustConnect(b, p, pending[0])
					pending = pending[1:]
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/block")
				b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N)/1000, "cpu-ms/block")
			})
		}
	}
}

// BenchmarkAddressEntries1000 is the index's CPU work for one block of
// 1,000 transfers: grouping the block's entries by address, with their keys.
func BenchmarkAddressEntries1000(b *testing.B) {
	c := storetest.NewChain(10, benchPool, false, false)
	c.Genesis(b)
	blk := c.Build(indexBenchTxs)
	key := make([]byte, 0, addressKeySize)
	b.ResetTimer()
	for range b.N {
		for _, g := range addressGroups(blk) {
			key = appendAddressKey(key[:0], g.addr, 1)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/block")
}

// BenchmarkAddressHistoryPage reads a page of 25 history entries of an
// address that is in about two of every 1,000 transfers of 100 blocks of
// 1,000 (so the page spans about a dozen blocks, each read and the
// page's transactions decoded from it): the newest page and one from the
// middle.
func BenchmarkAddressHistoryPage(b *testing.B) {
	c := storetest.NewChain(11, benchPool, false, false)
	p := openTestStore(b, b.TempDir(), c)
	defer p.Close()
	storetest.MustConnect(b, p, c.Genesis(b))
	for range 100 {
		u := c.Next(b, indexBenchTxs)
		u.Deferred = true
		storetest.MustConnect(b, p, u)
	}
	if err := p.Sync(); err != nil {
		b.Fatal(err)
	}
	tip, _, _ := p.Tip()
	blk, err := p.Block(tip)
	if err != nil {
		b.Fatal(err)
	}
	addr := blk.Txs[1].Sender()
	all, err := p.AddressHistory(addr, nil, store.MaxHistoryPage)
	if err != nil || len(all) < 100 {
		b.Fatalf("history of the busy address: %d entries, %v", len(all), err)
	}
	mid := all[len(all)/2].TxPosition
	heights := map[uint32]bool{}
	for _, e := range all[:25] {
		heights[e.Height] = true
	}
	for _, tc := range []struct {
		name   string
		before *store.TxPosition
	}{{"newest", nil}, {"middle", &mid}} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				if page, err := p.AddressHistory(addr, tc.before, 25); err != nil || len(page) != 25 {
					b.Fatalf("page: %d entries, %v", len(page), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/page")
			b.ReportMetric(float64(len(heights)), "blocks/page")
		})
	}
}
