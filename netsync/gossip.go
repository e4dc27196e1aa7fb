package netsync

import (
	"errors"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/p2p"
)

// OrphanFetchInterval is the least time between two ancestor fetches
// triggered by the same peer's gossip of blocks with unknown parents, so a
// peer cannot keep us fetching by sending orphans.
const OrphanFetchInterval = time.Second

// onGossipBlock validates a gossiped block by processing it: the chain is
// the only judge of a block, and the verdict says only whether this copy
// is valid and worth relaying; announcing what connects here is
// onChainEvent's job, and sending each message once is the network's. A
// gossiped block is unrequested, so the chain does not store it when its
// branch is lighter than ours. Accept relays it; a duplicate, a block
// ahead of our clock, one on a lighter branch or one with an unknown
// parent is ignored (the last starts a fetch of its ancestors from the
// sender); a rule violation, on any branch, is rejected, which penalises
// the sender.
func (s *Syncer) onGossipBlock(from p2p.PeerID, data []byte) p2p.Verdict {
	if len(data) > s.params.MaxBlockSize {
		return p2p.Reject
	}
	b, err := chain.DecodeBlock(data)
	if err != nil {
		s.log.Debug("malformed gossip block", "peer", from.Short(), "err", err)
		return p2p.Reject
	}
	hash := b.Hash()
	if s.chain.HaveBlock(hash) {
		return p2p.Ignore
	}
	res, err := s.chain.ProcessBlock(b, blockchain.Unrequested)
	verdict := s.blockVerdict(from, b, res, err)
	if verdict == p2p.Accept && !res.MainChain {
		// Stored on a lighter branch: its transactions have not been
		// checked against a state (that happens only if the branch ever
		// connects), so it is not relayed. A node that needs it fetches it
		// as an ancestor when the branch grows (like Bitcoin, which
		// announces only blocks on its best chain).
		s.peers.noteBlock(from, hash, b.Header.Height)
		return p2p.Ignore
	}
	if verdict == p2p.Accept {
		s.peers.noteBlock(from, hash, b.Header.Height)
	}
	return verdict
}

// blockVerdict maps ProcessBlock's outcome for a gossiped block to a verdict.
func (s *Syncer) blockVerdict(from p2p.PeerID, b *chain.Block, res blockchain.Result, err error) p2p.Verdict {
	code := consensus.CodeOf(err)
	switch {
	case err == nil && res.Duplicate:
		return p2p.Ignore
	case err == nil && res.LowWork:
		// Valid as far as it could be checked, but on a branch lighter
		// than ours and not asked for: not stored, not relayed, and no
		// fault of the sender's (a late block of a lost race looks so).
		return p2p.Ignore
	case err == nil && !res.Orphan:
		return p2p.Accept
	case err == nil:
		// Proof of work and sanity passed; the sender has this block's
		// branch and we do not.
		s.peers.noteBlock(from, b.Hash(), b.Header.Height)
		s.triggerOrphanFetch(from)
		return p2p.Ignore
	case code == 0:
		s.log.Error("processing gossiped block", "hash", b.Hash(), "err", err)
		return p2p.Ignore
	case code.Penalty():
		s.log.Info("rejected gossiped block", "peer", from.Short(), "height", b.Header.Height, "hash", b.Hash(), "err", err)
		return p2p.Reject
	default:
		return p2p.Ignore
	}
}

// triggerOrphanFetch asks the sync loop to fetch the missing ancestors of
// an orphan from its sender, at most once per OrphanFetchInterval per peer.
func (s *Syncer) triggerOrphanFetch(from p2p.PeerID) {
	now := s.now()
	trigger := false
	s.peers.updateKnown(from, func(p *peer) {
		if now.Sub(p.lastOrphan) < OrphanFetchInterval {
			return
		}
		p.lastOrphan = now
		p.orphanFrom = true
		p.retryAfter = now // a gossiped orphan is news: try again at once
		trigger = true
	})
	if trigger {
		s.wake()
	}
}

// onGossipTx validates a gossiped transaction by offering it to the pool.
// Only refusals that prove the sender wrong (malformed, bad signature,
// failed sanity checks) reject; nonce, balance, fee and capacity refusals
// happen to honest relays whose view of the chain differs, and are ignored.
// A transaction its sender cannot pay at all (mempool.ErrUnfunded, found
// before its signature is verified) is ignored too, but charged
// proportionately (chargeUnfunded), so a flood of them bans the peer while
// the few an honest peer relays after a reorg do not.
func (s *Syncer) onGossipTx(from p2p.PeerID, data []byte) p2p.Verdict {
	tx, err := chain.DecodeTx(data)
	if err != nil {
		return p2p.Reject
	}
	if s.pool == nil {
		return p2p.Ignore
	}
	if s.pool.Has(tx.ID()) {
		return p2p.Ignore // admitted by another path, which announced it
	}
	err = s.pool.Add(tx)
	if errors.Is(err, mempool.ErrUnfunded) {
		s.chargeUnfunded(from)
	}
	return txVerdict(err)
}

// chargeUnfunded counts an unfunded transaction from a peer and charges
// PenaltyUnfunded for every UnfundedPerPoint of them.
func (s *Syncer) chargeUnfunded(from p2p.PeerID) {
	charge := false
	s.peers.updateKnown(from, func(p *peer) {
		p.unfunded++
		if p.unfunded >= UnfundedPerPoint {
			p.unfunded = 0
			charge = true
		}
	})
	if charge {
		s.net.Penalize(from, PenaltyUnfunded, "relayed transactions whose senders cannot pay them")
	}
}

// txVerdict maps a pool refusal to a verdict.
func txVerdict(err error) p2p.Verdict {
	switch {
	case err == nil:
		return p2p.Accept
	case txBlameless(err):
		return p2p.Ignore
	case consensus.CodeOf(err) != 0:
		return p2p.Reject
	default:
		return p2p.Ignore
	}
}

// txBlameless reports whether a pool refusal can happen to an honest peer.
func txBlameless(err error) bool {
	for _, e := range []error{mempool.ErrDuplicate, mempool.ErrNonceTooLow, mempool.ErrNonceGap,
		mempool.ErrInsufficientFunds, mempool.ErrReplacementFee, mempool.ErrSenderLimit, mempool.ErrPoolFull} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
