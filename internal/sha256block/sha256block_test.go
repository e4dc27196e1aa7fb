package sha256block

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// Bounds of the randomized comparisons with crypto/sha256.
const (
	randomMessages  = 2000 // random messages per implementation
	maxRandomLength = 1100 // longest random message, spanning 18 blocks
	lengthFieldSize = 8    // the 64-bit bit length that ends the padding
)

// impl is one compression implementation under test.
type impl struct {
	name  string
	block func(h *[StateWords]uint32, p []byte)
}

// implementations lists the generic path, the exported Block with the
// generic path forced, and whatever platform paths this CPU can run (see
// platformImpls in the per-architecture test files).
func implementations() []impl {
	forced := func(h *[StateWords]uint32, p []byte) {
		saved := useSHANI
		useSHANI = false
		defer func() { useSHANI = saved }()
		Block(h, p)
	}
	list := []impl{
		{"generic", blockGeneric},
		{"Block/forced-generic", forced},
		{"Block/default", Block},
	}
	return append(list, platformImpls()...)
}

// implX2 is one BlockWordsX2 implementation under test.
type implX2 struct {
	name  string
	block func(h *[StateWords]uint32, w *[2][BlockWords]uint32, out *[2][StateWords]uint32)
}

// implementationsX2 lists the BlockWordsX2 paths, as implementations does
// for Block.
func implementationsX2() []implX2 {
	forced := func(h *[StateWords]uint32, w *[2][BlockWords]uint32, out *[2][StateWords]uint32) {
		saved := useSHANI
		useSHANI = false
		defer func() { useSHANI = saved }()
		BlockWordsX2(h, w, out)
	}
	list := []implX2{
		{"generic", blockWordsX2Generic},
		{"BlockWordsX2/forced-generic", forced},
		{"BlockWordsX2/default", BlockWordsX2},
	}
	return append(list, platformImplsX2()...)
}

// pad returns msg followed by the SHA-256 padding: 0x80, zeros, and the
// 64-bit big-endian bit length, a multiple of BlockSize long in all.
func pad(msg []byte) []byte {
	n := len(msg) + 1 + lengthFieldSize
	n = (n + BlockSize - 1) / BlockSize * BlockSize
	out := make([]byte, n)
	copy(out, msg)
	out[len(msg)] = 0x80
	binary.BigEndian.PutUint64(out[n-lengthFieldSize:], uint64(len(msg))*8)
	return out
}

// digest reads the state as a digest: the words in big-endian order.
func digest(h *[StateWords]uint32) [Size]byte {
	var d [Size]byte
	for i, w := range h {
		binary.BigEndian.PutUint32(d[4*i:], w)
	}
	return d
}

// sum hashes msg with the given compression function.
func sum(blk func(*[StateWords]uint32, []byte), msg []byte) [Size]byte {
	h := InitState
	blk(&h, pad(msg))
	return digest(&h)
}

func TestKnownVectors(t *testing.T) {
	// FIPS 180-4 examples (NIST CSRC "SHA256.pdf") and the empty message.
	vectors := []struct{ msg, hex string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	}
	for _, im := range implementations() {
		for _, v := range vectors {
			got := sum(im.block, []byte(v.msg))
			if hexOf(got[:]) != v.hex {
				t.Errorf("%s: SHA-256(%q) = %x, want %s", im.name, v.msg, got, v.hex)
			}
		}
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0xf])
	}
	return string(out)
}

func TestMatchesCryptoSHA256(t *testing.T) {
	for _, im := range implementations() {
		rng := rand.New(rand.NewPCG(1, uint64(len(im.name))))
		buf := make([]byte, maxRandomLength)
		for i := range randomMessages {
			n := rng.IntN(maxRandomLength + 1)
			if i < maxRandomLength/8 {
				n = i // every short length, including each padding boundary
			}
			msg := buf[:n]
			for j := range msg {
				msg[j] = byte(rng.Uint32())
			}
			if got, want := sum(im.block, msg), sha256.Sum256(msg); got != want {
				t.Fatalf("%s: length %d: got %x, want %x", im.name, n, got, want)
			}
		}
	}
}

func TestBlockByBlockEqualsBulk(t *testing.T) {
	const blocks = 9
	rng := rand.New(rand.NewPCG(2, 3))
	p := make([]byte, blocks*BlockSize)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	for _, im := range implementations() {
		bulk, single := InitState, InitState
		im.block(&bulk, p)
		for off := 0; off < len(p); off += BlockSize {
			im.block(&single, p[off:off+BlockSize])
		}
		if bulk != single {
			t.Errorf("%s: one call over %d blocks gives %x, one call per block gives %x", im.name, blocks, bulk, single)
		}
	}
}

func TestPartialBlockIgnored(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	p := make([]byte, 2*BlockSize+BlockSize-1)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	for _, im := range implementations() {
		whole, withTail := InitState, InitState
		im.block(&whole, p[:2*BlockSize])
		im.block(&withTail, p)
		if whole != withTail {
			t.Errorf("%s: trailing partial block changed the state", im.name)
		}
		empty := InitState
		im.block(&empty, p[:BlockSize-1])
		im.block(&empty, nil)
		if empty != InitState {
			t.Errorf("%s: input shorter than a block changed the state", im.name)
		}
	}
}

func TestImplementationsAgreeOnRandomStates(t *testing.T) {
	// Arbitrary chaining states, not only the IV: a midstate is arbitrary.
	const rounds = 500
	rng := rand.New(rand.NewPCG(6, 7))
	ims := implementations()
	var p [BlockSize]byte
	for range rounds {
		var start [StateWords]uint32
		for i := range start {
			start[i] = rng.Uint32()
		}
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		want := start
		blockGeneric(&want, p[:])
		for _, im := range ims {
			got := start
			im.block(&got, p[:])
			if got != want {
				t.Fatalf("%s: state %x: got %x, want %x", im.name, start, got, want)
			}
		}
	}
}

func TestBlockWordsX2MatchesBlock(t *testing.T) {
	const rounds = 500
	rng := rand.New(rand.NewPCG(8, 9))
	for _, im := range implementationsX2() {
		for r := range rounds {
			var h [StateWords]uint32
			if r%2 == 0 {
				h = InitState
			} else {
				for i := range h {
					h[i] = rng.Uint32()
				}
			}
			var w [2][BlockWords]uint32
			var p [2][BlockSize]byte
			for s := range w {
				for i := range w[s] {
					w[s][i] = rng.Uint32()
					binary.BigEndian.PutUint32(p[s][4*i:], w[s][i])
				}
			}
			if r == 0 {
				w[1] = w[0] // equal blocks must give equal states
				p[1] = p[0]
			}
			hBefore := h
			var out [2][StateWords]uint32
			im.block(&h, &w, &out)
			if h != hBefore {
				t.Fatalf("%s: h was modified", im.name)
			}
			for s := range out {
				want := h
				blockGeneric(&want, p[s][:])
				if out[s] != want {
					t.Fatalf("%s: round %d stream %d: got %x, want %x", im.name, r, s, out[s], want)
				}
			}
		}
	}
}

func TestBlockWordsX2Digest(t *testing.T) {
	// Two one-block messages hashed completely: SHA-256("abc") and of the
	// 55-byte message, the longest that pads to one block.
	msgs := [2][]byte{[]byte("abc"), bytes.Repeat([]byte{0xa5}, BlockSize-1-lengthFieldSize)}
	var w [2][BlockWords]uint32
	for s, m := range msgs {
		p := pad(m)
		for i := range w[s] {
			w[s][i] = binary.BigEndian.Uint32(p[4*i:])
		}
	}
	for _, im := range implementationsX2() {
		var out [2][StateWords]uint32
		im.block(&InitState, &w, &out)
		for s, m := range msgs {
			if got, want := digest(&out[s]), sha256.Sum256(m); got != want {
				t.Errorf("%s: stream %d: got %x, want %x", im.name, s, got, want)
			}
		}
	}
	if InitState != [StateWords]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {
		t.Error("InitState was modified")
	}
}

func TestBlockDoesNotAllocate(t *testing.T) {
	p := bytes.Repeat([]byte{0x5a}, 4*BlockSize)
	h := InitState
	if n := testing.AllocsPerRun(100, func() { Block(&h, p) }); n != 0 {
		t.Errorf("Block allocates %v times per call, want 0", n)
	}
	var w [2][BlockWords]uint32
	var out [2][StateWords]uint32
	if n := testing.AllocsPerRun(100, func() { BlockWordsX2(&h, &w, &out) }); n != 0 {
		t.Errorf("BlockWordsX2 allocates %v times per call, want 0", n)
	}
}

func BenchmarkBlock(b *testing.B) {
	const bulkBlocks = 1024
	p := make([]byte, bulkBlocks*BlockSize)
	for _, im := range implementations() {
		b.Run(im.name, func(b *testing.B) {
			h := InitState
			b.SetBytes(int64(len(p)))
			for b.Loop() {
				im.block(&h, p)
			}
		})
	}
}

func BenchmarkBlockWordsX2(b *testing.B) {
	const blocksPerCall = 2
	var w [2][BlockWords]uint32
	for _, im := range implementationsX2() {
		b.Run(im.name, func(b *testing.B) {
			h := InitState
			var out [2][StateWords]uint32
			b.SetBytes(blocksPerCall * BlockSize)
			for b.Loop() {
				im.block(&h, &w, &out)
				w[0][0]++
			}
		})
	}
}
