// Package blockchain decides what the chain is. It keeps an index of every
// valid block it has seen on every branch, follows the branch with the most
// cumulative work (the first seen wins a tie), and reorganises to a heavier
// branch of any depth by disconnecting blocks back to the fork point (with
// their stored undo records) and connecting the new branch. A branch that
// turns out invalid part-way is marked invalid, with all its descendants,
// and the chain settles on the best branch that is still valid.
//
// ProcessBlock is the single entry for new blocks, whether mined here or
// received. It runs consensus.CheckBlockSanity, then, as Bitcoin Core's
// AcceptBlock, the checks that need the parent but not the branch's state:
// the header against its branch (height, ASERT target, median time,
// clock) and every signature (on all cores, holding no lock that readers
// need) that the signature cache (SigCache, shared with the mempool) does
// not hold: a transaction the pool admitted was verified then, and its id,
// which covers its signature, says so. A block that breaks a rule is refused on any branch, light or
// heavy, before anything is written, so the network can penalise its
// sender. Then the block is stored, unless it arrived unrequested
// (without the Requested flag: gossip) and its branch has less work than
// the tip (Result.LowWork): a peer cannot fill the disk with side branches
// that cannot win, while the blocks this node asks for (sync of a heavier
// branch, ancestors) or mines are stored as they come. A stored block is
// connected if its branch is now the heaviest; connecting applies it to
// the state (nonces, balances, the coinbase amount).
//
// Blocks whose parent is unknown wait in an orphan pool bounded by count
// (MaxOrphans) and encoded bytes (MaxOrphanBytes), each for OrphanTTL; a
// timer (time.AfterFunc, stopped by Close) removes expired orphans even
// when nothing else arrives, so their memory does not stay pinned. When
// the parent arrives, each orphan is judged with the flags it came with.
// As in btcd, an orphan, a block already known or one too light to keep is
// an outcome (Result.Orphan, Result.Duplicate, Result.LowWork) with a nil
// error; a *consensus.RuleError means the block broke a rule. The blocks of
// one call are connected from memory, not read back from the store.
//
// Every connect and disconnect is one store.Update, written atomically.
// A block that extends the tip is not stored on arrival: its connect
// batch carries it (store.Update.NotStored: one batch per block and no
// lookup), and until then the index keeps it in memory. The chain can say
// so because every stored block is in its index (a block whose parent a
// crash lost is fetched again, and a stored invalid mark always follows
// its ancestors in the store's sequential log), so a block it has not
// indexed has no stored record, and no invalid mark to lose; one that
// fails its connect is stored then, with its mark.
// At the tip each ProcessBlock syncs its writes before it returns. While
// catching up (the tip is old by its own timestamp, or the caller of
// ProcessBlockQueued holds many downloaded blocks), connects are grouped:
// written as deferred updates and synced together, at most MaxGroupBlocks,
// MaxGroupBytes or MaxGroupAge apart, and always when the caller has no
// more blocks queued (or calls Flush, or Close). A group that closes
// while the chain is still catching up is synced in the background
// (store.StartSync) while the next group connects; that sync is waited
// for before the next one starts and before any call returns with
// nothing queued, so ProcessBlock's promise holds. Inside one reorganisation
// only the last write is synced. A crash therefore reopens on a consistent
// tip at or below the last one connected, never below the last one synced.
// On start the index is rebuilt from the stored headers, the state from the
// stored accounts, and if a stored branch is heavier than the stored tip (a
// crash mid-reorg) the chain reorganises to it.
//
// Listeners registered with Subscribe see BlockAccepted (stored on any
// branch), BlockConnected, BlockDisconnected and TipChanged in order. They run after the chain lock
// is released but before ProcessBlock returns, so they may read the chain;
// they must not call ProcessBlock.
//
// Readers (Tip, BlockInfo, the queries) take the chain lock for reading
// only; a reorganisation releases it between each disconnect and connect,
// so a reorg of thousands of blocks never keeps readers (the API) waiting
// for more than one step. Between steps they see a consistent chain on
// the way from the old branch to the new one.
//
// A Blockchain is safe for concurrent use.
package blockchain
