// Package netsync decides what to ask whom: it keeps a node's chain and
// mempool in step with its peers over a p2p.Network (libp2p in production,
// memnet in tests). It holds no chain rules; the chain judges blocks
// (blockchain.ProcessBlock is the only entry) and the pool judges
// transactions, and netsync turns their verdicts into relay decisions and
// peer penalties.
//
// # Protocols
//
// Four request/response protocols, each with a size cap registered on the
// network (which refuses and penalises anything larger before reading it)
// and a count bound enforced by strict decoders:
//
//	status/1   our status → their status: genesis, best hash, height, total
//	           work. A peer with another genesis is banned.
//	headers/1  locator + stop → up to blockchain.MaxHeadersPerRequest
//	           main-chain headers after the first locator hash it knows.
//	blocks/1   up to MaxBlocksPerRequest hashes → those blocks, in order,
//	           at most about MaxBlocksResponseBytes.
//	mempool/1  (empty) → up to MaxMempoolTxs pending transactions.
//
// Blocks, headers and transactions use package chain's binary encodings;
// a message that does not decode costs the sender PenaltyMalformed.
//
// # Gossip
//
// Topic "blocks" carries encoded blocks, "txs" encoded transactions, and
// "txs/reorg" the transactions a reorg returned to the pool, each behind
// the hash of the block that returned it (reannounce.go: the network drops
// a node's second publication of a message, so a re-announcement needs a
// message of its own). The
// validators decode and hand the data to the chain or the pool, and answer
// Accept (relayed), Ignore (duplicate, already known, parent unknown, nonce
// or balance races that honest relays cause) or Reject (malformed, or a
// rule whose violation proves misbehaviour: consensus.Code.Penalty for
// blocks; bad signatures and sanity failures for transactions), which the
// network charges to the sender. A gossiped block is unrequested
// (blockchain.Unrequested): one whose branch is lighter than ours is
// checked, signatures included, but not stored (Result.LowWork), and one
// with a bad body is rejected on any branch; a block of equal work is
// stored but not relayed: its transactions are only checked against a
// state if that branch ever connects, so relaying it could spread a block
// that breaks a state rule. Blocks this node asks for (sync, ancestors)
// are processed as blockchain.Requested and stored while their branch is
// still the lighter one. A transaction whose sender cannot pay it at all
// (mempool.ErrUnfunded) is ignored and charged PenaltyUnfunded per
// UnfundedPerPoint of them: a flood bans its relay, the few an honest peer
// on another branch relays do not. A block whose parent is unknown starts a
// fetch of its ancestors from the peer that sent it (at most once per
// OrphanFetchInterval per peer). One relay rule: what this node connects
// near the tip (mined, gossiped, synced, or an orphan whose parent came),
// or admits to its pool, it announces once, from the chain's and the
// pool's notifications; the network delivers and sends on each message
// once (a message is "seen" when accepted or published, as in gossipsub),
// so a gossiped block's relay and its announcement meet there. The
// validators answer validity only.
//
// # Sync
//
// Status is exchanged when a peer connects and every StatusInterval. When a
// peer announces more work than our tip, the sync loop runs a session with
// it, one session at a time:
//
//  1. Headers first: ask for headers after our block locator, again and
//     again until the peer has no more (or MaxSessionHeaders). Each header
//     must link to the one before by hash and height and carry valid proof
//     of work, and the first must build on a block we know; a peer that
//     breaks this, or sends headers past the height it announced (after
//     asking its status again), is penalised and the session ends. No
//     block of a header chain is downloaded before its headers show more
//     work than ours (presync, as Bitcoin Core's since v24): past
//     MaxSessionHeaders, headers are checked but not kept until they show
//     the work the peer announced (at most MaxPresyncHeaders). A peer
//     whose headers show less work than it announced costs PenaltyClaim,
//     a headers request that times out PenaltyStall.
//  2. Blocks: the blocks we lack are requested in batches of
//     MaxBlocksPerRequest from every peer whose best height covers them,
//     least busy peer first, with at most BlockWindow blocks in flight or
//     waiting and MaxInFlightPerPeer requests per peer. A request that
//     times out costs PenaltyStall and the peer's share of the window for
//     StallCooldown; data that was not asked for costs PenaltyMalformed.
//  3. Blocks are connected in order through ProcessBlock as they become
//     contiguous. A rule violation costs the peer that served the block
//     PenaltyInvalid and ends the session.
//
// A connected block is published unless a session is connecting history:
// blocks more than RelayTipDepth below headers that showed more work than
// ours and older (by timestamp) than RelayTipDepth target spacings (at
// least MinRelayAge). A height a peer merely claims never silences the
// node, and the blocks it mines are always announced.
//
// Repeated penalties reach p2p.BanThreshold and the network bans the peer.
// Progress reports the height, the target, the connect rate and an ETA,
// and is logged every ProgressLogInterval while syncing. SyncNow runs a
// status round and syncs from the peer with the most work at once.
//
// # Concurrency
//
// A Syncer is safe for concurrent use. New registers the handlers (call it
// before the network starts); Start runs the goroutines (peer events,
// status rounds, the sync loop, publishing, progress logs) and Stop cancels
// and waits for all of them, including requests in flight. Chain and pool
// notifications only enqueue publications (bounded by Config.PublishQueue), so
// they never block ProcessBlock or the pool.
package netsync
