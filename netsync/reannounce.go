package netsync

import (
	"sync"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/p2p"
)

// Re-announcement of the transactions a reorganisation returns to the pool.
//
// The network sends each message once: a message is "seen" when accepted or
// published, and a node's own publication of a message it has seen is
// dropped (gossipsub keeps its seen and delivered ids for two minutes,
// memnet for its last SeenCacheSize messages). A transaction a reorg gives
// back to the pool was announced by this node when it was first admitted,
// so announcing it again on TopicTxs would go nowhere, and the peers that
// never had it (the other side of a healed partition) would never learn it
// from us; the transactions mined only by a partition's minority would
// depend on that side's miners. Instead, once a reorg is over (TipChanged),
// each transaction of a disconnected block that is back in the pool is
// announced on TopicReannounce, prefixed by the hash of the block that
// returned it, in chain order (so a sender's nonces arrive in order). The message id (a hash of the whole message) is then new for
// every reorg that returns the transaction, yet the same at every node that
// disconnects the same block, so each reorg's re-announcement crosses the
// network once, like a first announcement. A node that admits it announces
// it on TopicTxs as usual; one that already has it ignores it (no relay).
// First announcements are untouched: a transaction is still announced once
// on TopicTxs when first admitted.
//
// A deep reorg may return more of one sender's transactions than a peer's
// pool takes from a stranger (mempool.Config.MaxTxsPerSender); the peer
// refuses the rest, and this node, whose pool kept them all, would be the
// only one to hold them (with the minority's miners stopped, forever).
// So only the transactions within ReannounceWindow of their sender's
// account nonce are announced at once; the others are held back, and
// announced when a connected block moves their sender's nonce close
// enough, prefixed by that block's hash (new again, and the same at
// every node that holds them). Each is announced once, as its peers' pools
// have room for it.

// TopicReannounce carries a 32-byte block hash followed by an encoded
// transaction that the reorg disconnecting that block returned to the
// sender's pool, or, for one held back, of the connected block that let it
// go out.
const TopicReannounce = "txs/reorg"

// MaxReturned bounds the transactions of disconnected blocks remembered
// until the reorg that disconnected them is over, and, apart, those held
// back beyond ReannounceWindow; more are not re-announced (peers still
// get them from mempool requests).
const MaxReturned = 1 << 16

// ReannounceWindow is how far above its sender's account nonce a returned
// transaction may be to be re-announced: the pools of peers with default
// bounds take that many of a stranger's transactions (the nonce-gap bound
// is no obstacle, as a sender's returned transactions go out in nonce
// order). Those further ahead wait for blocks that use their sender's
// earlier nonces.
const ReannounceWindow = mempool.DefaultMaxTxsPerSender

// returned is a transaction of a disconnected block.
type returned struct {
	tx    *chain.Tx
	block chain.Hash
}

// returnedTxs collects the transactions of the blocks a reorg disconnects,
// and holds back, in chain order, those re-announced later (held).
// Safe for concurrent use.
type returnedTxs struct {
	mu   sync.Mutex
	txs  []returned
	held []*chain.Tx
}

// add remembers the non-coinbase transactions of the disconnected block b.
func (r *returnedTxs) add(b *chain.Block, hash chain.Hash) {
	if b == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, tx := range b.Txs {
		if tx == nil || tx.IsCoinbase() || len(r.txs) >= MaxReturned {
			continue
		}
		r.txs = append(r.txs, returned{tx: tx, block: hash})
	}
}

// take returns and forgets what add remembered.
func (r *returnedTxs) take() []returned {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.txs
	r.txs = nil
	return out
}

// hold keeps txs, in order, for releaseHeld; beyond MaxReturned held
// transactions, the rest are not.
func (r *returnedTxs) hold(txs []*chain.Tx) {
	if len(txs) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held = append(r.held, txs[:min(len(txs), max(0, MaxReturned-len(r.held)))]...)
}

// release removes and returns the held transactions for which ready holds;
// those for which drop holds are forgotten.
func (r *returnedTxs) release(drop, ready func(*chain.Tx) bool) []*chain.Tx {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*chain.Tx
	keep := r.held[:0]
	for _, tx := range r.held {
		switch {
		case drop(tx):
		case ready(tx):
			out = append(out, tx)
		default:
			keep = append(keep, tx)
		}
	}
	clear(r.held[len(keep):])
	r.held = keep
	return out
}

// reannounce announces on TopicReannounce every transaction a finished
// reorg returned to the pool and that is still there (those the new
// branch includes are not), in chain order (chainOrder); those beyond
// ReannounceWindow of their sender's nonce are held back (releaseHeld).
func (s *Syncer) reannounce() {
	back := s.returned.take()
	if s.pool == nil {
		return
	}
	var later []*chain.Tx
	for _, r := range chainOrder(back) {
		switch {
		case !s.pool.Has(r.tx.ID()):
		case s.inWindow(r.tx):
			s.enqueue(TopicReannounce, encodeReannounce(r.block, r.tx))
		default:
			later = append(later, r.tx)
		}
	}
	s.returned.hold(later)
}

// releaseHeld announces on TopicReannounce, prefixed by the hash of the
// block just connected, the held transactions now within ReannounceWindow
// of their sender's nonce, and forgets those that left the pool.
func (s *Syncer) releaseHeld(block chain.Hash) {
	if s.pool == nil {
		return
	}
	gone := func(tx *chain.Tx) bool { return !s.pool.Has(tx.ID()) }
	for _, tx := range s.returned.release(gone, s.inWindow) {
		s.enqueue(TopicReannounce, encodeReannounce(block, tx))
	}
}

// inWindow reports whether tx's nonce is less than ReannounceWindow above
// its sender's account nonce at our tip.
func (s *Syncer) inWindow(tx *chain.Tx) bool {
	acct := s.chain.Account(tx.Sender())
	return tx.Nonce < acct.Nonce || tx.Nonce-acct.Nonce < ReannounceWindow
}

// chainOrder reorders the transactions of disconnected blocks, collected
// in the order the reorg disconnected the blocks (the old tip's first),
// into chain order: the oldest block's first, each block's in its own
// order. A sender's nonces then reach the pools that never had them in
// order; the other way round, a pool takes a sender's first transactions
// only after refusing the later ones as too far ahead of its next nonce
// (mempool's gap limit), and nothing announces those again.
func chainOrder(back []returned) []returned {
	out := make([]returned, 0, len(back))
	for end := len(back); end > 0; {
		start := end - 1
		for start > 0 && back[start-1].block == back[end-1].block {
			start--
		}
		out = append(out, back[start:end]...)
		end = start
	}
	return out
}

func encodeReannounce(block chain.Hash, tx *chain.Tx) []byte {
	return append(append(make([]byte, 0, chain.HashSize+256), block[:]...), tx.Encode()...)
}

// onGossipReannounce validates a re-announced transaction like a first
// announcement (onGossipTx); the block hash in front is only what makes the
// message new and is not checked (a peer may not know that block).
func (s *Syncer) onGossipReannounce(from p2p.PeerID, data []byte) p2p.Verdict {
	if len(data) <= chain.HashSize {
		return p2p.Reject
	}
	return s.onGossipTx(from, data[chain.HashSize:])
}
