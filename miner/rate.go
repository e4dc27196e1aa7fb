package miner

import (
	"sync"
	"sync/atomic"
	"time"
)

// Hash-rate window.
const (
	// rateWindow is the span HashRate averages over.
	rateWindow = 10 * time.Second
	// rateSampleEvery is the least spacing of kept samples (but the
	// newest, which is overwritten until it is this far from the one
	// before).
	rateSampleEvery = time.Second
	// rateSamples is how many samples cover rateWindow at that spacing.
	rateSamples = int(rateWindow/rateSampleEvery) + 2
)

// rateMeter turns a running hash count into a rate over a recent window.
// It is sampled at the start and end of every round (at least once per
// refreshInterval while mining), never per chunk.
type rateMeter struct {
	mu      sync.Mutex
	samples []rateSample // oldest first
}

type rateSample struct {
	t      time.Time
	hashes uint64
}

// record samples count at t. The count is read under the meter's lock, so
// a later rate never sees a sample above the count it reads.
func (r *rateMeter) record(t time.Time, count *atomic.Uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := rateSample{t: t, hashes: count.Load()}
	// The newest sample is provisional while it is less than
	// rateSampleEvery after the one before: overwrite it.
	if n := len(r.samples); n >= 2 && r.samples[n-1].t.Sub(r.samples[n-2].t) < rateSampleEvery {
		r.samples[n-1] = s
		return
	}
	if len(r.samples) == rateSamples {
		r.samples = append(r.samples[:0], r.samples[1:]...)
	}
	r.samples = append(r.samples, s)
}

// rate returns the hashes per second between the oldest sample within
// rateWindow of t (or the newest sample, if all are older) and count at t.
func (r *rateMeter) rate(t time.Time, count *atomic.Uint64) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.samples) == 0 {
		return 0
	}
	base := r.samples[len(r.samples)-1]
	for _, s := range r.samples {
		if t.Sub(s.t) <= rateWindow {
			base = s
			break
		}
	}
	dt := t.Sub(base.t).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(count.Load()-base.hashes) / dt
}
