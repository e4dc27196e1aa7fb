package store

import (
	"encoding/binary"
	"fmt"

	"github.com/chaind/chaind/chain"
)

// History bounds.
const (
	// MaxHistoryPage bounds the entries one AddressHistory call returns.
	MaxHistoryPage = 1000
)

// TxPosition is where a transaction sits in the main chain: its block's
// height and its index in the block. Positions order an address's history.
type TxPosition struct {
	Height uint32
	Index  int
}

// Less reports whether p comes before q in the chain.
func (p TxPosition) Less(q TxPosition) bool {
	return p.Height < q.Height || p.Height == q.Height && p.Index < q.Index
}

// HistoryEntry is one main-chain transaction of an address's history, as
// the address index keeps it: enough to list it without reading its block.
type HistoryEntry struct {
	TxPosition
	TxID chain.Hash
	// Sent: the address sent it; Received: the address received it (both
	// for a transfer to oneself).
	Sent, Received bool
	// Coinbase marks a coinbase (or genesis allocation): new coins, no sender.
	Coinbase bool
	// Counterparty is the other side: the recipient of a send, the sender
	// of a receipt, the address itself for a transfer to oneself, zero for
	// a coinbase.
	Counterparty chain.Address
	Amount       uint64
	Fee          uint64
	Nonce        uint64
}

// AddressEntry is one address index entry a block makes.
type AddressEntry struct {
	Address chain.Address
	Entry   HistoryEntry
}

// AddressEntries returns the address index entries of the block at height
// with transaction ids ids (ids[i] is b.Txs[i].ID()): one per sender and
// one per recipient of every transaction, a single one when they are the
// same address. Both stores write exactly these on connect and remove
// them on disconnect.
func AddressEntries(height uint32, b *chain.Block, ids []chain.Hash) []AddressEntry {
	out := make([]AddressEntry, 0, 2*len(b.Txs))
	for i, tx := range b.Txs {
		e := HistoryEntry{TxPosition: TxPosition{Height: height, Index: i}, TxID: ids[i],
			Amount: tx.Amount, Fee: tx.Fee, Nonce: tx.Nonce}
		if tx.IsCoinbase() {
			e.Received, e.Coinbase = true, true
			out = append(out, AddressEntry{Address: tx.To, Entry: e})
			continue
		}
		from := tx.Sender()
		if from == tx.To {
			e.Sent, e.Received, e.Counterparty = true, true, from
			out = append(out, AddressEntry{Address: from, Entry: e})
			continue
		}
		sent, recv := e, e
		sent.Sent, sent.Counterparty = true, tx.To
		recv.Received, recv.Counterparty = true, from
		out = append(out, AddressEntry{Address: from, Entry: sent}, AddressEntry{Address: tx.To, Entry: recv})
	}
	return out
}

// History entry flag bits.
const (
	historySent     = 1 << 0
	historyReceived = 1 << 1
	historyCoinbase = 1 << 2
)

// HistoryValueSize is the encoded size of a history entry's value (its
// position lives in the key).
const HistoryValueSize = chain.HashSize + 1 + chain.AddressSize + 3*8

// EncodeHistoryValue encodes e without its position.
func EncodeHistoryValue(e HistoryEntry) []byte {
	return AppendHistoryValue(make([]byte, 0, HistoryValueSize), e)
}

// AppendHistoryValue appends the encoding of e (without its position) to
// dst, so a writer can reuse one buffer for every entry of a block.
func AppendHistoryValue(dst []byte, e HistoryEntry) []byte {
	var f byte
	if e.Sent {
		f |= historySent
	}
	if e.Received {
		f |= historyReceived
	}
	if e.Coinbase {
		f |= historyCoinbase
	}
	dst = append(dst, e.TxID[:]...)
	dst = append(dst, f)
	dst = append(dst, e.Counterparty[:]...)
	dst = binary.BigEndian.AppendUint64(dst, e.Amount)
	dst = binary.BigEndian.AppendUint64(dst, e.Fee)
	return binary.BigEndian.AppendUint64(dst, e.Nonce)
}

// DecodeHistoryValue decodes a value of EncodeHistoryValue strictly into
// an entry at pos.
func DecodeHistoryValue(pos TxPosition, b []byte) (HistoryEntry, error) {
	e := HistoryEntry{TxPosition: pos}
	if len(b) != HistoryValueSize {
		return e, fmt.Errorf("history entry is %d bytes, want %d", len(b), HistoryValueSize)
	}
	copy(e.TxID[:], b)
	f := b[chain.HashSize]
	if f&^(historySent|historyReceived|historyCoinbase) != 0 || f&(historySent|historyReceived) == 0 {
		return e, fmt.Errorf("history entry flags %#x are not a valid combination", f)
	}
	e.Sent, e.Received, e.Coinbase = f&historySent != 0, f&historyReceived != 0, f&historyCoinbase != 0
	o := chain.HashSize + 1
	copy(e.Counterparty[:], b[o:])
	o += chain.AddressSize
	e.Amount = binary.BigEndian.Uint64(b[o:])
	e.Fee = binary.BigEndian.Uint64(b[o+8:])
	e.Nonce = binary.BigEndian.Uint64(b[o+16:])
	return e, nil
}

// CheckHistoryQuery checks AddressHistory's arguments.
func CheckHistoryQuery(limit int) error {
	if limit < 1 || limit > MaxHistoryPage {
		return fmt.Errorf("address history: limit %d is out of range 1..%d", limit, MaxHistoryPage)
	}
	return nil
}
