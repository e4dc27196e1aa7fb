package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Block limits that hold on every network; consensus.Params may set
// tighter ones.
const (
	// MaxDataSize bounds a block's data note (the naivechain "data" string).
	MaxDataSize = 256
	// MaxBlockTxs bounds the transaction count any decoder accepts.
	MaxBlockTxs = 1 << 16
	// MaxBlockSize bounds the encoded size of any block a decoder accepts.
	MaxBlockSize = 8 << 20
	// BlockOverhead is the encoded size of a block besides its data note
	// and its transactions: the header, the data note's 2-byte length and
	// the 4-byte transaction count.
	BlockOverhead = HeaderSize + 2 + 4
)

// Block is a header, a short data note and the transactions, coinbase first.
type Block struct {
	Header Header
	Data   []byte
	Txs    []*Tx
}

// Hash returns the block hash.
func (b *Block) Hash() Hash { return b.Header.Hash() }

// Size returns the length of b's encoding.
func (b *Block) Size() int {
	n := BlockOverhead + len(b.Data)
	for _, tx := range b.Txs {
		n += tx.Size()
	}
	return n
}

// Encode returns the canonical encoding of b.
func (b *Block) Encode() []byte { return b.AppendEncode(make([]byte, 0, b.Size())) }

// AppendEncode appends the canonical encoding of b to dst: header, data
// length (2 bytes), data, transaction count (4 bytes), transactions.
func (b *Block) AppendEncode(dst []byte) []byte {
	h := b.Header.Encode()
	dst = append(dst, h[:]...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(b.Data)))
	dst = append(dst, b.Data...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b.Txs)))
	for _, tx := range b.Txs {
		dst = tx.AppendEncode(dst)
	}
	return dst
}

// DecodeBlock decodes exactly one block from b. It checks the encoding only;
// whether the block is valid is for package consensus.
func DecodeBlock(b []byte) (*Block, error) {
	if len(b) > MaxBlockSize {
		return nil, fmt.Errorf("%w: block of %d bytes exceeds %d", ErrMalformed, len(b), MaxBlockSize)
	}
	if len(b) < BlockOverhead {
		return nil, fmt.Errorf("%w: block needs at least %d bytes, have %d", ErrMalformed, BlockOverhead, len(b))
	}
	blk := new(Block)
	blk.Header.get(b[:HeaderSize])
	p := HeaderSize
	dataLen := int(binary.BigEndian.Uint16(b[p:]))
	p += 2
	if dataLen > MaxDataSize {
		return nil, fmt.Errorf("%w: data note of %d bytes exceeds %d", ErrMalformed, dataLen, MaxDataSize)
	}
	if len(b)-p < dataLen+4 {
		return nil, fmt.Errorf("%w: block truncated in its data note", ErrMalformed)
	}
	if dataLen > 0 {
		blk.Data = append([]byte(nil), b[p:p+dataLen]...)
	}
	p += dataLen
	count := binary.BigEndian.Uint32(b[p:])
	p += 4
	if count > MaxBlockTxs {
		return nil, fmt.Errorf("%w: %d transactions exceed %d", ErrMalformed, count, MaxBlockTxs)
	}
	// Bound the allocation by what the remaining bytes can hold.
	if uint64(count)*MinTxSize > uint64(len(b)-p) {
		return nil, fmt.Errorf("%w: %d transactions cannot fit in %d bytes", ErrMalformed, count, len(b)-p)
	}
	blk.Txs = make([]*Tx, count)
	for i := range blk.Txs {
		tx, n, err := decodeTx(b[p:])
		if err != nil {
			return nil, fmt.Errorf("transaction %d: %w", i, err)
		}
		blk.Txs[i] = tx
		p += n
	}
	if p != len(b) {
		return nil, fmt.Errorf("%w: %d trailing bytes after block", ErrMalformed, len(b)-p)
	}
	return blk, nil
}

// DataHash returns the header commitment to a data note.
func DataHash(data []byte) Hash { return sha256.Sum256(data) }

// TxIDs returns the ids of txs in order.
func TxIDs(txs []*Tx) []Hash {
	ids := make([]Hash, len(txs))
	for i, tx := range txs {
		ids[i] = tx.ID()
	}
	return ids
}

// DecodeBlockTx decodes the header and the transaction at index i of an
// encoded block, skipping the other transactions by their lengths rather
// than decoding them, so a reader that wants one transaction of a large
// block does not pay for all of them. It checks the framing it walks; the
// whole block is checked by DecodeBlock.
func DecodeBlockTx(b []byte, i int) (Header, *Tx, error) {
	var h Header
	if len(b) > MaxBlockSize {
		return h, nil, fmt.Errorf("%w: block of %d bytes exceeds %d", ErrMalformed, len(b), MaxBlockSize)
	}
	if len(b) < BlockOverhead {
		return h, nil, fmt.Errorf("%w: block needs at least %d bytes, have %d", ErrMalformed, BlockOverhead, len(b))
	}
	h.get(b[:HeaderSize])
	p := HeaderSize
	dataLen := int(binary.BigEndian.Uint16(b[p:]))
	p += 2
	if dataLen > MaxDataSize || len(b)-p < dataLen+4 {
		return h, nil, fmt.Errorf("%w: block truncated in its data note", ErrMalformed)
	}
	p += dataLen
	count := binary.BigEndian.Uint32(b[p:])
	p += 4
	if i < 0 || uint64(i) >= uint64(count) {
		return h, nil, fmt.Errorf("%w: transaction %d of a block of %d", ErrMalformed, i, count)
	}
	for range i {
		if len(b)-p < MinTxSize {
			return h, nil, fmt.Errorf("%w: block truncated before transaction %d", ErrMalformed, i)
		}
		memoLen := int(b[p+txMemoLenOffset])
		if memoLen > MaxMemoSize {
			return h, nil, fmt.Errorf("%w: memo of %d bytes exceeds %d", ErrMalformed, memoLen, MaxMemoSize)
		}
		p += MinTxSize + memoLen
	}
	if p > len(b) {
		return h, nil, fmt.Errorf("%w: block truncated before transaction %d", ErrMalformed, i)
	}
	tx, _, err := decodeTx(b[p:])
	if err != nil {
		return h, nil, fmt.Errorf("transaction %d: %w", i, err)
	}
	return h, tx, nil
}
