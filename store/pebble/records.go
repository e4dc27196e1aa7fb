package pebble

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/store"
)

// Key prefixes; doc.go describes the layout.
const (
	prefixBlock   = 'b' // + block hash → encoded block
	prefixHeader  = 'h' // + block hash → header record
	prefixHeight  = 'n' // + height (4 bytes, big-endian) → main-chain block hash
	prefixUndo    = 'u' // + block hash → undo record
	prefixAccount = 'a' // + address → account (16 bytes)
	prefixTx      = 't' // + tx id → tx location
	prefixAddress = 'x' // + address + height (4) → indexes of the address's transactions in the block
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

// Header record flag bits.
const (
	flagInvalid   byte = 1 << 0 // failed validation
	flagConnected byte = 1 << 1 // connected to the main chain at some time
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
const formatVersion uint32 = 3

// Earlier format versions Open upgrades.
const (
	// versionNoAddressIndex is the layout before the address index ('x').
	versionNoAddressIndex uint32 = 1
	// versionAddressEntries kept one 'x' key per address and transaction
	// with the whole history entry as its value, and no connected flag in
	// header records.
	versionAddressEntries uint32 = 2
)

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
const addressKeySize = 1 + chain.AddressSize + heightSize

// addressIndexSize is the size of one transaction index in an address
// index value (chain.MaxBlockTxs is 1<<16).
const addressIndexSize = 2

// addressKey is the address index key of a's transactions in the block at
// height.
func addressKey(a chain.Address, height uint32) []byte {
	return appendAddressKey(make([]byte, 0, addressKeySize), a, height)
}

// appendAddressKey appends the address index key of a at height to dst.
func appendAddressKey(dst []byte, a chain.Address, height uint32) []byte {
	dst = append(dst, prefixAddress)
	dst = append(dst, a[:]...)
	return binary.BigEndian.AppendUint32(dst, height)
}

// addressKeyHeight returns the height an address index key names.
func addressKeyHeight(k []byte) (uint32, error) {
	if len(k) != addressKeySize {
		return 0, fmt.Errorf("address index key is %d bytes, want %d", len(k), addressKeySize)
	}
	return binary.BigEndian.Uint32(k[1+chain.AddressSize:]), nil
}

// addressGroup is one address index record of a block: an address and
// the indexes of the block's transactions it sent or received, ascending,
// encoded as the record's value.
type addressGroup struct {
	addr    chain.Address
	indexes []byte // addressIndexSize bytes each
}

// addressGroups returns the address index records of b: one per address
// that sent or received one of its transactions, in the order the
// addresses first appear. They hold the positions of store.AddressEntries
// (the rest of each entry is read back from the block), grouped by address.
func addressGroups(b *chain.Block) []addressGroup {
	groups := make([]addressGroup, 0, len(b.Txs))
	at := make(map[chain.Address]int, len(b.Txs))
	add := func(a chain.Address, i int) {
		g, ok := at[a]
		if !ok {
			g = len(groups)
			at[a] = g
			groups = append(groups, addressGroup{addr: a})
		}
		groups[g].indexes = binary.BigEndian.AppendUint16(groups[g].indexes, uint16(i))
	}
	for i, tx := range b.Txs {
		if !tx.IsCoinbase() {
			if from := tx.Sender(); from != tx.To {
				add(from, i)
			}
		}
		add(tx.To, i)
	}
	return groups
}

// decodeAddressIndexes decodes an address index value strictly: one or
// more transaction indexes, strictly ascending.
func decodeAddressIndexes(v []byte) ([]int, error) {
	if len(v) == 0 || len(v)%addressIndexSize != 0 {
		return nil, fmt.Errorf("address index value is %d bytes, want a non-zero multiple of %d", len(v), addressIndexSize)
	}
	out := make([]int, len(v)/addressIndexSize)
	for i := range out {
		out[i] = int(binary.BigEndian.Uint16(v[i*addressIndexSize:]))
		if i > 0 && out[i] <= out[i-1] {
			return nil, fmt.Errorf("address index value lists transaction %d after %d", out[i], out[i-1])
		}
	}
	return out, nil
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
		b[chain.HeaderSize] |= flagInvalid
	}
	if r.Connected {
		b[chain.HeaderSize] |= flagConnected
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
	f := b[chain.HeaderSize]
	if f&^(flagInvalid|flagConnected) != 0 {
		return r, fmt.Errorf("header record flags are %#x, want bits %#x only", f, flagInvalid|flagConnected)
	}
	r.Invalid, r.Connected = f&flagInvalid != 0, f&flagConnected != 0
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
