package miner_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/miner"
)

// simBlock is a block of the strategy simulation: a height, a parent and
// whose it is.
type simBlock struct {
	b       *chain.Block
	parent  *simBlock
	selfish bool
}

func (s *simBlock) height() uint32 {
	if s == nil {
		return 0
	}
	return s.b.Header.Height
}

// raceSim is a network of one strategic pool with share alpha and honest
// miners, in block events (the time between them does not matter to the
// shares). gamma is the part of the honest miners that, in a race between
// two published branches of equal height, mines on the pool's.
type raceSim struct {
	rng          *rand.Rand
	alpha, gamma float64
	strategy     miner.Strategy
	byBlock      map[*chain.Block]*simBlock
	honestTip    *simBlock // first-seen best published block
	rivalTip     *simBlock // the pool's published block in a race with honestTip, if any
	poolTip      *simBlock // the pool mines on this
}

func newRaceSim(seed uint64, alpha, gamma float64, s miner.Strategy) *raceSim {
	return &raceSim{rng: rand.New(rand.NewPCG(seed, 7)), alpha: alpha, gamma: gamma, strategy: s, byBlock: map[*chain.Block]*simBlock{}}
}

func (r *raceSim) newBlock(parent *simBlock, selfish bool) *simBlock {
	b := &chain.Block{Header: chain.Header{Height: parent.height() + 1}}
	sb := &simBlock{b: b, parent: parent, selfish: selfish}
	r.byBlock[b] = sb
	return sb
}

// publish makes the pool's blocks public; the honest miners switch to the
// longest published branch, and a branch of equal height races.
func (r *raceSim) publish(bs []*chain.Block) {
	if len(bs) == 0 {
		return
	}
	top := r.byBlock[bs[len(bs)-1]]
	switch {
	case top.height() > r.honestTip.height():
		r.honestTip, r.rivalTip = top, nil
	case top.height() == r.honestTip.height() && top != r.honestTip:
		r.rivalTip = top
	}
}

// step is one block found somewhere.
func (r *raceSim) step() {
	if r.rng.Float64() < r.alpha {
		b := r.newBlock(r.poolTip, true)
		r.poolTip = b
		r.publish(r.strategy.Mined(b.b))
		return
	}
	parent := r.honestTip
	if r.rivalTip != nil && r.rng.Float64() < r.gamma {
		parent = r.rivalTip
	}
	b := r.newBlock(parent, false)
	r.honestTip, r.rivalTip = b, nil
	r.publish(r.strategy.Seen(b.height()))
	if r.honestTip.height() > r.poolTip.height() {
		r.poolTip = r.honestTip // overtaken, or nothing private: adopt
	}
}

// poolShare runs n blocks and returns the pool's share of the blocks on the
// final best chain (the longest, honest-first on a tie).
func (r *raceSim) poolShare(n int) float64 {
	for range n {
		r.step()
	}
	tip := r.honestTip
	if r.poolTip.height() > tip.height() {
		tip = r.poolTip
	}
	var pool, all int
	for b := tip; b != nil; b = b.parent {
		all++
		if b.selfish {
			pool++
		}
	}
	return float64(pool) / float64(all)
}

// eyalSirer is the selfish pool's relative revenue (its share of the main
// chain) by Eyal and Sirer's formula.
func eyalSirer(a, g float64) float64 {
	return (a*(1-a)*(1-a)*(4*a+g*(1-2*a)) - a*a*a) / (1 - a*(1+(2-a)*a))
}

// TestSelfishMatchesEyalSirer plays the selfish strategy against honest
// miners and compares the pool's share of the main chain with the formula,
// at several shares and gammas.
func TestSelfishMatchesEyalSirer(t *testing.T) {
	const blocks = 60_000
	for _, c := range []struct{ alpha, gamma float64 }{{0.35, 0}, {0.25, 0}, {0.30, 0.5}, {0.40, 1}, {0.10, 0}} {
		got := newRaceSim(1, c.alpha, c.gamma, &miner.Selfish{}).poolShare(blocks)
		want := eyalSirer(c.alpha, c.gamma)
		t.Logf("alpha %.2f gamma %.1f: share of the main chain %.4f, Eyal-Sirer %.4f", c.alpha, c.gamma, got, want)
		if math.Abs(got-want) > 0.01 {
			t.Errorf("alpha %.2f gamma %.1f: selfish share %.4f, formula %.4f", c.alpha, c.gamma, got, want)
		}
	}
	// Honest mining earns its share.
	if got := newRaceSim(1, 0.35, 0, miner.Honest{}).poolShare(blocks); math.Abs(got-0.35) > 0.01 {
		t.Errorf("honest pool of 0.35 earns %.4f", got)
	}
}

// block returns a block at height for the state-machine tests.
func block(h uint32) *chain.Block { return &chain.Block{Header: chain.Header{Height: h}} }

func heights(bs []*chain.Block) []uint32 {
	var out []uint32
	for _, b := range bs {
		out = append(out, b.Header.Height)
	}
	return out
}

func TestSelfishStateMachine(t *testing.T) {
	eq := func(t *testing.T, what string, got []*chain.Block, want ...uint32) {
		t.Helper()
		g := heights(got)
		if len(g) != len(want) {
			t.Fatalf("%s: announced %v, want %v", what, g, want)
		}
		for i := range g {
			if g[i] != want[i] {
				t.Fatalf("%s: announced %v, want %v", what, g, want)
			}
		}
	}
	s := &miner.Selfish{}
	eq(t, "mine 1 privately", s.Mined(block(1)))
	eq(t, "mine 2 privately", s.Mined(block(2)))
	eq(t, "mine 3 privately", s.Mined(block(3)))
	eq(t, "public reaches 1, lead 2: publish up to 1", s.Seen(1), 1)
	eq(t, "public reaches 2, lead 1: publish everything", s.Seen(2), 2, 3)
	if s.Withheld() != 0 {
		t.Fatalf("withheld %d after publishing everything", s.Withheld())
	}
	eq(t, "public at 3 is ours: nothing", s.Seen(3))
	eq(t, "mine 4 privately", s.Mined(block(4)))
	eq(t, "public reaches 4, lead 0: race", s.Seen(4), 4)
	eq(t, "mine 5 in the race: publish, win", s.Mined(block(5)), 5)
	eq(t, "mine 6 privately", s.Mined(block(6)))
	eq(t, "public reaches 7: overtaken, drop", s.Seen(7))
	if s.Withheld() != 0 {
		t.Fatalf("withheld %d after being overtaken", s.Withheld())
	}
	eq(t, "mine 8 on the public chain, privately", s.Mined(block(8)))
	if _, err := miner.NewStrategy("greedy"); err == nil {
		t.Fatal("unknown strategy accepted")
	}
	for _, name := range []string{miner.StrategyHonest, miner.StrategySelfish} {
		if st, err := miner.NewStrategy(name); err != nil || st.Name() != name {
			t.Fatalf("NewStrategy(%q): %v", name, err)
		}
	}
}
