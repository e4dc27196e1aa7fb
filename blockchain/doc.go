// Package blockchain decides what the chain is. It keeps an index of every
// valid block it has seen on every branch, follows the branch with the most
// cumulative work (the first seen wins a tie), and reorganises to a heavier
// branch of any depth by disconnecting blocks back to the fork point (with
// their stored undo records) and connecting the new branch. A branch that
// turns out invalid part-way is marked invalid, with all its descendants,
// and the chain settles on the best branch that is still valid.
//
// ProcessBlock is the single entry for new blocks, whether mined here or
// received. It runs consensus.CheckBlockSanity, then the header's
// contextual checks against its parent (height, ASERT target, median time,
// clock), stores the block, and connects it if its branch is now the
// heaviest; connecting runs the body's contextual checks (signatures on all
// cores, then nonces, balances and the coinbase amount while applying the
// block to the state). Blocks whose parent is unknown wait in a bounded
// orphan pool until the parent arrives.
//
// Every connect and disconnect is one store.Update, written atomically. On
// start the index is rebuilt from the stored headers, the state from the
// stored accounts, and if a stored branch is heavier than the stored tip (a
// crash mid-reorg) the chain reorganises to it.
//
// Listeners registered with Subscribe see BlockAccepted (stored on any
// branch), BlockConnected, BlockDisconnected and TipChanged in order. They run after the chain lock
// is released but before ProcessBlock returns, so they may read the chain;
// they must not call ProcessBlock.
//
// A Blockchain is safe for concurrent use.
package blockchain
