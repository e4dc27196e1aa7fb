package chain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Sizes of the fixed-length fields.
const (
	HashSize      = 32
	AddressSize   = 20
	PublicKeySize = 32
	SignatureSize = 64
)

// Hash is a SHA-256 digest: a block hash, a transaction id, a merkle root.
// Its text form is lower-case hex of the bytes in order; read as a
// big-endian number it is what proof of work compares with the target.
type Hash [HashSize]byte

// ZeroHash is the all-zero hash (the genesis block's previous hash).
var ZeroHash Hash

// String returns the hash as hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros.
func (h Hash) IsZero() bool { return h == ZeroHash }

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ParseHash parses 64 hex characters.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*HashSize {
		return h, fmt.Errorf("hash must be %d hex characters, got %d", 2*HashSize, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("hash is not hex: %w", err)
	}
	return h, nil
}

// HashBytes returns SHA-256 of b.
func HashBytes(b []byte) Hash { return sha256.Sum256(b) }

// PublicKey is an ed25519 public key.
type PublicKey [PublicKeySize]byte

// IsZero reports whether k is all zeros (the coinbase's sender).
func (k PublicKey) IsZero() bool { return k == PublicKey{} }

// String returns the key as hex.
func (k PublicKey) String() string { return hex.EncodeToString(k[:]) }

// Signature is an ed25519 signature.
type Signature [SignatureSize]byte

// Address identifies an account: the first 20 bytes of SHA-256 of its
// public key. Its text form is bech32m with the network's prefix (see
// FormatAddress and ParseAddress).
type Address [AddressSize]byte

// AddressOf returns the address of a public key.
func AddressOf(pub PublicKey) Address {
	sum := sha256.Sum256(pub[:])
	var a Address
	copy(a[:], sum[:AddressSize])
	return a
}
