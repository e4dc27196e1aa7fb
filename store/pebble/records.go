package pebble

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"github.com/chaind/chaind/store"
	"strconv"

	"github.com/chaind/chaind/chain"
)

// Key prefixes; doc.go describes the layout.
const (
	prefixBlock   = 'b' // + block hash → encoded block
	prefixHeader  = 'h' // + block hash → header record
	prefixHeight  = 'n' // + height (4 bytes, big-endian) → main-chain block hash
	prefixUndo    = 'u' // + block hash → undo record
	prefixAccount = 'a' // + address → account (16 bytes)
	prefixTx      = 't' // + tx id → tx location
	prefixAddress = 'x' // + address + height (4) + index (4) → history entry
	prefixTip     = 'T' // (alone) → tip hash
	prefixMeta    = 'm' // + name → metadata value
)

// Record sizes.
const (
	heightSize       = 4
	headerRecordSize = chain.HeaderSize + 1            // header, then the flag byte
	txLocationSize   = chain.HashSize + heightSize + 4 // block hash, height, index
	versionSize      = 4
)

// Header record flag byte values.
const (
	flagValid   byte = 0
	flagInvalid byte = 1
)

// Metadata names (after prefixMeta).
const (
	metaVersion = "version"
	metaNetwork = "network"
	metaGenesis = "genesis"
)

// formatVersion is the on-disk layout this package writes and reads. A
// change of the layout increments it; Open upgrades a directory of an
// earlier version it knows (see upgrade) and refuses any other.
const formatVersion uint32 = 2

// versionNoAddressIndex is the layout before the address index ('x').
const versionNoAddressIndex uint32 = 1

func hashKey(prefix byte, h chain.Hash) []byte {
	k := make([]byte, 1+chain.HashSize)
	k[0] = prefix
	copy(k[1:], h[:])
	return k
}

func heightKey(height uint32) []byte {
	k := make([]byte, 1+heightSize)
	k[0] = prefixHeight
	binary.BigEndian.PutUint32(k[1:], height)
	return k
}

func accountKey(a chain.Address) []byte {
	k := make([]byte, 1+chain.AddressSize)
	k[0] = prefixAccount
	copy(k[1:], a[:])
	return k
}

// addressKeySize is the length of an address index key.
const addressKeySize = 1 + chain.AddressSize + heightSize + 4

// addressKey is the address index key of a's entry at pos.
func addressKey(a chain.Address, pos store.TxPosition) []byte {
	return appendAddressKey(make([]byte, 0, addressKeySize), a, pos)
}

// appendAddressKey appends the address index key of a's entry at pos to dst.
func appendAddressKey(dst []byte, a chain.Address, pos store.TxPosition) []byte {
	dst = append(dst, prefixAddress)
	dst = append(dst, a[:]...)
	dst = binary.BigEndian.AppendUint32(dst, pos.Height)
	return binary.BigEndian.AppendUint32(dst, uint32(pos.Index))
}

// addressKeyPosition returns the position an address index key names.
func addressKeyPosition(k []byte) (store.TxPosition, error) {
	if len(k) != addressKeySize {
		return store.TxPosition{}, fmt.Errorf("address index key is %d bytes, want %d", len(k), addressKeySize)
	}
	idx := binary.BigEndian.Uint32(k[1+chain.AddressSize+heightSize:])
	if idx >= chain.MaxBlockTxs {
		return store.TxPosition{}, fmt.Errorf("transaction index %d exceeds %d", idx, chain.MaxBlockTxs-1)
	}
	return store.TxPosition{Height: binary.BigEndian.Uint32(k[1+chain.AddressSize:]), Index: int(idx)}, nil
}

func metaKey(name string) []byte { return append([]byte{prefixMeta}, name...) }

var tipKey = []byte{prefixTip}

// keyName renders a key for error messages: the prefix letter, then the
// height in decimal, the metadata name, or the rest in hex.
func keyName(k []byte) string {
	if len(k) == 0 {
		return "(empty key)"
	}
	rest := k[1:]
	switch {
	case len(rest) == 0:
		return string(k[:1])
	case k[0] == prefixHeight && len(rest) == heightSize:
		return "n/" + strconv.FormatUint(uint64(binary.BigEndian.Uint32(rest)), 10)
	case k[0] == prefixMeta:
		return "m/" + strconv.Quote(string(rest))
	default:
		return string(k[:1]) + "/" + hex.EncodeToString(rest)
	}
}

// corrupt returns the error for a record under key k that failed to decode.
func corrupt(k []byte, err error) error {
	return fmt.Errorf("%w: key %s: %w", store.ErrCorrupt, keyName(k), err)
}

func encodeHeaderRecord(r store.HeaderRecord) []byte {
	b := make([]byte, headerRecordSize)
	h := r.Header.Encode()
	copy(b, h[:])
	if r.Invalid {
		b[chain.HeaderSize] = flagInvalid
	}
	return b
}

// decodeHeaderRecord decodes a header record strictly and checks that the
// header hashes to want, the hash its key names.
func decodeHeaderRecord(b []byte, want chain.Hash) (store.HeaderRecord, error) {
	var r store.HeaderRecord
	if len(b) != headerRecordSize {
		return r, fmt.Errorf("header record is %d bytes, want %d", len(b), headerRecordSize)
	}
	h, err := chain.DecodeHeader(b[:chain.HeaderSize])
	if err != nil {
		return r, err
	}
	switch b[chain.HeaderSize] {
	case flagValid:
	case flagInvalid:
		r.Invalid = true
	default:
		return r, fmt.Errorf("header record flag is %#x, want 0 or 1", b[chain.HeaderSize])
	}
	if got := h.Hash(); got != want {
		return r, fmt.Errorf("header hashes to %s, not to its key", got)
	}
	r.Header = h
	return r, nil
}

// decodeBlock decodes a stored block strictly and checks its hash.
func decodeBlock(b []byte, want chain.Hash) (*chain.Block, error) {
	blk, err := chain.DecodeBlock(b)
	if err != nil {
		return nil, err
	}
	if got := blk.Hash(); got != want {
		return nil, fmt.Errorf("block hashes to %s, not to its key", got)
	}
	return blk, nil
}

func encodeTxLocation(loc store.TxLocation) []byte {
	b := make([]byte, txLocationSize)
	copy(b, loc.Block[:])
	binary.BigEndian.PutUint32(b[chain.HashSize:], loc.Height)
	binary.BigEndian.PutUint32(b[chain.HashSize+heightSize:], uint32(loc.Index))
	return b
}

func decodeTxLocation(b []byte) (store.TxLocation, error) {
	var loc store.TxLocation
	if len(b) != txLocationSize {
		return loc, fmt.Errorf("transaction location is %d bytes, want %d", len(b), txLocationSize)
	}
	copy(loc.Block[:], b)
	loc.Height = binary.BigEndian.Uint32(b[chain.HashSize:])
	idx := binary.BigEndian.Uint32(b[chain.HashSize+heightSize:])
	if idx >= chain.MaxBlockTxs {
		return loc, fmt.Errorf("transaction index %d exceeds %d", idx, chain.MaxBlockTxs-1)
	}
	loc.Index = int(idx)
	return loc, nil
}

func decodeHash(b []byte) (chain.Hash, error) {
	var h chain.Hash
	if len(b) != chain.HashSize {
		return h, fmt.Errorf("hash is %d bytes, want %d", len(b), chain.HashSize)
	}
	copy(h[:], b)
	return h, nil
}
