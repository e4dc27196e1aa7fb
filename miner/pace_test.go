package miner_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/miner"
)

// paceWindow is how long each paced rate is measured.
const paceWindow = 700 * time.Millisecond

// pacedRate mines against an impossible target for paceWindow and returns
// the hashes per second done.
func pacedRate(t *testing.T, m *miner.Miner) float64 {
	t.Helper()
	before := m.Stats().Hashes
	start := time.Now()
	time.Sleep(paceWindow)
	return float64(m.Stats().Hashes-before) / time.Since(start).Seconds()
}

// TestPacedHashRate holds a miner to two rates in turn, switching while it
// runs, and checks the measured rate and the reported one.
func TestPacedHashRate(t *testing.T) {
	m := miner.New(impossibleChain{consensus.Regtest()}, nil, miner.Config{Threads: 2, HashRate: 100_000})
	m.Start()
	defer m.Stop()
	for i, want := range []float64{100_000, 300_000} {
		if err := m.SetHashRate(want); err != nil {
			t.Fatal(err)
		}
		got := pacedRate(t, m)
		if math.Abs(got/want-1) > 0.15 {
			t.Errorf("paced at %.0f H/s, measured %.0f H/s", want, got)
		}
		if st := m.Stats(); st.TargetHashRate != want {
			t.Errorf("Stats().TargetHashRate %v, want %v", st.TargetHashRate, want)
		}
		// HashRate averages over a window longer than the test: only the
		// first rate has it to itself.
		if r := m.HashRate(); i == 0 && math.Abs(r/want-1) > 0.25 {
			t.Errorf("HashRate() reports %.0f H/s at a paced %.0f", r, want)
		}
	}
	// Unpaced again: far above the last rate.
	if err := m.SetHashRate(0); err != nil {
		t.Fatal(err)
	}
	if got := pacedRate(t, m); got < 1_000_000 {
		t.Errorf("unpaced search does %.0f H/s", got)
	}
}

func TestSetHashRateRejects(t *testing.T) {
	m := miner.New(impossibleChain{consensus.Regtest()}, nil, miner.Config{Threads: 1, HashRate: 1000})
	for _, r := range []float64{-1, math.NaN(), math.Inf(1), 2 * miner.MaxHashRate} {
		if err := m.SetHashRate(r); !errors.Is(err, miner.ErrBadHashRate) {
			t.Errorf("SetHashRate(%v): %v, want ErrBadHashRate", r, err)
		}
	}
	if m.TargetHashRate() != 1000 {
		t.Errorf("a refused rate changed the pace to %v", m.TargetHashRate())
	}
}

// TestPacedThreadsTakeASlot: a paced thread hashes only while it holds one
// of the process's hashing slots (GOMAXPROCS-1 of them, at least one), so
// the miners of one process always leave a processor to the rest; an
// unpaced miner needs none.
func TestPacedThreadsTakeASlot(t *testing.T) {
	slots := miner.PacedSlots
	for range cap(slots) {
		slots <- struct{}{} // every slot taken
	}
	held := true
	release := func() {
		if held {
			for range cap(slots) {
				<-slots
			}
			held = false
		}
	}
	defer release()
	paced := miner.New(impossibleChain{consensus.Regtest()}, nil, miner.Config{Threads: 2, HashRate: 100_000})
	paced.Start()
	unpaced := miner.New(impossibleChain{consensus.Regtest()}, nil, miner.Config{Threads: 1})
	unpaced.Start()
	time.Sleep(300 * time.Millisecond)
	if h := paced.Stats().Hashes; h != 0 {
		t.Errorf("a paced miner hashed %d times with every slot taken", h)
	}
	if h := unpaced.Stats().Hashes; h == 0 {
		t.Error("an unpaced miner waited for a slot")
	}
	unpaced.Stop()
	release()
	waitFor(t, "the paced miner hashing once a slot is free", func() bool { return paced.Stats().Hashes > 0 })
	paced.Stop()
}
