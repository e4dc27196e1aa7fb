// Package sha256block is the raw SHA-256 compression function, for callers
// that manage the message schedule themselves: the proof-of-work search in
// package chain hashes the first 64 bytes of a header once (the midstate)
// and then needs exactly one compression per nonce, which crypto/sha256
// cannot express.
//
// Block runs the compression over whole 64-byte blocks. BlockWordsX2 runs it
// on two independent blocks from one shared state, given as message words;
// with SHA-NI the two run interleaved, which raises the rate per core by
// about half (measured on AMD EPYC: 23.5 ns against 35 ns per block) because
// one compression alone is bound by the latency of its SHA256RNDS2 chain,
// not by the throughput of the unit. On amd64 both use the SHA
// extensions when the CPU has them (and SSSE3 and SSE4.1), found with
// CPUID at start; everywhere else, and when built with the purego tag, they
// use a portable Go implementation. Every path is checked against
// crypto/sha256 in the tests.
//
// The package does no padding: a caller that wants a digest appends the
// 0x80 byte, zeros and the 64-bit big-endian bit length itself, as FIPS
// 180-4 section 5.1.1 describes, and reads the digest as the eight state
// words in big-endian order.
package sha256block
