package miner_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/miner"
)

// TestSimMinerRate runs a simulated miner with a 20 ms mean on regtest and
// checks the blocks it mines against the exponential's mean.
func TestSimMinerRate(t *testing.T) {
	p := consensus.Regtest()
	// Blocks come faster than a second here: the miner's clock gives every
	// block its own second and the chain's clock is far enough ahead to
	// accept them, so no timestamp waits for the real clock.
	base := time.Unix(1_800_000_000, 0)
	bc := newChain(t, p, func() time.Time { return base.Add(time.Hour) })
	m := miner.New(bc, nil, miner.Config{Address: minerAddr, Threads: 1,
		Now: func() time.Time { return base.Add(time.Duration(bc.Height()+1) * time.Second) }})
	const mean = 20 * time.Millisecond
	s, err := miner.NewSimMiner(m, mean, 1)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.Start()
	time.Sleep(1500 * time.Millisecond)
	s.Stop()
	elapsed := time.Since(start)
	n := s.Found()
	if uint64(bc.Height()) != n {
		t.Fatalf("chain height %d, simulated miner found %d", bc.Height(), n)
	}
	want := elapsed.Seconds() / mean.Seconds()
	// Poisson: a count of about 75 has a standard deviation near 9; allow
	// four of them below (a loaded machine only slows it down) and three above.
	if f := float64(n); f < want-4*math.Sqrt(want) || f > want+3*math.Sqrt(want) {
		t.Errorf("%d blocks in %v at a mean of %v, expected about %.0f", n, elapsed, mean, want)
	}
	if s.Running() {
		t.Error("running after Stop")
	}
	if _, err := miner.NewSimMiner(m, 0, 1); !errors.Is(err, miner.ErrBadInterval) {
		t.Errorf("zero mean: %v", err)
	}
	if err := s.SetMean(-time.Second); !errors.Is(err, miner.ErrBadInterval) {
		t.Errorf("negative mean: %v", err)
	}
}

// TestOnMined checks the hook a devnet's observatory counts finds with.
func TestOnMined(t *testing.T) {
	bc := newChain(t, consensus.Regtest(), nil)
	var got []*chain.Block
	var tips []bool
	m := miner.New(bc, nil, miner.Config{Address: minerAddr, Threads: 1, OnMined: func(b *chain.Block, tip bool) {
		got = append(got, b)
		tips = append(tips, tip)
	}})
	b, err := m.MineOne(ctxT(t), "hook")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != b || !tips[0] {
		t.Fatalf("OnMined saw %d blocks (tips %v), want the one mined as the tip", len(got), tips)
	}
}
