// Package pebble implements store.Store on a Pebble database in one data
// directory: every ConnectBlock and DisconnectBlock is one batch, synced
// (pebble.Sync) unless the update is Deferred (pebble.NoSync); deferred
// updates, PutBlock and MarkInvalid are made durable by the next synced
// batch or Sync (the write-ahead log is sequential, so syncing it syncs
// everything before).
//
// # Key layout
//
// Keys start with a one-byte prefix; hashes, addresses and ids are raw
// bytes; integers are big-endian, so the height index sorts by height.
//
//	'b' block hash (32)    → encoded block (chain.Block.Encode)
//	'h' block hash (32)    → header record: the 118-byte header, then a flag
//	                         byte (0 valid, 1 failed validation). Kept apart
//	                         from the block so ForEachHeader reads small values.
//	'n' height (4)         → hash of the main-chain block at that height
//	'u' block hash (32)    → undo record of a main-chain block (state.Undo.Encode)
//	'a' address (20)       → account: balance (8), nonce (8); zero accounts are
//	                         deleted, never stored
//	't' tx id (32)         → block hash (32), height (4), index in block (4)
//	'x' address (20), height (4), index in block (4)
//	                       → address index entry of a main-chain transaction
//	                         the address sent or received: tx id (32), flags
//	                         (1: sent, received, coinbase), counterparty (20),
//	                         amount, fee, nonce (8 each); read backwards for
//	                         the newest first
//	'T'                    → tip hash (32); absent in an empty store
//	'm' "version"          → format version (4); Open refuses any other
//	'm' "network"          → network name (1 to MaxNetworkNameSize bytes)
//	'm' "genesis"          → genesis block hash (32)
//	'm' "seq"              → sequence number (8) of the last connect or
//	                         disconnect batch; absent before the first
//
// Blocks and header records of side branches and disconnected blocks stay
// stored; only the main-chain entries ('n', 'u', 't', 'x', 'T') and
// accounts follow connects and disconnects.
//
// Format version 2 added the address index; Open upgrades a version 1
// directory by indexing its main chain once (a crash during the upgrade
// makes the next Open start it again).
//
// Beside the database, the file SyncedFile records the sequence number of
// the last batch a sync covered, so that Open tells damage at the very end
// of the newest write-ahead log (synced batches missing) from a crash's
// torn tail, which Pebble alone cannot (see synced.go); it refuses the
// former with store.ErrCorrupt.
//
// Open refuses a directory of another network (store.ErrWrongNetwork), of
// another format version, or locked by another process (store.ErrInUse).
package pebble
