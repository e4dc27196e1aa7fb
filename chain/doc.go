// Package chain defines chaind's data model: headers, blocks and
// transactions, their canonical binary encoding, block and transaction
// hashing, the merkle root, and the JSON views the HTTP API shows.
//
// The binary encoding is the only one used on disk and on the wire. It is
// fixed-layout and big-endian, and decoding is strict: exact lengths, no
// trailing bytes, every count bounded by a named constant and by the bytes
// actually present, so a decoder never allocates more than its input can
// justify and never panics. Rules that depend on a network (sizes, rewards,
// targets) live in package consensus; this package only knows what a
// well-formed value looks like.
//
// The header is 118 bytes with the nonce in its last 8, so the first
// 64-byte SHA-256 block is the same for every nonce: a miner hashes it once
// and then needs one compression per nonce (see HeaderHasher).
package chain
