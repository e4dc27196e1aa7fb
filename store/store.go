package store

import (
	"errors"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/state"
)

// Sentinel errors. Every error a store returns for one of these conditions
// wraps the sentinel, so callers test with errors.Is.
var (
	// ErrNotFound is returned when a block, undo record, height or
	// transaction is not stored.
	ErrNotFound = errors.New("not found")

	// ErrWrongNetwork is returned by Open when the data directory was made
	// for another network (another name or another genesis).
	ErrWrongNetwork = errors.New("wrong network")

	// ErrInUse is returned by Open when another process (or another Open in
	// this process) holds the data directory's lock.
	ErrInUse = errors.New("directory lock is held")

	// ErrCorrupt is returned when a stored record does not decode, or
	// decodes to something its key contradicts. The error names the key.
	// It is a node problem, never a peer's fault.
	ErrCorrupt = errors.New("corrupt store record")

	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("store is closed")
	// ErrDiskFull is returned by a write, and by Open, when the data
	// directory's filesystem has less free space than the store keeps in
	// reserve. Nothing is written; the same write succeeds once space is
	// freed. Reads go on working.
	ErrDiskFull = errors.New("disk full")
)

// Update is one block connected to or disconnected from the main chain,
// with everything that changes with it. A store writes it as one atomic
// batch, synced unless Deferred is set.
type Update struct {
	Hash    chain.Hash
	Block   *chain.Block
	Undo    *state.Undo    // the block's undo record (written on connect, deleted on disconnect)
	Changes []state.Change // account values after the update; a zero Account deletes the account
	// Deferred lets the store return before the batch is synced: it is
	// still written atomically and after every earlier update, and becomes
	// durable with the next synced update or Sync. A crash loses a suffix
	// of the deferred updates (whole updates, never a part of one).
	Deferred bool
	// NotStored, on a connect, is the caller's word that the block was
	// never stored (no PutBlock, no earlier connect): the store writes the
	// block and its header record with the update without looking for a
	// stored record first. A caller that knows its stored blocks (package
	// blockchain indexes every one) saves a read and a batch per block
	// this way. Given for a block that is stored, the block's header
	// record is written anew: an invalid mark on it would be lost.
	NotStored bool
}

// TxLocation says where a transaction of the main chain is.
type TxLocation struct {
	Block  chain.Hash
	Height uint32
	Index  int
}

// HeaderRecord is a stored block's header, whether it failed validation
// and whether it was ever connected to the main chain (and so validated in
// full: a block of a side branch that was once the main chain stays
// Connected after a reorg disconnects it).
type HeaderRecord struct {
	Header    chain.Header
	Invalid   bool
	Connected bool
}

// Store is what package blockchain needs from persistence. Pebble (Open)
// is the real one; Memory (NewMemory) keeps the same contract in memory for
// tests. Implementations are safe for concurrent use, except Close, which
// must be the last call. Callbacks of ForEachHeader and ForEachAccount may
// call the store; an error they return stops the iteration and is returned
// unchanged.
type Store interface {
	// PutBlock stores a block (main chain or side branch) and its header
	// record. It need not be synced: a block lost in a crash is fetched
	// again. Storing a block that is already stored changes nothing (an
	// invalid mark stays).
	PutBlock(hash chain.Hash, b *chain.Block) error
	// Block returns a stored block, or ErrNotFound.
	Block(hash chain.Hash) (*chain.Block, error)
	// MarkInvalid records that a stored block failed validation, or
	// returns ErrNotFound. It need not be synced: a mark lost in a crash
	// is found again by validation.
	MarkInvalid(hash chain.Hash) error
	// ForEachHeader calls fn for every stored block's header record, in no
	// particular order. It reads headers only, not bodies.
	ForEachHeader(fn func(HeaderRecord) error) error

	// ConnectBlock makes u.Block the new tip: height index, undo record,
	// account changes, transaction index, address index (AddressEntries)
	// and tip, and sets the block's Connected flag, in one batch, synced
	// unless u.Deferred (with the block itself if it is not stored yet, or
	// if u.NotStored says so). u.Block's parent must be the tip, or the
	// store must be empty and u.Block at height 0; u.Hash must be
	// u.Block's hash and u.Undo must be set; a block marked invalid is
	// refused (unless u.NotStored). A refused update writes nothing.
	ConnectBlock(u *Update) error
	// DisconnectBlock removes the tip u.Block from the main chain: its
	// height index, transaction index and address index entries and undo
	// record go, account changes are written and its parent becomes the
	// tip (the store becomes empty when the tip was at height 0), in one
	// batch, synced unless u.Deferred; its Connected flag stays. u.Undo is
	// not used. An update for a block other than the tip is refused and
	// writes nothing.
	DisconnectBlock(u *Update) error
	// Undo returns the undo record of a main-chain block, or ErrNotFound.
	Undo(hash chain.Hash) (*state.Undo, error)
	// Tip returns the main chain's tip hash; ok is false for an empty store.
	Tip() (hash chain.Hash, ok bool, err error)
	// MainHash returns the hash of the main-chain block at height, or ErrNotFound.
	MainHash(height uint32) (chain.Hash, error)
	// TxLocation returns where a main-chain transaction is, or ErrNotFound.
	TxLocation(id chain.Hash) (TxLocation, error)
	// AddressHistory returns up to limit (1..MaxHistoryPage) entries of
	// addr's main-chain history, newest first, starting strictly before
	// *before (from the newest when before is nil).
	AddressHistory(addr chain.Address, before *TxPosition, limit int) ([]HistoryEntry, error)
	// Sync makes every update written so far durable: it ends a group of
	// deferred updates. With nothing pending it costs one sync at most.
	Sync() error
	// StartSync begins what Sync does and returns without waiting: the
	// updates written so far become durable in the background, and wait
	// blocks until they are, returning the sync's error. Updates written
	// meanwhile are not covered. The caller calls wait once, before Close.
	StartSync() (wait func() error, err error)
	// ForEachAccount calls fn for every non-zero account of the tip state.
	ForEachAccount(fn func(chain.Address, state.Account) error) error

	// Close releases the store. Every later call returns ErrClosed.
	Close() error
}
