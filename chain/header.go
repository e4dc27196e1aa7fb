package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// HeaderSize is the length of an encoded header. The nonce is its last 8
// bytes and everything after the first 64 bytes fits in one SHA-256 block
// with its padding, so each nonce costs one compression (see HeaderHasher).
const HeaderSize = 118

// Field offsets in the encoded header.
const (
	offVersion   = 0
	offHeight    = 2
	offPrevHash  = 6
	offMerkle    = 38
	offDataHash  = 70
	offTimestamp = 102
	offBits      = 106
	offNonce     = 110
)

// Header is a block header. Its SHA-256 is the block hash.
type Header struct {
	Version    uint16
	Height     uint32
	PrevHash   Hash
	MerkleRoot Hash   // merkle root of the block's transaction ids
	DataHash   Hash   // SHA-256 of the block's data note
	Timestamp  uint32 // seconds since the Unix epoch
	Bits       uint32 // compact target (see package consensus)
	Nonce      uint64
}

// Encode returns the canonical 118-byte encoding of h.
func (h *Header) Encode() [HeaderSize]byte {
	var b [HeaderSize]byte
	h.put(b[:])
	return b
}

func (h *Header) put(b []byte) {
	binary.BigEndian.PutUint16(b[offVersion:], h.Version)
	binary.BigEndian.PutUint32(b[offHeight:], h.Height)
	copy(b[offPrevHash:], h.PrevHash[:])
	copy(b[offMerkle:], h.MerkleRoot[:])
	copy(b[offDataHash:], h.DataHash[:])
	binary.BigEndian.PutUint32(b[offTimestamp:], h.Timestamp)
	binary.BigEndian.PutUint32(b[offBits:], h.Bits)
	binary.BigEndian.PutUint64(b[offNonce:], h.Nonce)
}

// Hash returns the block hash: SHA-256 of the header encoding.
func (h *Header) Hash() Hash {
	b := h.Encode()
	return sha256.Sum256(b[:])
}

// DecodeHeader decodes exactly HeaderSize bytes.
func DecodeHeader(b []byte) (Header, error) {
	var h Header
	if len(b) != HeaderSize {
		return h, fmt.Errorf("%w: header is %d bytes, want %d", ErrMalformed, len(b), HeaderSize)
	}
	h.get(b)
	return h, nil
}

func (h *Header) get(b []byte) {
	h.Version = binary.BigEndian.Uint16(b[offVersion:])
	h.Height = binary.BigEndian.Uint32(b[offHeight:])
	copy(h.PrevHash[:], b[offPrevHash:])
	copy(h.MerkleRoot[:], b[offMerkle:])
	copy(h.DataHash[:], b[offDataHash:])
	h.Timestamp = binary.BigEndian.Uint32(b[offTimestamp:])
	h.Bits = binary.BigEndian.Uint32(b[offBits:])
	h.Nonce = binary.BigEndian.Uint64(b[offNonce:])
}
