// Package miner builds block templates on the chain's tip and searches
// their proof of work on every core.
//
// # Templates
//
// A candidate block is the chain's Template for the block after the tip
// (previous hash, height, required bits, median time, reward), the pending
// transactions the TxSource offers in fee order within the network's count
// and size limits, and a coinbase first that pays reward + fees to the
// miner's address with the height as its nonce. Its timestamp is the clock,
// raised to MinTime+1 when the median of recent blocks is ahead of the clock,
// and never above now + MaxFutureTime - 1 (one second inside the limit that
// nodes enforce, so a block does not bounce off a peer whose clock is a
// fraction of a second behind). When MinTime+1 is beyond that bound the
// miner does not mine a block it knows peers would refuse: it sleeps (at
// most maxTimeWait at a time) until the clock catches up and then rebuilds.
// That happens when blocks come faster than one per second, as on regtest.
//
// # Search
//
// Each of Threads goroutines owns one slice of the 64-bit nonce space and
// hashes it with a shared chain.HeaderHasher (one SHA-256 compression per
// nonce) in chunks of chunkNonces. Between chunks it checks, with atomic
// loads only, whether the search is still wanted: the tip generation (a
// counter bumped by the chain's TipChanged notification) is the one the
// candidate was built at, nobody aborted the round (Stop, a cancelled
// context, a solution found by another thread, the refresh timer) and,
// for continuous mining, no MineOne call is waiting. So a new tip stops
// the search within one chunk, a few milliseconds. A round lasts at most
// refreshInterval; then the candidate is rebuilt so new transactions and
// the clock get in (an unchanged header resumes where it stopped). If
// every thread exhausts its slice, the coinbase memo takes the next
// extra-nonce and the search starts over on the new header.
//
// A solved block goes through Chain.ProcessBlock like a block from a peer.
// The chain refusing one of our own blocks is a bug (a bad template or
// mempool); it is logged as an error, and continuous mining pauses for
// rejectBackoff and carries on.
//
// # Continuous mining and MineOne
//
// Start runs the search in the background until Stop. MineOne mines one
// block on request (the HTTP /mine and /mineBlock routes) with a data note,
// whether or not continuous mining runs: only one search runs at a time,
// and continuous mining yields to MineOne, abandoning its round within a
// chunk and resuming after MineOne returns. MineOne returns once its block
// is the tip's; if another block takes the tip first it rebuilds and tries
// again until its context ends.
//
// # Pacing
//
// SetHashRate (or Config.HashRate) holds the search to a rate: every chunk
// reserves its slot on one schedule shared by the threads (n nonces take
// n/rate seconds) and a thread whose slot is ahead of the clock sleeps
// until it, in steps short enough to notice a new tip. Paced chunks are
// pacedChunkTime's worth of the rate. A schedule that fell behind (idle,
// or threads slower than the rate) restarts from now rather than bursting.
// This is how a devnet gives its miners shares of one network rate.
//
// # Strategies
//
// A Strategy decides when the blocks a node mined are announced; the node
// consults it before announcing (the miner package has no network). Honest
// announces at once; Selfish is Eyal and Sirer's selfish mining, which keeps
// a private branch and publishes from it only to win races. The strategy
// test plays Selfish against honest miners block by block and matches Eyal
// and Sirer's relative-revenue formula within 0.01 over 60,000 blocks.
//
// # Hash rate
//
// Every thread adds its chunk's hashes to one atomic counter. The search
// samples that counter (at most once a rateSampleEvery, plus at the start
// and end of each round), and HashRate is the count since the oldest
// sample within rateWindow divided by the time since then.
//
// A Miner is safe for concurrent use. Every goroutine it starts is joined
// before the call that started it (MineOne, or Stop for Start) returns.
package miner
