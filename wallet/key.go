package wallet

import (
	"crypto/ed25519"
	"fmt"
	"io"

	"github.com/chaind/chaind/chain"
)

// SeedSize is the length of the secret seed a Key is derived from; it is
// what the keystore encrypts and the development key file holds.
const SeedSize = ed25519.SeedSize

// Key is an ed25519 signing key. A Key is immutable and safe for concurrent
// use. Its String and GoString methods print only the address, so logging a
// Key by mistake does not leak the secret.
type Key struct {
	priv ed25519.PrivateKey
}

// GenerateKey returns a new random key read from rand (crypto/rand.Reader
// in production; a deterministic reader in tests).
func GenerateKey(rand io.Reader) (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("generate ed25519 key: %w", err)
	}
	return &Key{priv: priv}, nil
}

// KeyFromSeed derives the key of a 32-byte seed (RFC 8032 private key).
func KeyFromSeed(seed []byte) (*Key, error) {
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("key seed must be %d bytes, got %d", SeedSize, len(seed))
	}
	return &Key{priv: ed25519.NewKeyFromSeed(seed)}, nil
}

// Seed returns a copy of the key's secret seed.
func (k *Key) Seed() []byte { return append([]byte(nil), k.priv.Seed()...) }

// PublicKey returns the key's public key, the From of the transactions it
// signs.
func (k *Key) PublicKey() chain.PublicKey {
	var pub chain.PublicKey
	copy(pub[:], k.priv[SeedSize:])
	return pub
}

// Address returns the address of the key's account (chain.AddressOf of its
// public key).
func (k *Key) Address() chain.Address { return chain.AddressOf(k.PublicKey()) }

// SignTx sets tx.From to the key's public key and tx.Signature to an
// ed25519 signature over tx.SigningMessage(networkID). Every other field
// must be final before signing: changing any of them afterwards (or
// presenting the transaction on another network) invalidates the signature.
func (k *Key) SignTx(tx *chain.Tx, networkID chain.Hash) {
	tx.From = k.PublicKey()
	sig := ed25519.Sign(k.priv, tx.SigningMessage(networkID))
	copy(tx.Signature[:], sig)
}

// String returns a description that names the address, never the secret.
// It has a value receiver so that printing a Key value is safe too.
func (k Key) String() string { return fmt.Sprintf("wallet.Key{address: %x}", k.Address()) }

// GoString is like String, so %#v does not print the secret either.
func (k Key) GoString() string { return k.String() }
