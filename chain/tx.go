package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Transaction limits that hold on every network.
const (
	// MaxMemoSize bounds a transaction's memo.
	MaxMemoSize = 64
	// MinTxSize is the size of a transaction with an empty memo.
	MinTxSize = PublicKeySize + AddressSize + 8 + 8 + 8 + 1 + SignatureSize
	// MaxTxSize is the size of a transaction with the longest memo.
	MaxTxSize = MinTxSize + MaxMemoSize
	// txMemoLenOffset is where a transaction's encoding holds its memo's
	// length: after the public key, the recipient, amount, fee and nonce.
	txMemoLenOffset = PublicKeySize + AddressSize + 8 + 8 + 8
)

// ErrMalformed wraps every decoding error: the bytes are not a canonical
// encoding of the value.
var ErrMalformed = errors.New("malformed encoding")

// sigDomain separates transaction signatures from any other ed25519 use.
const sigDomain = "chaind/tx/v1"

// Tx is a transfer of Amount from the account of public key From to To,
// paying Fee to the miner. Nonce must equal the sender's count of earlier
// transactions. A coinbase has a zero From and Signature, pays the block
// reward plus fees to To, and carries the block height in Nonce.
type Tx struct {
	From      PublicKey
	To        Address
	Amount    uint64
	Fee       uint64
	Nonce     uint64
	Memo      []byte // at most MaxMemoSize bytes
	Signature Signature
}

// IsCoinbase reports whether tx is a coinbase (zero sender).
func (tx *Tx) IsCoinbase() bool { return tx.From.IsZero() }

// Sender returns the sender's address (zero for a coinbase).
func (tx *Tx) Sender() Address {
	if tx.IsCoinbase() {
		return Address{}
	}
	return AddressOf(tx.From)
}

// Size returns the length of tx's encoding.
func (tx *Tx) Size() int { return MinTxSize + len(tx.Memo) }

// AppendBody appends the encoding of every field but the signature.
func (tx *Tx) appendBody(b []byte) []byte {
	b = append(b, tx.From[:]...)
	b = append(b, tx.To[:]...)
	b = binary.BigEndian.AppendUint64(b, tx.Amount)
	b = binary.BigEndian.AppendUint64(b, tx.Fee)
	b = binary.BigEndian.AppendUint64(b, tx.Nonce)
	b = append(b, byte(len(tx.Memo)))
	return append(b, tx.Memo...)
}

// AppendEncode appends the canonical encoding of tx to b.
func (tx *Tx) AppendEncode(b []byte) []byte {
	b = tx.appendBody(b)
	return append(b, tx.Signature[:]...)
}

// Encode returns the canonical encoding of tx.
func (tx *Tx) Encode() []byte { return tx.AppendEncode(make([]byte, 0, tx.Size())) }

// ID returns the transaction id: SHA-256 of the full encoding, signature
// included, so a block hash commits to every byte of its transactions.
func (tx *Tx) ID() Hash {
	var buf [MaxTxSize]byte
	return sha256.Sum256(tx.AppendEncode(buf[:0]))
}

// SigningMessage returns what the sender signs: a domain tag, the network
// id (the genesis hash) and the encoding without the signature. A
// transaction signed for one network is therefore invalid on any other.
func (tx *Tx) SigningMessage(networkID Hash) []byte {
	return tx.AppendSigningMessage(make([]byte, 0, MaxSigningMessageSize), networkID)
}

// MaxSigningMessageSize is the length of the longest signing message.
const MaxSigningMessageSize = len("chaind/tx/v1") + HashSize + MaxTxSize - SignatureSize

// AppendSigningMessage appends tx.SigningMessage(networkID) to b, so a
// verifier can reuse one buffer for many transactions.
func (tx *Tx) AppendSigningMessage(b []byte, networkID Hash) []byte {
	b = append(b, sigDomain...)
	b = append(b, networkID[:]...)
	return tx.appendBody(b)
}

// DecodeTx decodes exactly one transaction from b.
func DecodeTx(b []byte) (*Tx, error) {
	tx, n, err := decodeTx(b)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("%w: %d trailing bytes after transaction", ErrMalformed, len(b)-n)
	}
	return tx, nil
}

// decodeTx decodes a transaction at the start of b and returns its length.
func decodeTx(b []byte) (*Tx, int, error) {
	if len(b) < MinTxSize {
		return nil, 0, fmt.Errorf("%w: transaction needs at least %d bytes, have %d", ErrMalformed, MinTxSize, len(b))
	}
	tx := new(Tx)
	p := 0
	p += copy(tx.From[:], b[p:])
	p += copy(tx.To[:], b[p:])
	tx.Amount = binary.BigEndian.Uint64(b[p:])
	tx.Fee = binary.BigEndian.Uint64(b[p+8:])
	tx.Nonce = binary.BigEndian.Uint64(b[p+16:])
	p += 24
	memoLen := int(b[p])
	p++
	if memoLen > MaxMemoSize {
		return nil, 0, fmt.Errorf("%w: memo of %d bytes exceeds %d", ErrMalformed, memoLen, MaxMemoSize)
	}
	if len(b) < MinTxSize+memoLen {
		return nil, 0, fmt.Errorf("%w: transaction with a %d-byte memo needs %d bytes, have %d", ErrMalformed, memoLen, MinTxSize+memoLen, len(b))
	}
	if memoLen > 0 {
		tx.Memo = append([]byte(nil), b[p:p+memoLen]...)
		p += memoLen
	}
	p += copy(tx.Signature[:], b[p:p+SignatureSize])
	return tx, p, nil
}
