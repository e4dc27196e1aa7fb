// Package store persists chaind's chain: blocks by hash, a header index,
// the main chain's height index, undo records, account state, the
// transaction index, the address index (every main-chain transaction
// under its sender and its recipient, by height and position, read newest
// first by AddressHistory) and the tip.
//
// Every change of the main chain (ConnectBlock, DisconnectBlock) is one
// atomic batch, so a node killed at any instant reopens on a tip whose
// state, undo records and indexes all agree.
//
// What is synced when: an update is synced before ConnectBlock or
// DisconnectBlock returns, unless the caller marks it Deferred. Deferred
// updates are written in order, each atomically, and become durable
// together with the next synced update, Sync, or StartSync once its wait
// returns (group commit; StartSync lets the caller write the next group
// while the log is synced, and covers only what was written before it): a crash
// loses a suffix of them, whole, so the store reopens on a consistent tip
// at or below the last one written, and at or above the last one synced.
// Package blockchain defers updates only while it catches up (its own
// tip is old, or many downloaded blocks wait) and bounds each group by
// blocks, bytes and time, starting a group's sync in the background
// while it goes on catching up (one at a time, waited for before the
// next one starts and before any synced write); at the tip every block is
// one synced batch, and a catch-up's last block waits for every sync.
// Deferring costs no consistency, only the blocks of the open group,
// which are fetched again. The connect batch also
// carries the block itself when it is not stored yet (without looking
// when the caller says so: Update.NotStored), and a block stored
// earlier by an unsynced PutBlock is durable once any later synced batch
// is, because the store's write-ahead log is sequential. PutBlock and
// MarkInvalid are not synced: what a crash loses there is fetched or found
// again. A store checks the chain's shape itself (a connected block's
// parent is the tip, a disconnected block is the tip) and refuses an
// update that breaks it, writing nothing; the rules of the chain are
// package consensus's and state's, not the store's.
//
// Opening refuses a data directory made for another network (ErrWrongNetwork)
// or held by another process (ErrInUse). Reads decode strictly: a record
// of the wrong size, an undecodable value, or a block or header that does
// not hash to its key gives an error wrapping ErrCorrupt that names the
// key, never a panic and never a silently wrong value.
//
// Package store/pebble is the real implementation (one Pebble database
// per data directory; its key layout is documented there); Memory
// (NewMemory) keeps the same contract in maps for tests. Package
// store/storetest holds the conformance tests every implementation runs.
package store
