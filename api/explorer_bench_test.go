package api

import (
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/wallet"
)

// Shapes of the explorer benchmarks.
const (
	benchChainBlocks  = 100_000 // blocks of the overview and blocks-page store (CHAIND_BENCH_BLOCKS overrides)
	benchHistoryTxs   = 10_000  // transactions of the busy address
	benchHistoryBlock = 1000    // transactions per block of the history store
)

// benchEnv starts a node whose chain is blocks (processed before the
// benchmark's timer), with its clock after the last block.
func benchEnv(b *testing.B, p *consensus.Params, blocks []*chain.Block) *testEnv {
	b.Helper()
	last := blocks[len(blocks)-1].Header.Timestamp
	now := func() time.Time { return time.Unix(int64(last)+60, 0) }
	e := startEnv(b, node.Config{Params: p, DataDir: b.TempDir(), Threads: 1, Now: now}, Config{})
	start := time.Now()
	for _, blk := range blocks {
		if _, err := e.n.Chain.ProcessBlock(blk, blockchain.Requested); err != nil {
			b.Fatalf("block %d: %v", blk.Header.Height, err)
		}
	}
	b.Logf("stored %d blocks in %v", len(blocks), time.Since(start).Round(time.Millisecond))
	return e
}

// serve times GET paths through the server's handler (no network): the
// server time of one page's API calls.
func serve(b *testing.B, e *testEnv, paths ...string) {
	b.Helper()
	h := e.s.Handler()
	b.ResetTimer()
	for range b.N {
		for _, p := range paths {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, p, nil)
			req.Host = "127.0.0.1" // the server refuses other names (DNS rebinding protection)
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("GET %s: %d %s", p, rec.Code, rec.Body)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/page")
}

// BenchmarkExplorerChain times the API calls of the overview and of the
// blocks page (the newest page and one deep in the chain) on a node with a
// 100,000-block chain in its Pebble store.
func BenchmarkExplorerChain(b *testing.B) {
	n := benchChainBlocks
	if s := os.Getenv("CHAIND_BENCH_BLOCKS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, consensus.Coin)
	br := chaintest.NewBranch(p, keys)
	blocks := make([]*chain.Block, 0, n)
	for range n {
		blocks = append(blocks, br.Next(nil, chaintest.Spec{}))
	}
	e := benchEnv(b, p, blocks)
	for range benchRounds() { // rounds on the one store: -count would rebuild it
		b.Run("overview", func(b *testing.B) {
			serve(b, e, "/api/v1/status", "/api/v1/tree?heights=30", "/api/v1/blocks?limit=8")
		})
		b.Run("blocks-newest", func(b *testing.B) {
			serve(b, e, "/api/v1/blocks?order=desc&limit=20")
		})
		b.Run("blocks-deep", func(b *testing.B) {
			serve(b, e, fmt.Sprintf("/api/v1/blocks?order=desc&limit=20&from=%d", n/2))
		})
		b.Run("forks", func(b *testing.B) {
			serve(b, e, "/api/v1/tree?heights=20", "/api/v1/chaintips?limit=100")
		})
		b.Run("charts", func(b *testing.B) {
			serve(b, e, "/api/v1/tree?heights=1000")
		})
	}
}

// benchRounds is how many times the explorer benchmarks run each
// sub-benchmark on their one store (CHAIND_BENCH_ROUNDS, default 1), for
// medians.
func benchRounds() int {
	if n, err := strconv.Atoi(os.Getenv("CHAIND_BENCH_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 1
}

// BenchmarkExplorerAddressHistory times one page of the history of an
// address that received 10,000 transactions: the newest page and one in
// the middle, as the address page asks for them.
func BenchmarkExplorerAddressHistory(b *testing.B) {
	keys := chaintest.Keys(200)
	p := chaintest.Params(keys, 1<<50)
	p.MaxBlockTxs = chain.MaxBlockTxs
	p.MaxBlockSize = chain.MaxBlockSize
	br := chaintest.NewBranch(p, keys)
	busy := chaintest.Key(1000).Address()
	rng := rand.New(rand.NewSource(1))
	var blocks []*chain.Block
	for range benchHistoryTxs / benchHistoryBlock {
		txs := br.RandomTxs(rng, benchHistoryBlock)
		for _, tx := range txs { // all to the busy address: re-sign with the new recipient
			tx.To = busy
		}
		resign(p, keys, txs)
		blocks = append(blocks, br.Next(txs, chaintest.Spec{}))
	}
	e := benchEnv(b, p, blocks)
	addr := chain.FormatAddress(p.AddressPrefix, busy)
	var h apitypes.History
	e.call("GET", "/api/v1/addresses/"+addr+"/txs?limit=100", nil, 200, &h)
	if len(h.Txs) != 100 || h.Next == "" {
		b.Fatalf("busy address history: %d entries, next %q", len(h.Txs), h.Next)
	}
	mid := fmt.Sprintf("%d-%d", len(blocks)/2, benchHistoryBlock/2)
	for range benchRounds() {
		b.Run("newest", func(b *testing.B) {
			serve(b, e, "/api/v1/addresses/"+addr+"/txs?limit=25")
		})
		b.Run("middle", func(b *testing.B) {
			serve(b, e, "/api/v1/addresses/"+addr+"/txs?limit=25&before="+mid)
		})
		b.Run("page", func(b *testing.B) { // what the address page asks for at once
			serve(b, e, "/api/v1/accounts/"+addr, "/api/v1/addresses/"+addr+"/txs?limit=25", "/api/v1/mempool?limit=1000")
		})
	}
}

// resign signs txs again after their recipient changed, each with the key
// whose public key it carries.
func resign(p *consensus.Params, keys []*wallet.Key, txs []*chain.Tx) {
	byPub := make(map[chain.PublicKey]*wallet.Key, len(keys))
	for _, k := range keys {
		byPub[k.PublicKey()] = k
	}
	for _, tx := range txs {
		byPub[tx.From].SignTx(tx, p.GenesisHash())
	}
}
