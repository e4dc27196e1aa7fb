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
	for _, p := range []*consensus.Params{consensus.Devnet(), consensus.Mainnet()} {
		for _, n := range []uint32{0, 1, 2, 10, 1000, 1_000_000} {
			parent, anchor := asertHeaders(p, n, 0)
			if got := consensus.NextBits(p, parent, anchor); got != anchorBits {
				t.Errorf("%s: %d blocks on schedule: bits %08x, want the anchor's %08x", p.Name, n, got, anchorBits)
			}
		}
	}
}

func TestNextBitsHalfLife(t *testing.T) {
	for _, p := range []*consensus.Params{consensus.Devnet(), consensus.Mainnet()} {
		// One half-life ahead of schedule: the target halves, the work doubles.
		parent, anchor := asertHeaders(p, 500, -p.HalfLife)
		ahead := consensus.NextBits(p, parent, anchor)
		if r := targetRatio(t, ahead); math.Abs(r/0.5-1) > asertTolerance {
			t.Errorf("%s: one half-life ahead: target x%.6f, want x0.5", p.Name, r)
		}
		w, _ := new(big.Rat).SetFrac(consensus.WorkFromBits(ahead), consensus.WorkFromBits(anchorBits)).Float64()
		if math.Abs(w/2-1) > asertTolerance {
			t.Errorf("%s: one half-life ahead: work x%.6f, want x2", p.Name, w)
		}
		// One half-life behind: the target doubles.
		parent, anchor = asertHeaders(p, 500, p.HalfLife)
		if r := targetRatio(t, consensus.NextBits(p, parent, anchor)); math.Abs(r/2-1) > asertTolerance {
			t.Errorf("%s: one half-life behind: target x%.6f, want x2", p.Name, r)
		}
	}
}

// TestNextBitsFollowsExponential sweeps the schedule offset second by
// second over ten half-lives either way and checks the target against
// anchor * 2^(offset/halflife), and that it never decreases as the offset
// grows.
func TestNextBitsFollowsExponential(t *testing.T) {
	p := consensus.Devnet()
	prev := 0.0
	worst := 0.0
	for off := -10 * p.HalfLife; off <= 10*p.HalfLife; off++ {
		parent, anchor := asertHeaders(p, 5000, off)
		r := targetRatio(t, consensus.NextBits(p, parent, anchor))
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
	p := consensus.Devnet()
	// Far behind schedule from an anchor at the limit: stays at the limit.
	anchor := &chain.Header{Height: consensus.AnchorHeight, Timestamp: anchorTime, Bits: p.PowLimitBits}
	for _, late := range []int64{1, p.HalfLife, 100 * p.HalfLife, 1 << 30} {
		parent := &chain.Header{Height: 10, Timestamp: uint32(int64(anchorTime) + 9 + late), Bits: p.PowLimitBits}
		if got := consensus.NextBits(p, parent, anchor); got != p.PowLimitBits {
			t.Errorf("%ds behind at the limit: bits %08x, want %08x", late, got, p.PowLimitBits)
		}
	}
	// More than 256 half-lives behind from a hard anchor: the limit.
	parent, hard := asertHeaders(p, 10, 300*p.HalfLife)
	if got := consensus.NextBits(p, parent, hard); got != p.PowLimitBits {
		t.Errorf("300 half-lives behind: bits %08x, want the limit", got)
	}
	// Far ahead of schedule: the target bottoms out at 1, still valid bits.
	parent, hard = asertHeaders(p, 4_000_000, -3_999_000)
	got := consensus.NextBits(p, parent, hard)
	if got != consensus.BigToCompact(big.NewInt(1)) {
		t.Errorf("far ahead: bits %08x, want the target 1", got)
	}
	if _, err := consensus.TargetFromBits(got, p.PowLimit); err != nil {
		t.Errorf("far ahead: %v", err)
	}
}

func TestNextBitsBeforeAnchor(t *testing.T) {
	p := consensus.Devnet()
	p.GenesisBits = 0x1f00ffff
	genesis := &chain.Header{Height: 0, Timestamp: anchorTime, Bits: p.GenesisBits}
	// Block 1 (the anchor itself) gets the genesis bits, whatever is passed.
	for _, anchor := range []*chain.Header{nil, genesis} {
		if got := consensus.NextBits(p, genesis, anchor); got != p.GenesisBits {
			t.Errorf("block 1: bits %08x, want the genesis bits %08x", got, p.GenesisBits)
		}
	}
	// Without an anchor there is nothing to schedule from.
	parent := &chain.Header{Height: 5, Timestamp: anchorTime + 1, Bits: 0x1e00ffff}
	if got := consensus.NextBits(p, parent, nil); got != p.GenesisBits {
		t.Errorf("no anchor: bits %08x, want the genesis bits", got)
	}
}

// TestNextBitsAnchorIsBlockOne checks that the genesis timestamp plays no
// part: a network whose block 1 is mined a year after its genesis starts
// on schedule.
func TestNextBitsAnchorIsBlockOne(t *testing.T) {
	p := consensus.Devnet()
	const year = 365 * 24 * 3600
	anchor := &chain.Header{Height: 1, Timestamp: p.GenesisTime + year, Bits: p.GenesisBits}
	parent := &chain.Header{Height: 2, Timestamp: anchor.Timestamp + uint32(p.TargetSpacing), Bits: p.GenesisBits}
	if got := consensus.NextBits(p, parent, anchor); got != p.GenesisBits {
		t.Errorf("block 3 of a network started a year late: bits %08x, want %08x", got, p.GenesisBits)
	}
}

func TestNextBitsNoRetarget(t *testing.T) {
	p := consensus.Regtest()
	parent, anchor := asertHeaders(p, 100, -50*p.HalfLife)
	parent.Bits = 0x1f00ffff
	if got := consensus.NextBits(p, parent, anchor); got != parent.Bits {
		t.Errorf("regtest: bits %08x, want the parent's %08x", got, parent.Bits)
	}
}

func TestNextBitsBadAnchorBits(t *testing.T) {
	p := consensus.Devnet()
	parent, anchor := asertHeaders(p, 10, 0)
	anchor.Bits = 0xff123456
	if got := consensus.NextBits(p, parent, anchor); got != p.PowLimitBits {
		t.Errorf("overflowing anchor bits: %08x, want the limit", got)
	}
}
