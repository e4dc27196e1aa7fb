package netsync

import (
	"sync"
	"time"
)

// RateWindow is the span over which BlocksPerSec is measured.
const RateWindow = 10 * time.Second

// rateBuckets is the number of one-second buckets of the rate meter.
const rateBuckets = int(RateWindow / time.Second)

// Progress reports where sync stands.
type Progress struct {
	// Syncing is true while a sync session is fetching headers or blocks,
	// and while our tip is below the network's minimum chain work (initial
	// download).
	Syncing bool `json:"syncing"`
	// Height is the chain's height.
	Height uint32 `json:"height"`
	// TargetHeight is the height being synced to, or the best height any
	// peer announced when that is higher; equal to Height when in step.
	TargetHeight uint32 `json:"target_height"`
	// BlocksPerSec is the connect rate over the last RateWindow.
	BlocksPerSec float64 `json:"blocks_per_sec"`
	// ETA is the time left at that rate (0 when unknown or in step).
	ETA time.Duration `json:"eta"`
}

// progress tracks the sync state and a per-second count of connected
// blocks. Safe for concurrent use.
type progress struct {
	now func() time.Time

	mu      sync.Mutex
	syncing bool
	target  uint32
	started time.Time // session start, for the rate before a full window
	buckets [rateBuckets]uint32
	stamps  [rateBuckets]int64 // the second each bucket counts
}

func (p *progress) blockConnected() {
	sec := p.now().Unix()
	i := int(sec % int64(rateBuckets))
	p.mu.Lock()
	if p.stamps[i] != sec {
		p.stamps[i], p.buckets[i] = sec, 0
	}
	p.buckets[i]++
	p.mu.Unlock()
}

func (p *progress) setSyncing(on bool, target uint32) {
	p.mu.Lock()
	if on && !p.syncing {
		p.started = p.now()
	}
	p.syncing, p.target = on, target
	p.mu.Unlock()
}

// rate returns blocks per second over the window (or since the session
// started when that is shorter).
func (p *progress) rate() float64 {
	now := p.now()
	sec := now.Unix()
	p.mu.Lock()
	defer p.mu.Unlock()
	var n uint32
	for i := range p.buckets {
		if sec-p.stamps[i] < int64(rateBuckets) {
			n += p.buckets[i]
		}
	}
	span := RateWindow
	if p.syncing {
		if since := now.Sub(p.started); since < span {
			span = max(since, time.Second)
		}
	}
	return float64(n) / span.Seconds()
}

// Progress returns the sync progress.
func (s *Syncer) Progress() Progress {
	height := s.chain.Height()
	p := Progress{Height: height, TargetHeight: height, BlocksPerSec: s.prog.rate()}
	s.prog.mu.Lock()
	p.Syncing = s.prog.syncing || s.belowMinimumWork()
	target := s.prog.target
	s.prog.mu.Unlock()
	for _, ps := range s.peers.snapshot() {
		target = max(target, ps.BestHeight)
	}
	p.TargetHeight = max(height, target)
	if left := p.TargetHeight - height; left > 0 && p.BlocksPerSec > 0 {
		p.ETA = time.Duration(float64(left) / p.BlocksPerSec * float64(time.Second)).Round(time.Second)
	}
	return p
}

// progressLoop logs progress every ProgressLogInterval while syncing.
func (s *Syncer) progressLoop() {
	t := time.NewTicker(ProgressLogInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			p := s.Progress()
			if !p.Syncing {
				continue
			}
			s.log.Info("sync progress", "height", p.Height, "target", p.TargetHeight,
				"blocks_per_sec", int(p.BlocksPerSec+0.5), "eta", p.ETA, "peers", len(s.peers.snapshot()))
		}
	}
}
