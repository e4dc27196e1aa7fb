package consensus

import (
	"fmt"
	"math/big"

	"github.com/chaind/chaind/chain"
)

var (
	bigOne = big.NewInt(1)
	// twoTo256 is 2^256, the numerator of block work.
	twoTo256 = new(big.Int).Lsh(bigOne, 256)
)

// CompactToBig expands compact target bits (Bitcoin's "nBits": an 8-bit
// base-256 exponent and a 24-bit mantissa) into the target. It reports
// false for a negative or overflowing encoding.
func CompactToBig(bits uint32) (*big.Int, bool) {
	mantissa := int64(bits & 0x007fffff)
	exponent := uint(bits >> 24)
	negative := bits&0x00800000 != 0
	t := big.NewInt(mantissa)
	if exponent <= 3 {
		t.Rsh(t, 8*(3-exponent))
	} else {
		t.Lsh(t, 8*(exponent-3))
	}
	if negative && mantissa != 0 {
		return nil, false
	}
	if t.BitLen() > 256 {
		return nil, false
	}
	return t, true
}

// BigToCompact returns the compact encoding of a non-negative target,
// rounding down to 23 bits of mantissa precision.
func BigToCompact(t *big.Int) uint32 {
	if t.Sign() <= 0 {
		return 0
	}
	size := uint((t.BitLen() + 7) / 8)
	var mantissa uint32
	if size <= 3 {
		mantissa = uint32(t.Uint64()) << (8 * (3 - size))
	} else {
		mantissa = uint32(new(big.Int).Rsh(t, 8*(size-3)).Uint64())
	}
	if mantissa&0x00800000 != 0 {
		mantissa >>= 8
		size++
	}
	return uint32(size)<<24 | mantissa
}

// TargetFromBits checks bits (positive, canonical, at most limit) and returns
// the target they encode.
func TargetFromBits(bits uint32, limit *big.Int) (*big.Int, error) {
	t, ok := CompactToBig(bits)
	if !ok || t.Sign() <= 0 {
		return nil, ruleErr(CodeBadBits, "bits %08x do not encode a positive target", bits)
	}
	if BigToCompact(t) != bits {
		return nil, ruleErr(CodeBadBits, "bits %08x are not in canonical form", bits)
	}
	if t.Cmp(limit) > 0 {
		return nil, ruleErr(CodeBadBits, "bits %08x are easier than the network limit", bits)
	}
	return t, nil
}

// Work returns the expected number of hashes to find a block with target t:
// 2^256 / (t + 1).
func Work(t *big.Int) *big.Int {
	d := new(big.Int).Add(t, bigOne)
	return d.Div(twoTo256, d)
}

// WorkFromBits returns Work of the target bits encode, or zero for bad bits.
func WorkFromBits(bits uint32) *big.Int {
	t, ok := CompactToBig(bits)
	if !ok || t.Sign() <= 0 {
		return new(big.Int)
	}
	return Work(t)
}

// HashToBig reads a hash as a big-endian 256-bit number.
func HashToBig(h chain.Hash) *big.Int { return new(big.Int).SetBytes(h[:]) }

// TargetBytes returns t as 32 big-endian bytes, the form the miner's nonce
// search compares with.
func TargetBytes(t *big.Int) [32]byte {
	var b [32]byte
	t.FillBytes(b[:])
	return b
}

// CheckProofOfWork checks that the header's bits are valid under limit and
// that its hash is at most the target they encode.
func CheckProofOfWork(h *chain.Header, limit *big.Int) error {
	t, err := TargetFromBits(h.Bits, limit)
	if err != nil {
		return err
	}
	if hash := h.Hash(); HashToBig(hash).Cmp(t) > 0 {
		return ruleErr(CodeBadPoW, "block %s hash above target %08x", hash, h.Bits)
	}
	return nil
}

// Difficulty returns how many times harder than the network limit bits are,
// as a float for display.
func Difficulty(bits uint32, limit *big.Int) float64 {
	t, ok := CompactToBig(bits)
	if !ok || t.Sign() <= 0 {
		return 0
	}
	f, _ := new(big.Rat).SetFrac(limit, t).Float64()
	return f
}

func bitsString(bits uint32) string { return fmt.Sprintf("%08x", bits) }
