package blockchain_test

import (
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/store"
)

// diskLike is the memory store with something of a disk's write latency,
// once slow is set: every writeEvery-th connect or disconnect sleeps
// writeDelay (a sleep per write would take a loaded machine's timer
// granularity, about a millisecond, each time).
type diskLike struct {
	store.Store
	slow   atomic.Bool
	writes atomic.Int64
}

const (
	writeDelay = time.Millisecond
	writeEvery = 16
)

func (d *diskLike) delay() {
	if d.slow.Load() && d.writes.Add(1)%writeEvery == 0 {
		time.Sleep(writeDelay)
	}
}

func (d *diskLike) ConnectBlock(u *store.Update) error {
	d.delay()
	return d.Store.ConnectBlock(u)
}

func (d *diskLike) DisconnectBlock(u *store.Update) error {
	d.delay()
	return d.Store.DisconnectBlock(u)
}

// statusRead reads what GET /api/v1/status reads of the chain (the tip,
// its work, the sync progress's height) and a little of what the
// explorer's routes read (the tip's index entry, a hash by height).
func statusRead(bc *blockchain.Blockchain) {
	tip := bc.Tip()
	_ = bc.Height()
	_, _ = bc.BlockInfo(tip.Hash)
	_, _ = bc.HashAt(tip.Height / 2)
}

// read is one timed read.
type read struct {
	start time.Time
	took  time.Duration
}

// readLatencies reads back to back until stop is closed and returns every
// read's start and latency.
func readLatencies(bc *blockchain.Blockchain, stop <-chan struct{}) []read {
	var out []read
	for {
		select {
		case <-stop:
			return out
		default:
		}
		start := time.Now()
		statusRead(bc)
		out = append(out, read{start, time.Since(start)})
	}
}

// overlapping returns the latencies of the reads that overlap [from, to].
func overlapping(rs []read, from, to time.Time) []time.Duration {
	var out []time.Duration
	for _, r := range rs {
		if r.start.Before(to) && r.start.Add(r.took).After(from) {
			out = append(out, r.took)
		}
	}
	return out
}

func p99(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)*99/100]
}

// TestReadersDuringLongReorg: while one ProcessBlock call reorganises
// 10,000 blocks (2,000 with -short) on the memory store (with a disk's
// write latency, so the reorg lasts seconds), readers of the chain keep
// being answered: the p99 and the longest of the reads that overlap the
// call stay under a bound tied to the p99 of the same reads measured alone
// in this test. (Before, the reorg held the chain's lock from its first
// disconnect to its last connect: one read waited for all of it, which the
// longest read shows; thousands of quick reads before the reorg starts
// keep a p99 alone from showing it.)
func TestReadersDuringLongReorg(t *testing.T) {
	depth := 2000
	if !testing.Short() || os.Getenv("CHAIND_LONG") == "1" {
		depth = 10_000
	}
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 1_000_000_000)
	base := chaintest.NewBranch(p, keys)
	a, b := base.Fork("a"), base.Fork("b")
	for range depth {
		a.Next(nil, chaintest.Spec{})
		b.Next(nil, chaintest.Spec{})
	}
	b.Next(nil, chaintest.Spec{}) // one more: b wins

	st := &diskLike{Store: store.NewMemory()}
	bc := newChainOn(t, p, st)
	mustProcess(t, bc, a.Blocks[1:]...)
	// b's blocks but its last are a side branch of equal work: stored, no reorg.
	mustProcess(t, bc, b.Blocks[1:len(b.Blocks)-1]...)
	requireTip(t, bc, a.Tip())

	// Baseline: the same reads with nothing else happening.
	stop := make(chan struct{})
	time.AfterFunc(300*time.Millisecond, func() { close(stop) })
	alone := readLatencies(bc, stop)
	base99 := p99(overlapping(alone, alone[0].start, time.Now()))

	stop = make(chan struct{})
	var reads []read
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		reads = readLatencies(bc, stop)
	}()
	time.Sleep(20 * time.Millisecond) // the reader is reading
	st.slow.Store(true)
	start := time.Now()
	res, err := bc.ProcessBlock(b.Tip(), blockchain.Requested)
	st.slow.Store(false)
	end := time.Now()
	took := end.Sub(start)
	close(stop)
	wg.Wait()
	// The reads that overlap the call: with the lock held throughout,
	// one or two, one of them as long as the reorg.
	during := overlapping(reads, start, end)
	if err != nil || !res.Reorg {
		t.Fatalf("last block of b: %+v, %v; want a reorg", res, err)
	}
	requireTip(t, bc, b.Tip())

	// The floor covers a loaded machine's scheduling stalls.
	bound := max(300*time.Millisecond, 20*base99)
	got, longest := p99(during), slices.Max(during)
	t.Logf("reorg of %d blocks took %v; reads alone p99 %v; during the reorg %d reads, p99 %v, max %v (bound %v)",
		depth, took, base99, len(during), got, longest, bound)
	if took < 2*bound {
		t.Logf("the reorg was too quick (%v) to tell a held lock from a released one", took)
	}
	if got > bound {
		t.Fatalf("reads during the reorg: p99 %v; bound %v (20 x alone, at least 300 ms)", got, bound)
	}
	// The longest read, against the reorg's own length (a machine loaded
	// by other work stretches both): a lock held throughout makes one read
	// as long as the reorg.
	if longest > max(bound, took/2) {
		t.Fatalf("the longest read during the reorg took %v, more than half the %v reorg", longest, took)
	}
	// Every read saw a consistent chain: checked by the reads themselves
	// (HashAt below the tip never fails); the end state is b's.
	if h, err := bc.HashAt(uint32(depth)); err != nil || h != b.Blocks[depth].Hash() {
		t.Fatalf("height %d: %v %v", depth, h, err)
	}
}
