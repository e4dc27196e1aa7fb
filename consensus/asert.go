package consensus

import (
	"math/big"

	"github.com/chaind/chaind/chain"
)

// AnchorHeight is the height of the block whose target and timestamp anchor
// the ASERT retarget. It is block 1, not genesis: a genesis timestamp is
// fixed when the network is defined, but block 1 is mined when the network
// actually starts, so a network started long after its genesis was written
// does not begin "behind schedule" with a flood of minimum-difficulty blocks.
const AnchorHeight = 1

// NextBits returns the target bits required of the block after parent.
// anchor is the block at AnchorHeight on parent's branch (nil while parent
// is below it).
//
// The rule is ASERT (absolutely scheduled exponentially rising targets,
// Bitcoin Cash's aserti3-2d) anchored at block 1:
//
//	target = anchor_target * 2^((parent_time - anchor_time - spacing*(parent_height - anchor_height)) / half_life)
//
// computed in 16.16 fixed point with the same cubic approximation of 2^x
// and integer arithmetic, so every node gets the same bits. Each
// half-life the chain runs ahead of schedule doubles the difficulty; each
// half-life behind halves it. It depends only on two headers (no window to
// oscillate on) and the result is clamped to [1, PowLimit].
func NextBits(p *Params, parent, anchor *chain.Header) uint32 {
	if p.NoRetarget || parent.Height+1 <= AnchorHeight || anchor == nil {
		if p.NoRetarget {
			return parent.Bits
		}
		return p.GenesisBits
	}
	anchorTarget, ok := CompactToBig(anchor.Bits)
	if !ok {
		return p.PowLimitBits
	}
	timeDelta := int64(parent.Timestamp) - int64(anchor.Timestamp)
	heightDelta := int64(parent.Height) - int64(anchor.Height)
	exponent := floorDiv((timeDelta-p.TargetSpacing*heightDelta)*65536, p.HalfLife)
	shifts := exponent >> 16 // arithmetic shift: floor
	frac := uint64(exponent & 0xffff)
	// factor = 2^(frac/65536) * 65536, cubic approximation (error < 0.013%).
	poly := 195766423245049*frac + 971821376*frac*frac + 5127*frac*frac*frac + (1 << 47)
	factor := int64(65536 + (poly >> 48))

	next := new(big.Int).Mul(anchorTarget, big.NewInt(factor))
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
