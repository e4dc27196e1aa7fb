package sha256block

// Sizes of the SHA-256 building blocks.
const (
	// BlockSize is the size in bytes of one message block.
	BlockSize = 64
	// BlockWords is the number of 32-bit message words in a block.
	BlockWords = BlockSize / 4
	// StateWords is the number of 32-bit words in the chaining state.
	StateWords = 8
	// Size is the size in bytes of a digest.
	Size = 32
)

// InitState is the SHA-256 initial hash value H(0) (FIPS 180-4, 5.3.3).
// Copy it; do not modify it.
var InitState = [StateWords]uint32{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

// Block applies the SHA-256 compression function to h for each 64-byte
// block of p, in order. len(p) should be a multiple of BlockSize; the bytes
// of a trailing partial block are ignored, never read. Block does not
// allocate and is safe for concurrent use on distinct states.
func Block(h *[StateWords]uint32, p []byte) {
	block(h, p)
}

// BlockWordsX2 compresses two message blocks, each from the state h, and
// writes the two resulting states to out; h is not modified. Each block is
// given as its sixteen message words, that is its bytes read as big-endian
// uint32s. The two compressions are independent, so on SHA-NI hardware
// they run interleaved, faster than two Block calls: this is the entry
// point for searching nonces after a shared midstate.
// BlockWordsX2 does not allocate.
func BlockWordsX2(h *[StateWords]uint32, w *[2][BlockWords]uint32, out *[2][StateWords]uint32) {
	blockWordsX2(h, w, out)
}

// Accelerated reports whether Block uses a hardware implementation (SHA-NI)
// on this CPU rather than the portable Go code.
func Accelerated() bool { return accelerated }
