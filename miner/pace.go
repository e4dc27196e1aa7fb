package miner

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// Pacing bounds.
const (
	// pacedChunkTime is the search time one paced chunk stands for: short
	// enough that a paced search still notices a new tip within it.
	pacedChunkTime = 10 * time.Millisecond
	// minPacedChunk is the fewest nonces of a paced chunk, so a very low
	// rate does not turn into one sleep per hash.
	minPacedChunk = 64
	// paceSleepStep bounds one sleep of a paced thread, so it notices an
	// abandoned round within it.
	paceSleepStep = 10 * time.Millisecond
	// maxPaceBurst is how far behind its schedule a paced search may fall
	// (idle, or threads slower than the rate) and still catch up; beyond
	// it the schedule restarts from now instead of bursting.
	maxPaceBurst = 100 * time.Millisecond
	// MaxHashRate bounds a paced rate (hashes per second).
	MaxHashRate = 1e15
)

// ErrBadHashRate is returned by SetHashRate for a negative, infinite or NaN
// rate, or one above MaxHashRate.
var ErrBadHashRate = errors.New("bad hash rate")

// pacer holds the search to a hash rate: every chunk reserves its slot on
// one schedule shared by the threads, and a thread whose slot is ahead of
// the clock sleeps until it. A zero rate does not pace.
type pacer struct {
	mu   sync.Mutex
	rate float64   // hashes per second; 0: unpaced
	next time.Time // start of the next free slot
}

// set changes the rate; the schedule restarts.
func (p *pacer) set(rate float64) {
	p.mu.Lock()
	p.rate = rate
	p.next = time.Time{}
	p.mu.Unlock()
}

// get returns the rate.
func (p *pacer) get() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate
}

// chunk returns how many nonces a thread hashes between checks: chunkNonces
// unpaced, pacedChunkTime's worth of the rate when paced.
func (p *pacer) chunk() uint64 {
	r := p.get()
	if r <= 0 {
		return chunkNonces
	}
	n := r * pacedChunkTime.Seconds()
	return uint64(min(max(n, minPacedChunk), chunkNonces))
}

// reserve books n hashes on the schedule and returns how long to wait
// before hashing them (zero or less: now).
func (p *pacer) reserve(n uint64, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rate <= 0 {
		return 0
	}
	if p.next.Before(now.Add(-maxPaceBurst)) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	return at.Sub(now)
}

// checkHashRate validates a paced rate.
func checkHashRate(r float64) error {
	if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 || r > MaxHashRate {
		return fmt.Errorf("%w: %v (want 0 for unpaced, or up to %g hashes/s)", ErrBadHashRate, r, MaxHashRate)
	}
	return nil
}

// SetHashRate holds the search to rate hashes per second (0: as fast as
// the threads go) from the next chunk on. It is how a devnet gives miners
// shares of the network's hash rate: each sleeps between chunks to hold
// its share. HashRate reports the rate actually measured.
func (m *Miner) SetHashRate(rate float64) error {
	if err := checkHashRate(rate); err != nil {
		return err
	}
	m.pace.set(rate)
	return nil
}

// TargetHashRate returns the paced rate (0: unpaced).
func (m *Miner) TargetHashRate() float64 { return m.pace.get() }

// waitSlot sleeps d in steps while j's search is wanted, and reports
// whether it still is.
func (m *Miner) waitSlot(j *job, d time.Duration) bool {
	for d > 0 {
		if !m.wanted(j) {
			return false
		}
		step := min(d, paceSleepStep)
		time.Sleep(step)
		d -= step
	}
	return m.wanted(j)
}
