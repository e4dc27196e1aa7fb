// Package sha256block is the raw SHA-256 compression function, for callers
// that manage the message schedule themselves: the proof-of-work search in
// package chain hashes the first 64 bytes of a header once (the midstate)
// and then needs exactly one compression per nonce, which crypto/sha256
// cannot express.
//
// Block runs the compression over whole 64-byte blocks. On amd64 it uses the
// SHA extensions (SHA-NI) when the CPU has them, found with CPUID at start;
// everywhere else, and when built with the purego tag, it uses a portable Go
// implementation. Both paths are checked against crypto/sha256 in the tests.
//
// The package does no padding: a caller that wants a digest appends the
// 0x80 byte, zeros and the 64-bit big-endian bit length itself, as FIPS
// 180-4 section 5.1.1 describes, and reads the digest as the eight state
// words in big-endian order.
package sha256block
