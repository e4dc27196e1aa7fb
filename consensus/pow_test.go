package consensus_test

import (
	"errors"
	"math/big"
	"math/rand"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
)

// Sizes of the randomized compact-bits tests.
const (
	randomTargets = 2000
	// compactPrecision is the worst relative loss of BigToCompact: the
	// mantissa keeps at least 16 significant bits (0x008000 and up).
	compactPrecision = 1.0 / (1 << 15)
)

func hexBig(t *testing.T, s string) *big.Int {
	t.Helper()
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		t.Fatalf("bad hex %q", s)
	}
	return v
}

func TestCompactToBigVectors(t *testing.T) {
	cases := []struct {
		bits uint32
		want string // hex
	}{
		// Bitcoin's genesis and proof-of-work limit.
		{0x1d00ffff, "00000000ffff0000000000000000000000000000000000000000000000000000"},
		// Bitcoin regtest's limit, devnet's here.
		{0x207fffff, "7fffff0000000000000000000000000000000000000000000000000000000000"},
		// Bitcoin block 100,000-era bits.
		{0x1b0404cb, "00000000000404cb000000000000000000000000000000000000000000000000"},
		// Bitcoin Core's arith_uint256 SetCompact vectors.
		{0x00000000, "0"},
		{0x00123456, "0"},
		{0x01003456, "0"},
		{0x02000056, "0"},
		{0x03000000, "0"},
		{0x04000000, "0"},
		{0x01123456, "12"},
		{0x02123456, "1234"},
		{0x03123456, "123456"},
		{0x04123456, "12345600"},
		{0x05009234, "92340000"},
		{0x20123456, "1234560000000000000000000000000000000000000000000000000000000000"},
	}
	for _, tc := range cases {
		got, ok := consensus.CompactToBig(tc.bits)
		if !ok {
			t.Errorf("CompactToBig(%08x) refused", tc.bits)
			continue
		}
		if want := hexBig(t, tc.want); got.Cmp(want) != 0 {
			t.Errorf("CompactToBig(%08x) = %x, want %x", tc.bits, got, want)
		}
	}
}

func TestCompactToBigRejectsNegativeAndOverflow(t *testing.T) {
	for _, bits := range []uint32{
		0x04923456, // negative
		0x01fedcba, // negative
		0x1d80ffff, // negative
		0xff123456, // overflow
		0x22000100, // 2^256
		0x21010000, // 2^256
		0x23000001, // 2^256
	} {
		if v, ok := consensus.CompactToBig(bits); ok {
			t.Errorf("CompactToBig(%08x) = %x, want refusal", bits, v)
		}
		if _, err := consensus.TargetFromBits(bits, maxTarget()); !errors.Is(err, consensus.ErrBadBits) {
			t.Errorf("TargetFromBits(%08x): %v, want bad-bits", bits, err)
		}
	}
	// Bitcoin Core reads these as zero (the sign bit is shifted out with
	// the mantissa); here they are refused as negative. Either way they
	// never encode a positive target.
	for _, bits := range []uint32{0x00923456, 0x01803456} {
		if v, ok := consensus.CompactToBig(bits); ok && v.Sign() != 0 {
			t.Errorf("CompactToBig(%08x) = %x, want zero or refusal", bits, v)
		}
		if _, err := consensus.TargetFromBits(bits, maxTarget()); !errors.Is(err, consensus.ErrBadBits) {
			t.Errorf("TargetFromBits(%08x): %v, want bad-bits", bits, err)
		}
	}
	// The largest encodable target, just under 2^256, is accepted.
	if v, ok := consensus.CompactToBig(0x2100ffff); !ok || v.BitLen() != 256 {
		t.Errorf("CompactToBig(2100ffff) = %x, %v", v, ok)
	}
}

// maxTarget is 2^256-1, a limit that lets every encodable target through.
func maxTarget() *big.Int {
	return new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
}

func TestBigToCompact(t *testing.T) {
	for _, tc := range []struct {
		hex  string
		want uint32
	}{
		{"0", 0},
		{"1", 0x01010000},
		{"80", 0x02008000},
		{"12345600", 0x04123456},
		{"92340000", 0x05009234},
		{"00000000ffff0000000000000000000000000000000000000000000000000000", 0x1d00ffff},
		{"7fffff0000000000000000000000000000000000000000000000000000000000", 0x207fffff},
		{"00000000000404cb000000000000000000000000000000000000000000000000", 0x1b0404cb},
		{"00000000ffff1234567890000000000000000000000000000000000000000000", 0x1d00ffff}, // rounds down
	} {
		if got := consensus.BigToCompact(hexBig(t, tc.hex)); got != tc.want {
			t.Errorf("BigToCompact(%s) = %08x, want %08x", tc.hex, got, tc.want)
		}
	}
	if got := consensus.BigToCompact(big.NewInt(-5)); got != 0 {
		t.Errorf("BigToCompact(-5) = %08x, want 0", got)
	}
}

// TestBigToCompactRoundTrip checks, for random targets of every size, that
// the compact form rounds down by less than compactPrecision, is accepted
// by TargetFromBits, and is a fixed point.
func TestBigToCompactRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < randomTargets; i++ {
		bitLen := 1 + rng.Intn(256)
		v := new(big.Int).Lsh(big.NewInt(1), uint(bitLen-1))
		v.Add(v, new(big.Int).Rand(rng, v)) // [2^(n-1), 2^n)
		bits := consensus.BigToCompact(v)
		back, ok := consensus.CompactToBig(bits)
		if !ok || back.Sign() <= 0 {
			t.Fatalf("%x: bits %08x do not decode", v, bits)
		}
		if back.Cmp(v) > 0 {
			t.Fatalf("%x: compact %08x rounds up to %x", v, bits, back)
		}
		loss, _ := new(big.Rat).SetFrac(new(big.Int).Sub(v, back), v).Float64()
		if loss >= compactPrecision {
			t.Fatalf("%x: compact %08x loses %.2g", v, bits, loss)
		}
		if again := consensus.BigToCompact(back); again != bits {
			t.Fatalf("%x: %08x re-encodes as %08x", v, bits, again)
		}
		if _, err := consensus.TargetFromBits(bits, maxTarget()); err != nil {
			t.Fatalf("%x: TargetFromBits(%08x): %v", v, bits, err)
		}
	}
}

func TestTargetFromBits(t *testing.T) {
	limit := consensus.Devnet().PowLimit
	if got, err := consensus.TargetFromBits(0x207fffff, limit); err != nil || got.Cmp(limit) != 0 {
		t.Fatalf("limit bits: %x, %v", got, err)
	}
	if _, err := consensus.TargetFromBits(0x1d00ffff, limit); err != nil {
		t.Fatalf("harder bits: %v", err)
	}
	for name, bits := range map[string]uint32{
		"zero":                   0,
		"zero mantissa":          0x1d000000,
		"precision dropped":      0x01123456, // encodes 0x12, canonically 0x01120000
		"leading zero bytes":     0x1e0000ff, // canonically 0x1d00ff00
		"exponent too big for 1": 0x03000001, // 1 is canonically 0x01010000
		"negative":               0x1d80ffff,
		"above the limit":        0x2100ffff,
		"just above the limit":   consensus.BigToCompact(new(big.Int).Add(limit, new(big.Int).Lsh(big.NewInt(1), 232))),
	} {
		if _, err := consensus.TargetFromBits(bits, limit); !errors.Is(err, consensus.ErrBadBits) {
			t.Errorf("%s (%08x): %v, want bad-bits", name, bits, err)
		}
	}
}

func TestWork(t *testing.T) {
	two256 := new(big.Int).Lsh(big.NewInt(1), 256)
	for _, tc := range []struct {
		target *big.Int
		want   *big.Int
	}{
		{maxTarget(), big.NewInt(1)},
		{new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(1)), big.NewInt(2)},
		{new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1)), new(big.Int).Lsh(big.NewInt(1), 128)},
		{big.NewInt(0), two256},
		{big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 255)},
		// Bitcoin's genesis target: chain work 0x100010001 per block.
		{hexBig(t, "00000000ffff0000000000000000000000000000000000000000000000000000"), big.NewInt(0x100010001)},
	} {
		if got := consensus.Work(tc.target); got.Cmp(tc.want) != 0 {
			t.Errorf("Work(%x) = %x, want %x", tc.target, got, tc.want)
		}
	}
	if got := consensus.WorkFromBits(0x1d00ffff); got.Cmp(big.NewInt(0x100010001)) != 0 {
		t.Errorf("WorkFromBits(1d00ffff) = %x", got)
	}
	for _, bad := range []uint32{0, 0x04923456, 0xff123456} {
		if got := consensus.WorkFromBits(bad); got.Sign() != 0 {
			t.Errorf("WorkFromBits(%08x) = %x, want 0", bad, got)
		}
	}
	// Harder targets are more work.
	if consensus.WorkFromBits(0x1c00ffff).Cmp(consensus.WorkFromBits(0x1d00ffff)) <= 0 {
		t.Error("a harder target is not more work")
	}
}

func TestDifficulty(t *testing.T) {
	limit := consensus.Devnet().PowLimit
	if d := consensus.Difficulty(0x207fffff, limit); d != 1 {
		t.Errorf("difficulty at the limit = %g, want 1", d)
	}
	half := consensus.BigToCompact(new(big.Int).Rsh(limit, 1))
	if d := consensus.Difficulty(half, limit); d < 1.9999 || d > 2.0001 {
		t.Errorf("difficulty of half the limit = %g, want 2", d)
	}
	if d := consensus.Difficulty(0, limit); d != 0 {
		t.Errorf("difficulty of bad bits = %g, want 0", d)
	}
}

func TestTargetBytesAndHashToBig(t *testing.T) {
	tb := consensus.TargetBytes(hexBig(t, "00000000ffff0000000000000000000000000000000000000000000000000000"))
	if tb[3] != 0 || tb[4] != 0xff || tb[5] != 0xff || tb[6] != 0 {
		t.Fatalf("TargetBytes = %x", tb)
	}
	if got := consensus.HashToBig(chain.Hash(tb)); got.Cmp(hexBig(t, "ffff0000000000000000000000000000000000000000000000000000")) != 0 {
		t.Fatalf("HashToBig = %x", got)
	}
}

func TestCheckProofOfWork(t *testing.T) {
	limit := consensus.Devnet().PowLimit
	h := chain.Header{Version: consensus.BlockVersion, Height: 1, Bits: 0x207fffff}
	var below, above bool
	for n := uint64(0); !(below && above); n++ {
		h.Nonce = n
		err := consensus.CheckProofOfWork(&h, limit)
		hashBelow := consensus.HashToBig(h.Hash()).Cmp(limit) <= 0
		switch {
		case hashBelow && err != nil:
			t.Fatalf("nonce %d: hash under the target refused: %v", n, err)
		case !hashBelow && !errors.Is(err, consensus.ErrBadPoW):
			t.Fatalf("nonce %d: hash above the target: %v, want bad-pow", n, err)
		}
		below, above = below || hashBelow, above || !hashBelow
	}
	h.Bits = 0x2100ffff // easier than the limit: refused whatever the hash
	if err := consensus.CheckProofOfWork(&h, limit); !errors.Is(err, consensus.ErrBadBits) {
		t.Fatalf("bits above the limit: %v", err)
	}
}
