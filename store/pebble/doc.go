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
//	                         byte (bit 0: failed validation; bit 1: connected
//	                         to the main chain at some time, so validated in
//	                         full). Kept apart from the block so ForEachHeader
//	                         reads small values.
//	'n' height (4)         → hash of the main-chain block at that height
//	'u' block hash (32)    → undo record of a main-chain block (state.Undo.Encode)
//	'a' address (20)       → account: balance (8), nonce (8); zero accounts are
//	                         deleted, never stored
//	't' tx id (32)         → block hash (32), height (4), index in block (4)
//	'x' address (20), height (4)
//	                       → address index: the indexes (2 bytes each,
//	                         ascending) of the transactions of the main-chain
//	                         block at that height that the address sent or
//	                         received. A history page reads the keys backwards
//	                         (newest first) and each transaction from its
//	                         block (chain.DecodeBlockTx); one key per address
//	                         and block keeps the index's share of a connect
//	                         small.
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
// Format version 2 added the address index (a key per address and
// transaction, holding the whole entry); version 3 keeps one key per
// address and block holding positions only, and the connected flag. Open
// upgrades a version 1 or 2 directory by indexing its main chain again
// and marking its blocks connected (a crash during the upgrade makes the
// next Open start it again); side-branch blocks of an upgraded directory
// stay unmarked, as the old layouts did not record it.
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
