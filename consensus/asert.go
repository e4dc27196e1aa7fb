package consensus

import "math/big"

// AnchorHeight is the height of the block whose target and timestamp anchor
// the ASERT retarget. It is block 1, not genesis: a genesis timestamp is
// fixed when the network is defined, but block 1 is mined when the network
// actually starts, so a network started long after its genesis was written
// does not begin "behind schedule" with a flood of minimum-difficulty blocks.
const AnchorHeight = 1

// GapCapHalfLives is how many half-lives of one block's gap the relative
// retarget counts: a longer gap is an idle network, not a slow one, and
// the rest of it is forgiven. No block is more than 2^(2 - spacing/half_life)
// times easier than its parent (3.5 on devnet).
const GapCapHalfLives = 2

// NextBits returns the target bits required of the block after pc.Parent.
//
// The rule is ASERT (absolutely scheduled exponentially rising targets,
// Bitcoin Cash's aserti3-2d). On a network with the absolute schedule
// (mainnet) it is anchored at block 1 (pc.Anchor):
//
//	target = anchor_target * 2^((parent_time - anchor_time - spacing*(parent_height - anchor_height)) / half_life)
//
// On a network with RelativeRetarget (devnet) each block is scheduled from
// its parent, and the parent's own gap counts at most GapCapHalfLives
// half-lives:
//
//	target = parent_target * 2^((min(parent_time - grandparent_time, 2*half_life) - spacing) / half_life)
//
// Without the cap the two are the same rule (the exponents telescope); the
// cap is what makes them differ: a network left idle for an hour does not
// owe the hour back as a flood of easy blocks, and no block is more than
// 2^(2 - spacing/half_life) times easier than its parent.
//
// Both are computed in 16.16 fixed point with the same cubic approximation
// of 2^x and integer arithmetic, so every node gets the same bits. Each
// half-life the chain runs ahead of schedule doubles the difficulty; each
// half-life behind halves it. The result is clamped to [1, PowLimit].
func NextBits(p *Params, pc ParentContext) uint32 {
	parent := pc.Parent
	switch {
	case p.NoRetarget:
		return parent.Bits
	case parent.Height+1 <= AnchorHeight:
		return p.GenesisBits
	case p.RelativeRetarget:
		if parent.Height <= AnchorHeight {
			// Block 1's gap is to the genesis timestamp, which says when
			// the network was defined, not how fast it mines.
			return parent.Bits
		}
		base, ok := CompactToBig(parent.Bits)
		if !ok {
			return p.PowLimitBits
		}
		gap := min(int64(parent.Timestamp)-int64(pc.GrandparentTime), GapCapHalfLives*p.HalfLife)
		return scaleTarget(p, base, gap-p.TargetSpacing)
	case pc.Anchor == nil:
		return p.GenesisBits
	}
	anchorTarget, ok := CompactToBig(pc.Anchor.Bits)
	if !ok {
		return p.PowLimitBits
	}
	timeDelta := int64(parent.Timestamp) - int64(pc.Anchor.Timestamp)
	heightDelta := int64(parent.Height) - int64(pc.Anchor.Height)
	return scaleTarget(p, anchorTarget, timeDelta-p.TargetSpacing*heightDelta)
}

// scaleTarget returns the bits of base * 2^(behind / HalfLife), clamped to
// [1, PowLimit]; behind is in seconds (negative: ahead of schedule).
func scaleTarget(p *Params, base *big.Int, behind int64) uint32 {
	exponent := floorDiv(behind*65536, p.HalfLife)
	shifts := exponent >> 16 // arithmetic shift: floor
	frac := uint64(exponent & 0xffff)
	// factor = 2^(frac/65536) * 65536, cubic approximation (error < 0.013%).
	poly := 195766423245049*frac + 971821376*frac*frac + 5127*frac*frac*frac + (1 << 47)
	factor := int64(65536 + (poly >> 48))

	next := new(big.Int).Mul(base, big.NewInt(factor))
	if shifts < 0 {
		next.Rsh(next, uint(-shifts))
	} else {
		if shifts > 256 {
			return p.PowLimitBits
		}
		next.Lsh(next, uint(shifts))
	}
	next.Rsh(next, 16)
	if next.Sign() == 0 {
		return BigToCompact(bigOne)
	}
	if next.Cmp(p.PowLimit) > 0 {
		return p.PowLimitBits
	}
	return BigToCompact(next)
}

// floorDiv divides rounding towards negative infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
