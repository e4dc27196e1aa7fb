package chain

import (
	"encoding/binary"
	"math"

	"github.com/chaind/chaind/internal/sha256block"
)

// Layout of the header's second SHA-256 block, the only one that changes
// with the nonce: bytes 64..118 of the encoding, the 0x80 padding byte,
// zeros, and the message length in bits.
const (
	// headerMidBytes is the prefix whose compression (the midstate) is the
	// same for every nonce.
	headerMidBytes = sha256block.BlockSize
	// headerTailBytes is what remains of the header after the prefix.
	headerTailBytes = HeaderSize - headerMidBytes
	// tailNonce is where the nonce sits in the final block.
	tailNonce = offNonce - headerMidBytes
	// tailPadByte is where the 0x80 that starts the padding goes.
	tailPadByte = headerTailBytes
	// tailLength is where the 64-bit big-endian bit length goes.
	tailLength = sha256block.BlockSize - 8
	// headerBits is the header length in bits, the value at tailLength.
	headerBits = HeaderSize * 8
	// hashWords is the number of 32-bit words in a hash and a target.
	hashWords = HashSize / 4

	// The nonce straddles three message words of the final block: the low
	// bytes of word nonceWord, all of the next, and the high bytes of the
	// one after. nonceHiBits is how many of its bits are in the first.
	nonceWord   = tailNonce / 4
	nonceHiBits = 8 * (4 - tailNonce%4)
)

// Compile-time checks that the header fits the one-compression layout:
// the nonce lies wholly in the final block, and the tail, the padding
// byte and the length fit in one block. Each constant expression below
// overflows uint (a compile error) if its condition is false.
const (
	_ = uint(offNonce - headerMidBytes)
	_ = uint(tailLength - tailPadByte - 1)
	_ = uint(tailNonce%4 - 1) // the nonce is not word-aligned (see nonceHiBits)
)

// HeaderHasher hashes one header under many nonces. It holds the SHA-256
// state after the header's first 64 bytes (which do not depend on the
// nonce) and the padded final block, so each nonce costs one compression.
//
// A HeaderHasher is immutable after Reset; HashNonce and SearchNonces only
// read it, so they are safe for concurrent use, for example by one miner
// goroutine per core sharing one hasher.
type HeaderHasher struct {
	mid   [sha256block.StateWords]uint32 // state after bytes 0..64
	tail  [sha256block.BlockSize]byte    // final block; nonce bytes zero
	words [sha256block.BlockWords]uint32 // tail as message words
}

// NewHeaderHasher returns a hasher for h. h.Nonce is ignored: the nonce is
// the argument of HashNonce and the search range of SearchNonces.
func NewHeaderHasher(h *Header) *HeaderHasher {
	hh := new(HeaderHasher)
	hh.Reset(h)
	return hh
}

// Reset makes hh a hasher for h, computing the midstate of its first 64
// bytes and the padded final block. h.Nonce is ignored. Reset must not run
// concurrently with other methods on hh.
func (hh *HeaderHasher) Reset(h *Header) {
	b := h.Encode()
	hh.mid = sha256block.InitState
	sha256block.Block(&hh.mid, b[:headerMidBytes])
	hh.tail = [sha256block.BlockSize]byte{}
	copy(hh.tail[:], b[headerMidBytes:])
	binary.BigEndian.PutUint64(hh.tail[tailNonce:], 0)
	hh.tail[tailPadByte] = 0x80
	binary.BigEndian.PutUint64(hh.tail[tailLength:], headerBits)
	for i := range hh.words {
		hh.words[i] = binary.BigEndian.Uint32(hh.tail[4*i:])
	}
}

// setNonce writes nonce into the message words w, which hold the final
// block's template (with the nonce bytes zero) everywhere else. It is the
// word-level form of writing the nonce big-endian at tailNonce.
func setNonce(w *[sha256block.BlockWords]uint32, tmpl *[sha256block.BlockWords]uint32, nonce uint64) {
	w[nonceWord] = tmpl[nonceWord] | uint32(nonce>>(64-nonceHiBits))
	w[nonceWord+1] = uint32(nonce >> (32 - nonceHiBits))
	w[nonceWord+2] = tmpl[nonceWord+2] | uint32(nonce<<nonceHiBits)
}

// HashNonce returns the block hash of the header with the given nonce. It
// equals Header.Hash of the header with Nonce set, and does not allocate.
func (hh *HeaderHasher) HashNonce(nonce uint64) Hash {
	st := hh.compress(nonce)
	return stateHash(&st)
}

// compress returns the final SHA-256 state for nonce.
func (hh *HeaderHasher) compress(nonce uint64) [sha256block.StateWords]uint32 {
	blk := hh.tail
	binary.BigEndian.PutUint64(blk[tailNonce:], nonce)
	st := hh.mid
	sha256block.Block(&st, blk[:])
	return st
}

// SearchNonces hashes the header under nonces start, start+1, ... and
// returns the first nonce whose hash, read as a big-endian 256-bit number,
// is at most target (also big-endian), with that hash and found = true. It
// tries count nonces, or fewer if the range would pass math.MaxUint64: the
// search never wraps around to nonce 0. With count = 0 or a nil target it
// tries nothing and reports found = false. It does not allocate.
//
// Nonces are hashed two at a time (sha256block.BlockWordsX2), so the last
// pair of an odd-sized range hashes one nonce past it, unreported.
func (hh *HeaderHasher) SearchNonces(start, count uint64, target *[HashSize]byte) (nonce uint64, hash Hash, found bool) {
	if count == 0 || target == nil {
		return 0, Hash{}, false
	}
	last := start + (count - 1)
	if last < start { // the range passes math.MaxUint64
		last = math.MaxUint64
	}
	var tw [hashWords]uint32
	for i := range tw {
		tw[i] = binary.BigEndian.Uint32(target[4*i:])
	}
	var w [2][sha256block.BlockWords]uint32
	w[0], w[1] = hh.words, hh.words
	var st [2][sha256block.StateWords]uint32
	for n := start; ; n += 2 {
		setNonce(&w[0], &hh.words, n)
		setNonce(&w[1], &hh.words, n+1)
		sha256block.BlockWordsX2(&hh.mid, &w, &st)
		if atMost(&st[0], &tw) {
			return n, stateHash(&st[0]), true
		}
		if n == last {
			return 0, Hash{}, false
		}
		if atMost(&st[1], &tw) {
			return n + 1, stateHash(&st[1]), true
		}
		if n+1 == last {
			return 0, Hash{}, false
		}
	}
}

// stateHash writes the final state as a digest: its words big-endian.
func stateHash(st *[sha256block.StateWords]uint32) Hash {
	var out Hash
	for i, w := range st {
		binary.BigEndian.PutUint32(out[4*i:], w)
	}
	return out
}

// atMost reports whether the digest held in st is at most the target held
// in tw, both as big-endian numbers whose leading word is word 0.
func atMost(st, tw *[hashWords]uint32) bool {
	for i := range hashWords {
		if st[i] != tw[i] {
			return st[i] < tw[i]
		}
	}
	return true
}
