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
//	blocks/1   up to MaxBlocksPerRequest (128) hashes → those blocks, in order,
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
// message of its own); those further than ReannounceWindow above their
// sender's nonce, which a peer's per-sender bound would refuse, wait for
// blocks that use the earlier nonces and go out behind such a block's
// hash. The
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
// Status is exchanged when a peer connects and every StatusInterval. One
// goroutine, the sync loop, owns the sync state and wakes on events only
// (a status, an orphan, headers, block answers, connected blocks,
// SyncNow, and a timer for peers back from a stall and for stale
// downloads):
//
//  1. Headers from every peer: each peer that announces more work than
//     our tip gets a header sync of its own (at most MaxHeaderSyncs at
//     once), which asks for headers after our block locator again and
//     again until the peer has no more. Each header must link to the one
//     before by hash and height and carry valid proof of work, and the
//     first must build on a block we know; a peer that breaks this, or
//     sends headers past the height it announced (after asking its status
//     again), is penalised and its sync ends. A sync keeps at most
//     MaxSessionHeaders hashes (a longer chain is learnt in several
//     syncs) and checks at most MaxPresyncHeaders headers.
//  2. Presync: no block of a header chain is downloaded before its
//     headers show more work than our tip (as Bitcoin Core's since v24).
//     From the round in which they do, the peer's chain is a candidate
//     and every later round extends it: blocks are requested while the
//     next headers arrive. A chain that never shows more work than ours
//     costs no download and bounded memory. A peer whose complete headers
//     show less work than it announced costs PenaltyClaim and its
//     candidate is dropped; a headers request that times out costs
//     PenaltyStall.
//  3. Blocks, shared by all candidates: the blocks of each candidate we
//     lack, at most BlockWindow past the next one to hand to the
//     connector (which holds at most BlockWindow more), are
//     requested from the least busy peer whose own header chain contains
//     them (or, while a peer's headers are still coming, the heaviest
//     candidate's up to the height it announced), MaxInFlightPerPeer
//     requests per peer, the window shared out among the peers that have
//     the blocks in batches of up to MaxBlocksPerRequest; a block two
//     candidates share is fetched once. A request that times out costs
//     PenaltyStall and the peer's requests for StallCooldown; data that was
//     not asked for costs PenaltyMalformed; refusing, or answering without,
//     the blocks of one's own headers costs PenaltyUnserved. A candidate
//     whose next block no peer can serve is dropped, so a peer serving a
//     fake header chain delays nothing but its own candidate.
//  4. Blocks are connected in each candidate's order through
//     ProcessBlockQueued by a connector goroutine, so requests go on while
//     blocks are validated, written and synced; the chain groups the
//     commits of a catch-up, and what it left unsynced is synced after
//     flushIdle without a next block. A rule violation costs the peer that
//     served the block PenaltyInvalid and drops the candidates through it.
//
// A connected block is published unless a candidate is connecting
// history: blocks more than RelayTipDepth below headers that showed more
// work than ours and older (by timestamp) than RelayTipDepth target
// spacings (at least MinRelayAge). A height a peer merely claims never
// silences the node, and the blocks it mines are always announced.
//
// Repeated penalties reach p2p.BanThreshold and the network bans the peer.
// Progress reports the height, the target, the connect rate and an ETA,
// and is logged every ProgressLogInterval while syncing. SyncNow runs a
// status round and syncs from every peer with more work, ignoring
// back-offs, until the sync loop is idle.
//
// # Concurrency
//
// A Syncer is safe for concurrent use. New registers the handlers (call it
// before the network starts); Start runs the goroutines (peer events,
// status rounds, the sync loop with its header syncs, requests and
// connector, publishing, progress logs) and Stop cancels and waits for all
// of them, including requests in flight; the connector syncs what it
// connected before it ends. Chain and pool notifications only enqueue
// publications (bounded by Config.PublishQueue), so
// they never block ProcessBlock or the pool.
package netsync
