package miner

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// ErrBadInterval is returned for a simulated miner's mean interval that is
// not positive.
var ErrBadInterval = errors.New("bad mean block interval")

// SimMiner mines without hashing, as SimBlock does: it draws the time to
// its next block from the exponential distribution of its share of the
// network's rate (mean = block time / share, divided by the simulation's
// time compression), waits that long on the real clock, and then mines one
// block on the tip with MineOne. Its network must make proof of work
// trivial (regtest's rules, no retarget) so the block is found in a few
// hashes: the draw, not the search, sets when it comes. Because the
// distribution is memoryless, a new tip during the wait changes nothing.
// It is safe for concurrent use.
type SimMiner struct {
	m *Miner

	mu     sync.Mutex
	mean   time.Duration
	rng    *rand.Rand
	cancel context.CancelFunc
	done   chan struct{}
	found  uint64
}

// NewSimMiner returns a simulated miner that builds its blocks with m. The
// mean interval is this miner's alone (block time / share); seed makes its
// draws reproducible.
func NewSimMiner(m *Miner, mean time.Duration, seed uint64) (*SimMiner, error) {
	if mean <= 0 {
		return nil, fmt.Errorf("%w: %v", ErrBadInterval, mean)
	}
	return &SimMiner{m: m, mean: mean, rng: rand.New(rand.NewPCG(seed, 0x51))}, nil
}

// SetMean changes the mean interval from the next draw on.
func (s *SimMiner) SetMean(mean time.Duration) error {
	if mean <= 0 {
		return fmt.Errorf("%w: %v", ErrBadInterval, mean)
	}
	s.mu.Lock()
	s.mean = mean
	s.mu.Unlock()
	return nil
}

// Mean returns the mean interval.
func (s *SimMiner) Mean() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mean
}

// Found returns how many blocks it mined that became the tip.
func (s *SimMiner) Found() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.found
}

// draw returns the wait for the next block.
func (s *SimMiner) draw() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Duration(s.rng.ExpFloat64() * float64(s.mean))
}

// Start starts mining in the background; it does nothing if it runs.
func (s *SimMiner) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.cancel, s.done = cancel, done
	go func() {
		defer close(done)
		s.loop(ctx)
	}()
}

// Running reports whether it mines.
func (s *SimMiner) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancel != nil
}

// Stop stops mining and returns once its goroutine has ended.
func (s *SimMiner) Stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel, s.done = nil, nil
	s.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

func (s *SimMiner) loop(ctx context.Context) {
	for {
		if sleep(ctx, s.draw()) != nil {
			return
		}
		if _, err := s.m.MineOne(ctx, ""); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.m.log.Error("simulated miner", "err", err)
			if sleep(ctx, rejectBackoff) != nil {
				return
			}
			continue
		}
		s.mu.Lock()
		s.found++
		s.mu.Unlock()
	}
}
