package store

import (
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
// AddressHistory returns it: enough to list it without reading its block.
// (How a store keeps it is its own: Pebble keeps positions only and reads
// the rest back from the block.)
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
// them on disconnect (Pebble keeps only their positions and reads the rest
// back from the block with HistoryEntryOf).
func AddressEntries(height uint32, b *chain.Block, ids []chain.Hash) []AddressEntry {
	out := make([]AddressEntry, 0, 2*len(b.Txs))
	for i, tx := range b.Txs {
		pos := TxPosition{Height: height, Index: i}
		from := tx.Sender()
		if !tx.IsCoinbase() && from != tx.To {
			e, _ := HistoryEntryOf(from, pos, tx, from, ids[i])
			out = append(out, AddressEntry{Address: from, Entry: e})
		}
		e, _ := HistoryEntryOf(tx.To, pos, tx, from, ids[i])
		out = append(out, AddressEntry{Address: tx.To, Entry: e})
	}
	return out
}

// HistoryEntryOf is addr's history entry for tx, whose sender is from
// (tx.Sender(), passed in because deriving it costs a hash), at pos with
// id id; ok is false when addr neither sent nor received tx.
func HistoryEntryOf(addr chain.Address, pos TxPosition, tx *chain.Tx, from chain.Address, id chain.Hash) (e HistoryEntry, ok bool) {
	e = HistoryEntry{TxPosition: pos, TxID: id, Amount: tx.Amount, Fee: tx.Fee, Nonce: tx.Nonce}
	e.Coinbase = tx.IsCoinbase()
	e.Sent = !e.Coinbase && from == addr
	e.Received = tx.To == addr
	switch {
	case e.Sent && e.Received:
		e.Counterparty = addr
	case e.Sent:
		e.Counterparty = tx.To
	case e.Received && !e.Coinbase:
		e.Counterparty = from
	}
	return e, e.Sent || e.Received
}

// CheckHistoryQuery checks AddressHistory's arguments.
func CheckHistoryQuery(limit int) error {
	if limit < 1 || limit > MaxHistoryPage {
		return fmt.Errorf("address history: limit %d is out of range 1..%d", limit, MaxHistoryPage)
	}
	return nil
}
