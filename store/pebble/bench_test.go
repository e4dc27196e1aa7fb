package pebble

import (
	"github.com/chaind/chaind/store"
	"os"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/state"
	"github.com/chaind/chaind/store/storetest"
)

// Sizes of the benchmarks and the long test.
const (
	benchTxsPerBlock = 100    // transfers per block (plus the coinbase)
	benchPool        = 1000   // funded sender keys
	benchGenBatch    = 500    // blocks generated per pause of the benchmark timer
	largeStoreBlocks = 10_000 // blocks of the large store the reopen test builds
	reopenBudget     = time.Second
	longEnv          = "CHAIND_LONG" // set to 1 to run the long tests
)

// BenchmarkPebbleConnect measures synced ConnectBlock calls of blocks of
// benchTxsPerBlock transfers, each to a new random address (so every
// block writes about 2*benchTxsPerBlock accounts, an undo record of that
// size and benchTxsPerBlock transaction index entries).
func BenchmarkPebbleConnect(b *testing.B) {
	c := storetest.NewChain(7, benchPool, true, false)
	p := openTestStore(b, b.TempDir(), c)
	defer p.Close()
	storetest.MustConnect(b, p, c.Genesis(b))
	var pending []*store.Update
	b.ResetTimer()
	for i := range b.N {
		if len(pending) == 0 {
			b.StopTimer()
			for range min(benchGenBatch, b.N-i) {
				pending = append(pending, c.Next(b, benchTxsPerBlock))
			}
			b.StartTimer()
		}
		storetest.MustConnect(b, p, pending[0])
		pending = pending[1:]
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/secs, "blocks/s")
	b.ReportMetric(float64(b.N*benchTxsPerBlock)/secs, "tx/s")
}

// TestPebbleReopenLarge builds a store of largeStoreBlocks blocks of
// benchTxsPerBlock transfers to new addresses (about a million accounts and
// a million indexed transactions) and checks that reopening it (Open,
// ForEachHeader, ForEachAccount, Tip: what a node does at start) takes
// less than reopenBudget. It runs only with CHAIND_LONG=1.
func TestPebbleReopenLarge(t *testing.T) {
	if os.Getenv(longEnv) != "1" {
		t.Skipf("set %s=1 to build a %d-block store and time its reopening", longEnv, largeStoreBlocks)
	}
	dir := t.TempDir()
	c := storetest.NewChain(8, benchPool, true, false)
	p := openTestStore(t, dir, c)
	storetest.MustConnect(t, p, c.Genesis(t))
	var connect time.Duration
	for range largeStoreBlocks {
		u := c.Next(t, benchTxsPerBlock)
		start := time.Now()
		storetest.MustConnect(t, p, u)
		connect += time.Since(start)
	}
	t.Logf("built %d blocks of %d transfers: %v in ConnectBlock, %.0f blocks/s, %.0f tx/s",
		largeStoreBlocks, benchTxsPerBlock, connect.Round(time.Millisecond),
		largeStoreBlocks/connect.Seconds(), largeStoreBlocks*benchTxsPerBlock/connect.Seconds())
	wantTip, _, _ := p.Tip()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	p = openTestStore(t, dir, c)
	defer p.Close()
	opened := time.Since(start)
	var headerCount, accountCount int
	if err := p.ForEachHeader(func(store.HeaderRecord) error { headerCount++; return nil }); err != nil {
		t.Fatal(err)
	}
	headersRead := time.Since(start)
	if err := p.ForEachAccount(func(chain.Address, state.Account) error { accountCount++; return nil }); err != nil {
		t.Fatal(err)
	}
	accountsRead := time.Since(start)
	tip, ok, err := p.Tip()
	total := time.Since(start)
	if err != nil || !ok || tip != wantTip {
		t.Fatalf("tip after reopening: %s, %v, %v; want %s", tip, ok, err, wantTip)
	}
	if headerCount != largeStoreBlocks+1 || accountCount != c.State.Len() {
		t.Fatalf("reopened store lists %d headers and %d accounts, want %d and %d",
			headerCount, accountCount, largeStoreBlocks+1, c.State.Len())
	}
	t.Logf("reopen: Open %v, +ForEachHeader (%d) %v, +ForEachAccount (%d) %v, +Tip %v",
		opened.Round(time.Millisecond), headerCount, headersRead.Round(time.Millisecond),
		accountCount, accountsRead.Round(time.Millisecond), total.Round(time.Millisecond))
	if total > reopenBudget {
		t.Fatalf("reopening took %v, budget %v", total, reopenBudget)
	}
}
