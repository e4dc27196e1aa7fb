package miner

import (
	"context"
	"math"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/store"
)

func TestNonceRanges(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 7, MaxThreads} {
		rs := nonceRanges(threads, 0)
		if rs[0].next != 0 || rs[threads-1].last != MaxNonce {
			t.Fatalf("%d threads: space [%d, %d], want all of it", threads, rs[0].next, rs[threads-1].last)
		}
		for i := 1; i < threads; i++ {
			if rs[i].next != rs[i-1].last+1 || rs[i].last < rs[i].next {
				t.Fatalf("%d threads: range %d [%d, %d] does not follow [%d, %d]", threads, i, rs[i].next, rs[i].last, rs[i-1].next, rs[i-1].last)
			}
		}
	}
	rs := nonceRanges(2, 8)
	if rs[0] != (nonceRange{next: 0, last: 7}) || rs[1] != (nonceRange{next: 8, last: 15}) {
		t.Fatalf("span 8: %+v", rs)
	}
}

// TestRoundExhausts checks that a round over a finite space with no
// solution hashes every nonce once, reports exhaustion, and that an
// unchanged header resumes instead of hashing again.
func TestRoundExhausts(t *testing.T) {
	bc, err := blockchain.New(blockchain.Config{Params: consensus.Regtest(), Store: store.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	m := New(bc, nil, Config{Threads: 2})
	const span = 3*chunkNonces + 1000
	m.nonceSpan = span
	c, wait, err := m.build(nil, m.Address())
	if err != nil || wait != 0 {
		t.Fatalf("build: wait %v, err %v", wait, err)
	}
	c.target = [chain.HashSize]byte{} // no hash meets it
	if out := m.round(context.Background(), m.newJob(c, m.tipGen.Load(), false)); out != exhausted {
		t.Fatalf("outcome %d, want exhausted", out)
	}
	if got := m.hashes.Load(); got != 2*span {
		t.Fatalf("hashed %d nonces, want %d", got, 2*span)
	}
	if out := m.round(context.Background(), m.newJob(c, m.tipGen.Load(), false)); out != exhausted || m.hashes.Load() != 2*span {
		t.Fatalf("the same header again: outcome %d after %d hashes, want exhausted at once", out, m.hashes.Load())
	}
	// A stale generation abandons at once.
	m.prev = nil
	if out := m.round(context.Background(), m.newJob(c, m.tipGen.Load()+1, false)); out != abandoned || m.hashes.Load() != 2*span {
		t.Fatalf("stale job: outcome %d, %d hashes", out, m.hashes.Load())
	}
}

// TestExtraNonce mines with a nonce space of 4 against a target met by
// one hash in 4096: the miner must move to new extra-nonces in the
// coinbase memo until a header has a solution.
func TestExtraNonce(t *testing.T) {
	p := consensus.Regtest()
	p.GenesisBits = 0x1f0fffff // target 2^244: one hash in 4096
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: store.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	const threads, span = 2, 2
	m := New(bc, nil, Config{Threads: threads, Address: chain.Address{7}})
	m.nonceSpan = span
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := m.MineOne(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if bc.Tip().Hash != b.Hash() {
		t.Fatal("the block is not the tip")
	}
	if b.Header.Nonce >= threads*span {
		t.Fatalf("nonce %d outside the space of %d", b.Header.Nonce, threads*span)
	}
	var extra uint64
	if memo := string(b.Txs[0].Memo); memo != "" {
		if extra, err = strconv.ParseUint(memo, 10, 64); err != nil || extra == 0 {
			t.Fatalf("coinbase memo %q is not an extra-nonce", memo)
		}
	}
	// Each extra-nonce before the last was used only after its space was
	// searched to the end.
	if h := m.Stats().Hashes; h <= extra*threads*span {
		t.Fatalf("%d hashes for extra-nonce %d: the spaces before it were not exhausted", h, extra)
	}
	t.Logf("found at extra-nonce %d after %d hashes", extra, m.Stats().Hashes)
}

func TestRateMeter(t *testing.T) {
	var r rateMeter
	var count atomic.Uint64
	t0 := time.Unix(1_800_000_000, 0)
	if got := r.rate(t0, &count); got != 0 {
		t.Fatalf("rate with no samples %v", got)
	}
	// 1000 hashes a second, sampled every 100 ms for 30 s.
	for i := range 300 {
		count.Store(uint64(i) * 100)
		r.record(t0.Add(time.Duration(i)*100*time.Millisecond), &count)
		if len(r.samples) > rateSamples {
			t.Fatalf("%d samples kept, bound %d", len(r.samples), rateSamples)
		}
	}
	now := t0.Add(30 * time.Second)
	count.Store(30_000)
	if got := r.rate(now, &count); math.Abs(got-1000) > 1 {
		t.Fatalf("steady rate %v, want 1000", got)
	}
	if oldest := now.Sub(r.samples[0].t); oldest < rateWindow {
		t.Fatalf("oldest sample %v old: the samples do not cover the window", oldest)
	}
	// Then 4000 a second for 2 s: the window average moves towards it.
	count.Store(38_000)
	if got := r.rate(now.Add(2*time.Second), &count); got <= 1000 || got >= 4000 {
		t.Fatalf("rate %v after a rise, want between 1000 and 4000", got)
	}
	// Idle after a final sample: zero.
	r.record(now.Add(2*time.Second), &count)
	if got := r.rate(now.Add(time.Minute), &count); got != 0 {
		t.Fatalf("idle rate %v", got)
	}
}

func TestTimestampWait(t *testing.T) {
	p := consensus.Regtest()
	p.MaxFutureTime = 15 // devnet's tolerance, which a burst reaches
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: store.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 250_000_000)
	m := New(bc, nil, Config{Now: func() time.Time { return now }})
	sec := uint32(now.Unix())
	for _, c := range []struct {
		minTime uint32
		ts      uint32
		wait    time.Duration
	}{
		{minTime: sec - 100, ts: sec},
		{minTime: sec, ts: sec + 1},
		{minTime: sec + 13, ts: sec + 14},                 // the latest allowed: now + MaxFutureTime - 1
		{minTime: sec + 14, wait: 750 * time.Millisecond}, // until the clock reaches sec+1
		{minTime: sec + 100, wait: maxTimeWait},           // far ahead: wait in steps
	} {
		ts, wait, err := m.timestamp(c.minTime)
		if err != nil || ts != c.ts || wait != c.wait {
			t.Fatalf("median time now%+d: timestamp %d wait %v err %v; want now%+d wait %v",
				int64(c.minTime)-int64(sec), ts, wait, err, int64(c.ts)-int64(sec), c.wait)
		}
	}
}
