package consensus_test

import (
	"math"
	"math/big"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
)

const (
	// asertApproxError is the documented error of the cubic 2^x
	// approximation.
	asertApproxError = 0.00013
	// asertTolerance adds BigToCompact's rounding down to the
	// approximation's error.
	asertTolerance = asertApproxError + compactPrecision
	// anchorTime is block 1's timestamp in the ASERT tests.
	anchorTime = 1_800_000_000
	// anchorBits is a target well inside devnet's limit with a full
	// mantissa, so ratios are measured precisely.
	anchorBits = 0x1e7fffff
)

// asertHeaders returns an anchor (block 1) and a parent at height
// 1+blocks whose timestamp is offset seconds off the schedule
// (positive: behind schedule, blocks came slowly).
func asertHeaders(p *consensus.Params, blocks uint32, offset int64) (parent, anchor *chain.Header) {
	anchor = &chain.Header{Height: consensus.AnchorHeight, Timestamp: anchorTime, Bits: anchorBits}
	ts := int64(anchorTime) + p.TargetSpacing*int64(blocks) + offset
	parent = &chain.Header{Height: consensus.AnchorHeight + blocks, Timestamp: uint32(ts), Bits: anchorBits}
	return parent, anchor
}

// absoluteDevnet returns devnet with mainnet's absolute schedule, for the
// tests of the absolute rule at devnet's scale.
func absoluteDevnet() *consensus.Params {
	p := consensus.Devnet()
	p.RelativeRetarget = false
	return p
}

// nextBits is NextBits on the context of a parent and an anchor.
func nextBits(p *consensus.Params, parent, anchor *chain.Header) uint32 {
	return consensus.NextBits(p, consensus.ParentContext{Parent: parent, Anchor: anchor})
}

// targetRatio returns target(bits) / target(anchorBits).
func targetRatio(t *testing.T, bits uint32) float64 {
	t.Helper()
	next, ok := consensus.CompactToBig(bits)
	if !ok {
		t.Fatalf("NextBits returned bad bits %08x", bits)
	}
	a, _ := consensus.CompactToBig(anchorBits)
	r, _ := new(big.Rat).SetFrac(next, a).Float64()
	return r
}

func TestNextBitsOnSchedule(t *testing.T) {
	for _, p := range []*consensus.Params{absoluteDevnet(), consensus.Mainnet()} {
		for _, n := range []uint32{0, 1, 2, 10, 1000, 1_000_000} {
			parent, anchor := asertHeaders(p, n, 0)
			if got := nextBits(p, parent, anchor); got != anchorBits {
				t.Errorf("%s: %d blocks on schedule: bits %08x, want the anchor's %08x", p.Name, n, got, anchorBits)
			}
		}
	}
}

func TestNextBitsHalfLife(t *testing.T) {
	for _, p := range []*consensus.Params{absoluteDevnet(), consensus.Mainnet()} {
		// One half-life ahead of schedule: the target halves, the work doubles.
		parent, anchor := asertHeaders(p, 500, -p.HalfLife)
		ahead := nextBits(p, parent, anchor)
		if r := targetRatio(t, ahead); math.Abs(r/0.5-1) > asertTolerance {
			t.Errorf("%s: one half-life ahead: target x%.6f, want x0.5", p.Name, r)
		}
		w, _ := new(big.Rat).SetFrac(consensus.WorkFromBits(ahead), consensus.WorkFromBits(anchorBits)).Float64()
		if math.Abs(w/2-1) > asertTolerance {
			t.Errorf("%s: one half-life ahead: work x%.6f, want x2", p.Name, w)
		}
		// One half-life behind: the target doubles.
		parent, anchor = asertHeaders(p, 500, p.HalfLife)
		if r := targetRatio(t, nextBits(p, parent, anchor)); math.Abs(r/2-1) > asertTolerance {
			t.Errorf("%s: one half-life behind: target x%.6f, want x2", p.Name, r)
		}
	}
}

// TestNextBitsFollowsExponential sweeps the schedule offset second by
// second over ten half-lives either way and checks the target against
// anchor * 2^(offset/halflife), and that it never decreases as the offset
// grows.
func TestNextBitsFollowsExponential(t *testing.T) {
	p := absoluteDevnet()
	prev := 0.0
	worst := 0.0
	for off := -10 * p.HalfLife; off <= 10*p.HalfLife; off++ {
		parent, anchor := asertHeaders(p, 5000, off)
		r := targetRatio(t, nextBits(p, parent, anchor))
		want := math.Exp2(float64(off) / float64(p.HalfLife))
		dev := math.Abs(r/want - 1)
		worst = max(worst, dev)
		if dev > asertTolerance {
			t.Fatalf("offset %ds: target x%.6f, want x%.6f (off by %.4f%%)", off, r, want, 100*dev)
		}
		if r < prev {
			t.Fatalf("offset %ds: target x%.6f is below the previous offset's x%.6f", off, r, prev)
		}
		prev = r
	}
	t.Logf("worst deviation from 2^(offset/halflife): %.4f%%", 100*worst)
}

func TestNextBitsClamps(t *testing.T) {
	p := absoluteDevnet()
	// Far behind schedule from an anchor at the limit: stays at the limit.
	anchor := &chain.Header{Height: consensus.AnchorHeight, Timestamp: anchorTime, Bits: p.PowLimitBits}
	for _, late := range []int64{1, p.HalfLife, 100 * p.HalfLife, 1 << 30} {
		parent := &chain.Header{Height: 10, Timestamp: uint32(int64(anchorTime) + 9 + late), Bits: p.PowLimitBits}
		if got := nextBits(p, parent, anchor); got != p.PowLimitBits {
			t.Errorf("%ds behind at the limit: bits %08x, want %08x", late, got, p.PowLimitBits)
		}
	}
	// More than 256 half-lives behind from a hard anchor: the limit.
	parent, hard := asertHeaders(p, 10, 300*p.HalfLife)
	if got := nextBits(p, parent, hard); got != p.PowLimitBits {
		t.Errorf("300 half-lives behind: bits %08x, want the limit", got)
	}
	// Far ahead of schedule: the target bottoms out at 1, still valid bits.
	parent, hard = asertHeaders(p, 4_000_000, -3_999_000)
	got := nextBits(p, parent, hard)
	if got != consensus.BigToCompact(big.NewInt(1)) {
		t.Errorf("far ahead: bits %08x, want the target 1", got)
	}
	if _, err := consensus.TargetFromBits(got, p.PowLimit); err != nil {
		t.Errorf("far ahead: %v", err)
	}
}

func TestNextBitsBeforeAnchor(t *testing.T) {
	p := absoluteDevnet()
	p.GenesisBits = 0x1f00ffff
	genesis := &chain.Header{Height: 0, Timestamp: anchorTime, Bits: p.GenesisBits}
	// Block 1 (the anchor itself) gets the genesis bits, whatever is passed.
	for _, anchor := range []*chain.Header{nil, genesis} {
		if got := nextBits(p, genesis, anchor); got != p.GenesisBits {
			t.Errorf("block 1: bits %08x, want the genesis bits %08x", got, p.GenesisBits)
		}
	}
	// Without an anchor there is nothing to schedule from.
	parent := &chain.Header{Height: 5, Timestamp: anchorTime + 1, Bits: 0x1e00ffff}
	if got := nextBits(p, parent, nil); got != p.GenesisBits {
		t.Errorf("no anchor: bits %08x, want the genesis bits", got)
	}
}

// TestNextBitsAnchorIsBlockOne checks that the genesis timestamp plays no
// part: a network whose block 1 is mined a year after its genesis starts
// on schedule.
func TestNextBitsAnchorIsBlockOne(t *testing.T) {
	p := absoluteDevnet()
	const year = 365 * 24 * 3600
	anchor := &chain.Header{Height: 1, Timestamp: p.GenesisTime + year, Bits: p.GenesisBits}
	parent := &chain.Header{Height: 2, Timestamp: anchor.Timestamp + uint32(p.TargetSpacing), Bits: p.GenesisBits}
	if got := nextBits(p, parent, anchor); got != p.GenesisBits {
		t.Errorf("block 3 of a network started a year late: bits %08x, want %08x", got, p.GenesisBits)
	}
}

func TestNextBitsNoRetarget(t *testing.T) {
	p := consensus.Regtest()
	parent, anchor := asertHeaders(p, 100, -50*p.HalfLife)
	parent.Bits = 0x1f00ffff
	if got := nextBits(p, parent, anchor); got != parent.Bits {
		t.Errorf("regtest: bits %08x, want the parent's %08x", got, parent.Bits)
	}
}

func TestNextBitsBadAnchorBits(t *testing.T) {
	p := absoluteDevnet()
	parent, anchor := asertHeaders(p, 10, 0)
	anchor.Bits = 0xff123456
	if got := nextBits(p, parent, anchor); got != p.PowLimitBits {
		t.Errorf("overflowing anchor bits: %08x, want the limit", got)
	}
}

// relativeContext returns a devnet parent at height 100 with anchorBits,
// whose own gap to its parent is gap seconds.
func relativeContext(gap int64) consensus.ParentContext {
	parent := &chain.Header{Height: 100, Timestamp: anchorTime, Bits: anchorBits}
	return consensus.ParentContext{Parent: parent, GrandparentTime: uint32(anchorTime - gap)}
}

func TestRelativeRetarget(t *testing.T) {
	p := consensus.Devnet()
	if !p.RelativeRetarget {
		t.Fatal("devnet does not use the relative retarget")
	}
	s, h := p.TargetSpacing, p.HalfLife
	cases := []struct {
		name string
		gap  int64
		want float64 // target ratio to the parent's
	}{
		{"on schedule", s, 1},
		{"one half-life slow", s + h, 2},
		{"one half-life fast", s - h, 0.5},
		{"same second as its parent", 0, math.Exp2(-float64(s) / float64(h))},
		{"gap at the cap", consensus.GapCapHalfLives * h, math.Exp2(float64(consensus.GapCapHalfLives*h-s) / float64(h))},
		{"an idle hour counts as the cap", 3600, math.Exp2(float64(consensus.GapCapHalfLives*h-s) / float64(h))},
		{"an idle year counts as the cap", 365 * 86400, math.Exp2(float64(consensus.GapCapHalfLives*h-s) / float64(h))},
	}
	for _, tc := range cases {
		r := targetRatio(t, consensus.NextBits(p, relativeContext(tc.gap)))
		if math.Abs(r/tc.want-1) > asertTolerance {
			t.Errorf("%s (gap %ds): target x%.6f, want x%.6f", tc.name, tc.gap, r, tc.want)
		}
	}
}

// TestRelativeRetargetTelescopes checks that under the cap the relative
// rule is ASERT: a chain of random gaps ends within the compounded rounding
// of anchor * 2^(offset/half-life), and that block 2 keeps block 1's bits
// whatever the genesis timestamp says.
func TestRelativeRetargetTelescopes(t *testing.T) {
	p := consensus.Devnet()
	genesis := &chain.Header{Height: 0, Timestamp: p.GenesisTime, Bits: anchorBits}
	b1 := &chain.Header{Height: 1, Timestamp: anchorTime, Bits: anchorBits}
	if got := consensus.NextBits(p, consensus.ParentContext{Parent: b1, GrandparentTime: genesis.Timestamp}); got != anchorBits {
		t.Fatalf("block 2: bits %08x, want block 1's %08x", got, anchorBits)
	}
	gaps := []int64{0, 3, 1, 1, 7, 0, 0, 2, 9, 1, 0, 4, 1, 2, 0, 0, 1, 6, 3, 1}
	parent, grand := b1, genesis
	var offset int64
	for i, g := range gaps {
		next := &chain.Header{Height: parent.Height + 1, Timestamp: parent.Timestamp + uint32(g)}
		next.Bits = consensus.NextBits(p, consensus.ParentContext{Parent: parent, GrandparentTime: grand.Timestamp})
		if i > 0 {
			offset += gaps[i-1] - p.TargetSpacing
		}
		parent, grand = next, parent
	}
	offset += gaps[len(gaps)-1] - p.TargetSpacing
	final := consensus.NextBits(p, consensus.ParentContext{Parent: parent, GrandparentTime: grand.Timestamp})
	want := math.Exp2(float64(offset) / float64(p.HalfLife))
	tol := float64(len(gaps)+1) * asertTolerance
	if r := targetRatio(t, final); math.Abs(r/want-1) > tol {
		t.Fatalf("after %d blocks %ds off schedule: target x%.6f, want x%.6f within %.3f%%", len(gaps), offset, r, want, 100*tol)
	}
}

func TestRelativeRetargetBadParentBits(t *testing.T) {
	p := consensus.Devnet()
	pc := relativeContext(p.TargetSpacing)
	pc.Parent.Bits = 0xff123456
	if got := consensus.NextBits(p, pc); got != p.PowLimitBits {
		t.Errorf("overflowing parent bits: %08x, want the limit", got)
	}
}

func TestMainnetKeepsTheAbsoluteSchedule(t *testing.T) {
	p := consensus.Mainnet()
	if p.RelativeRetarget {
		t.Fatal("mainnet uses the relative retarget")
	}
	// An hour idle on mainnet is owed back: the anchor's schedule counts it.
	parent, anchor := asertHeaders(p, 1000, 3600)
	want := math.Exp2(3600 / float64(p.HalfLife))
	if r := targetRatio(t, nextBits(p, parent, anchor)); math.Abs(r/want-1) > asertTolerance {
		t.Errorf("mainnet an hour behind: target x%.6f, want x%.6f", r, want)
	}
}
