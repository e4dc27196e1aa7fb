package miner

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaind/chaind/chain"
)

// outcome is how a round of the search ended.
type outcome int

const (
	// abandoned: the tip moved, the round was aborted (Stop, context,
	// refresh timer) or continuous mining yielded to MineOne.
	abandoned outcome = iota
	// solved: a thread found a nonce that meets the target.
	solved
	// exhausted: every thread searched its whole slice of the nonce space.
	exhausted
)

// MaxNonce is the largest nonce this miner tries: 2^53-1, so that every
// proof it finds is exact as a JavaScript number (a client of the API that
// parses JSON into doubles reads it unchanged). The rules accept any 64-bit
// nonce; when the 2^53 nonces of a header are exhausted the miner changes
// the header (extra nonce). At 2^53 there is no practical loss: that is
// days of hashing for one header on a fast machine.
const MaxNonce = 1<<53 - 1

// nonceRange is one thread's slice of the nonce space; the thread owns it
// during a round.
type nonceRange struct {
	next, last uint64 // next nonce to try; the last nonce of the slice
	done       bool   // the slice is exhausted
}

// job is one candidate under search.
type job struct {
	block      *chain.Block
	hasher     *chain.HeaderHasher
	target     [chain.HashSize]byte
	gen        uint64 // tip generation the candidate was built at
	background bool   // continuous mining, which yields to MineOne
	ranges     []nonceRange

	abort  atomic.Bool // end the round
	solved atomic.Bool // a thread found a nonce; it wrote nonce
	nonce  uint64      // read after the threads are joined
}

// newJob prepares the search of c. If c's header is the previous round's
// (same tip, clock second and transactions), the threads resume where
// they stopped instead of hashing the same nonces again.
func (m *Miner) newJob(c *candidate, gen uint64, background bool) *job {
	j := &job{
		block:      c.block,
		hasher:     chain.NewHeaderHasher(&c.block.Header),
		target:     c.target,
		gen:        gen,
		background: background,
	}
	if p := m.prev; p != nil && p.block.Header == c.block.Header && p.target == c.target && !p.solved.Load() {
		j.ranges = slices.Clone(p.ranges)
	} else {
		j.ranges = nonceRanges(m.threads, m.nonceSpan)
	}
	return j
}

// nonceRanges splits the nonce space between threads: span nonces each
// from 0, or, with span 0, the whole space up to MaxNonce.
func nonceRanges(threads int, span uint64) []nonceRange {
	rs := make([]nonceRange, threads)
	whole := span == 0
	if whole {
		span = (MaxNonce + 1) / uint64(threads)
	}
	for i := range rs {
		rs[i].next = uint64(i) * span
		rs[i].last = rs[i].next + span - 1
	}
	if whole {
		rs[threads-1].last = MaxNonce
	}
	return rs
}

// wanted reports whether j's search should go on. It runs between chunks:
// atomic loads only.
func (m *Miner) wanted(j *job) bool {
	return !j.abort.Load() && m.tipGen.Load() == j.gen && (!j.background || m.urgent.Load() == 0)
}

// round searches j on all threads until a nonce is found, every range is
// exhausted, the search is no longer wanted, ctx ends or the refresh
// interval passes. The threads have ended when it returns.
func (m *Miner) round(ctx context.Context, j *job) outcome {
	m.meter.record(time.Now(), &m.hashes)
	var wg sync.WaitGroup
	done := make(chan struct{})
	var running atomic.Int32
	running.Store(int32(len(j.ranges)))
	for i := range j.ranges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.work(j, &j.ranges[i])
			if running.Add(-1) == 0 {
				close(done)
			}
		}()
	}
	timer := time.NewTimer(m.refresh)
	select {
	case <-done:
	case <-ctx.Done():
		j.abort.Store(true)
	case <-timer.C:
		j.abort.Store(true)
	}
	timer.Stop()
	wg.Wait()
	m.meter.record(time.Now(), &m.hashes)
	m.prev = j
	if j.solved.Load() {
		return solved
	}
	for _, r := range j.ranges {
		if !r.done {
			return abandoned
		}
	}
	return exhausted
}

// pacedSlots bounds the paced threads hashing at once across every miner
// of the process to GOMAXPROCS-1 (at least one). Paced miners are a lab's:
// many nodes in one process, each holding a share of a network rate that
// the machine may not deliver. Behind their schedule they would hash flat
// out on every processor, and the nodes' network goroutines would wait
// behind them in the Go scheduler's queues (measured on a 10-node libp2p
// devnet: scheduling latency p90 50 ms, p99 134 ms, and block propagation
// to every node p50 about 250 ms instead of about 15 ms without hashing).
// With a processor always left to the rest, relay does not queue behind
// hashing. An unpaced miner (chaind run) hashes on all its threads.
var pacedSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1))

// work is one thread of a round: it hashes its range chunk by chunk while
// the search is wanted.
func (m *Miner) work(j *job, r *nonceRange) {
	for !r.done && m.wanted(j) {
		n := m.pace.chunk()
		if r.last-r.next < n {
			n = r.last - r.next + 1
		}
		if d := m.pace.reserve(n, time.Now()); d > 0 && !m.waitSlot(j, d) {
			return
		}
		paced := m.pace.get() > 0
		if paced {
			pacedSlots <- struct{}{}
			if !m.wanted(j) {
				<-pacedSlots
				return
			}
		}
		nonce, _, found := j.hasher.SearchNonces(r.next, n, &j.target)
		if paced {
			<-pacedSlots
		}
		if found {
			m.hashes.Add(nonce - r.next + 1)
			if j.solved.CompareAndSwap(false, true) {
				j.nonce = nonce
			}
			j.abort.Store(true)
			return
		}
		m.hashes.Add(n)
		if r.last-r.next == n-1 {
			r.done = true
		} else {
			r.next += n
		}
	}
}
