// Package store persists chaind's chain: blocks by hash, a header index,
// the main chain's height index, undo records, account state, the
// transaction index and the tip.
//
// Every change of the main chain (ConnectBlock, DisconnectBlock) is one
// atomic, synced batch, so a node killed at any instant reopens on a tip
// whose state, undo records and indexes all agree. The connect batch also
// carries the block itself when it is not stored yet, and a block stored
// earlier by an unsynced PutBlock is durable once any later synced batch
// is, because Pebble's write-ahead log is sequential. PutBlock and
// MarkInvalid are not synced: what a crash loses there is fetched or found
// again. A store checks the chain's shape itself (a connected block's
// parent is the tip, a disconnected block is the tip) and refuses an
// update that breaks it, writing nothing; the rules of the chain are
// package consensus's and state's, not the store's.
//
// Open refuses a data directory made for another network (ErrWrongNetwork)
// or held by another process (ErrInUse). Reads decode strictly: a record
// of the wrong size, an undecodable value, or a block or header that does
// not hash to its key gives an error wrapping ErrCorrupt that names the
// key, never a panic and never a silently wrong value.
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
//	'T'                    → tip hash (32); absent in an empty store
//	'm' "version"          → format version (4); Open refuses any other
//	'm' "network"          → network name (1 to MaxNetworkNameSize bytes)
//	'm' "genesis"          → genesis block hash (32)
//
// Blocks and header records of side branches and disconnected blocks stay
// stored; only the main-chain entries ('n', 'u', 't', 'T') and accounts
// follow connects and disconnects.
//
// Memory (NewMemory) keeps the same contract in maps for tests; the
// conformance tests run every Store test against both.
package store
