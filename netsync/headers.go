package netsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/p2p"
)

// Bounds of a peer's header sync.
const (
	// MaxSessionHeaders bounds the headers one header sync keeps (as
	// hashes, about 3 MB); a longer chain is learnt in several syncs, each
	// after the blocks of the one before are connected.
	MaxSessionHeaders = 100_000
	// MaxPresyncHeaders bounds the headers one header sync checks
	// (linkage and proof of work) while looking for the work a peer
	// announced; past MaxSessionHeaders they are checked but not kept.
	MaxPresyncHeaders = 10 * MaxSessionHeaders
	// maxHeaderRounds bounds the headers requests of one header sync.
	maxHeaderRounds = MaxPresyncHeaders/blockchain.MaxHeadersPerRequest + 1
	// MaxHeaderSyncs bounds the header syncs running at once (one per
	// peer, the peers with the most announced work first).
	MaxHeaderSyncs = 8
)

// errNotBetter says a peer's headers lead to no more work than our tip.
var errNotBetter = errors.New("netsync: peer's chain has no more work than ours")

// headerChain is a peer's header chain as its header sync learnt it:
// linked, proof-of-work-checked headers after base, a block we know. Only
// their hashes are kept (at most MaxSessionHeaders); shown is the work
// of all the headers checked, kept or not.
type headerChain struct {
	base       chain.Hash
	baseHeight uint32
	hashes     []chain.Hash // appended only: a prefix handed to the sync loop stays valid
	shown      *big.Int
	final      bool // the peer had no more headers
}

// tipHeight is the height of the last header kept.
func (hc *headerChain) tipHeight() uint32 { return hc.baseHeight + uint32(len(hc.hashes)) }

// headerUpdate is what a header sync tells the sync loop: the headers kept
// so far (once they showed more work than our tip), and when it ends, how.
type headerUpdate struct {
	peer       p2p.PeerID
	base       chain.Hash
	baseHeight uint32
	hashes     []chain.Hash // all kept so far (a prefix of the sync's slice)
	shown      *big.Int
	final      bool
	done       bool  // the header sync ended
	err        error // why it ended early (errNotBetter: no more work than ours)
}

// syncHeaders learns a peer's header chain after our block locator, round
// after round until the peer has no more. Every header must link to the
// previous one (hash and height) and carry valid proof of work; the first
// must build on a block we know. A peer that breaks this, or sends more
// headers than it announced, is penalised and the sync ends.
//
// As soon as the headers show more work than our tip (a presync, as
// Bitcoin Core's since v24), and after every round from then on, the
// headers kept so far go to the sync loop, which downloads their blocks
// while the next headers arrive. Before that nothing is handed over, and
// past MaxSessionHeaders headers are checked but not kept: a chain that
// never shows more work than ours costs no block download and bounded
// memory. It ends when the peer has no more headers, or MaxSessionHeaders
// are kept and the work the peer announced (claimedWork) is shown, or
// MaxPresyncHeaders were checked.
func (s *Syncer) syncHeaders(ctx context.Context, id p2p.PeerID, out chan<- headerUpdate) {
	p, ok := s.peers.get(id)
	if !ok {
		s.sendUpdate(ctx, out, headerUpdate{peer: id, done: true, err: fmt.Errorf("peer %s is gone", id.Short())})
		return
	}
	claimed := max(p.BestHeight, s.chain.Height())
	hc, handed, err := s.fetchHeaders(ctx, id, claimed, p.TotalWork, out)
	if err == nil {
		err = s.checkClaim(id, hc, p.TotalWork)
	}
	if err == nil && !handed {
		err = errNotBetter
		if hc.shown != nil && hc.shown.Cmp(s.chain.Tip().Work) > 0 && len(hc.hashes) > 0 {
			err = nil // showed more work than ours in its last round
		}
	}
	u := headerUpdate{peer: id, done: true, err: err}
	if err == nil {
		u.base, u.baseHeight, u.hashes, u.shown, u.final = hc.base, hc.baseHeight, hc.hashes, hc.shown, hc.final
		s.peers.noteBlock(id, hc.hashes[len(hc.hashes)-1], hc.tipHeight())
	}
	s.sendUpdate(ctx, out, u)
}

func (s *Syncer) sendUpdate(ctx context.Context, out chan<- headerUpdate, u headerUpdate) {
	select {
	case out <- u:
	case <-ctx.Done():
	}
}

// fetchHeaders runs the rounds of syncHeaders; handed reports whether
// headers went to the sync loop.
func (s *Syncer) fetchHeaders(ctx context.Context, id p2p.PeerID, claimed uint32, claimedWork *big.Int, out chan<- headerUpdate) (hc *headerChain, handed bool, err error) {
	hc = &headerChain{}
	locator := s.chain.Locator()
	var prev chain.Hash
	var prevHeight uint32
	var pow powChecker
	var hashes []chain.Hash // of one message
	for round := 0; round < maxHeaderRounds; round++ {
		resp, err := s.request(ctx, id, ProtoHeaders, EncodeHeadersRequest(HeadersRequest{Locator: locator}))
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				// Headers that stall cost, as blocks that stall do.
				s.net.Penalize(id, PenaltyStall, "headers request timed out")
			}
			return hc, handed, fmt.Errorf("headers from %s: %w", id.Short(), err)
		}
		hs, err := decodeHeaders(resp)
		if err != nil {
			s.net.Penalize(id, PenaltyMalformed, "headers response: "+err.Error())
			return hc, handed, fmt.Errorf("headers from %s: %w", id.Short(), err)
		}
		if len(hs) == 0 {
			hc.final = true
			return hc, handed, nil
		}
		if hc.shown == nil {
			info, ok := s.chain.BlockInfo(hs[0].PrevHash)
			if !ok {
				return hc, handed, s.blame(id, PenaltyInvalid, "headers do not connect to our locator")
			}
			if info.Invalid {
				return hc, handed, s.blame(id, PenaltyInvalid, "headers build on an invalid block")
			}
			prev, prevHeight = hs[0].PrevHash, info.Header.Height
			hc.base, hc.baseHeight, hc.shown = prev, prevHeight, info.Work
		} else if hs[0].PrevHash != prev {
			// The peer's best chain changed under us: keep what links.
			return hc, handed, nil
		}
		hashes = hashes[:0]
		for i := range hs {
			h := &hs[i]
			if h.PrevHash != prev || h.Height != prevHeight+1 {
				return hc, handed, s.blame(id, PenaltyInvalid, fmt.Sprintf("header %d does not link to the one before", h.Height))
			}
			hash := h.Hash()
			work, err := pow.check(h, hash, s.params.PowLimit)
			if err != nil {
				return hc, handed, s.blame(id, PenaltyInvalid, "header: "+err.Error())
			}
			hashes = append(hashes, hash)
			hc.shown.Add(hc.shown, work)
			prev, prevHeight = hash, h.Height
		}
		// One look at the index for the whole message (its lock is the
		// one connecting blocks takes).
		if s.chain.FirstInvalid(hashes) >= 0 {
			return hc, handed, s.blame(id, PenaltyInvalid, "header of a block known to be invalid")
		}
		if room := MaxSessionHeaders - len(hc.hashes); room > 0 {
			hc.hashes = append(hc.hashes, hashes[:min(room, len(hashes))]...)
		}
		if prevHeight > claimed {
			// More than the peer announced: it may have grown since; ask.
			if st, err := s.exchangeStatus(ctx, id); err == nil {
				claimed = max(claimed, st.Height)
			}
			if prevHeight > claimed {
				return hc, handed, s.blame(id, PenaltyInvalid, fmt.Sprintf("headers past height %d, which it announced", claimed))
			}
		}
		more := len(hs) == blockchain.MaxHeadersPerRequest
		if !more {
			hc.final = true
			return hc, handed, nil
		}
		if len(hc.hashes) >= MaxSessionHeaders && (claimedWork == nil || hc.shown.Cmp(claimedWork) >= 0) {
			return hc, handed, nil // enough kept, and the announced work is shown
		}
		// Headers that show more work than ours: their blocks can be
		// fetched while the next headers come.
		if s.betterThanTip(hc.shown) && len(hc.hashes) > 0 {
			handed = true
			s.sendUpdate(ctx, out, headerUpdate{peer: id, base: hc.base, baseHeight: hc.baseHeight,
				hashes: hc.hashes, shown: new(big.Int).Set(hc.shown)})
		}
		locator = append([]chain.Hash{prev}, s.chain.Locator()...)
		locator = locator[:min(len(locator), blockchain.MaxLocatorHashes)]
	}
	return hc, handed, nil
}

// powChecker checks headers' proof of work as consensus.CheckProofOfWork
// does, hashing each header once and keeping the target and work of the
// last bits seen (a chain's bits change once per retarget at most).
type powChecker struct {
	known  bool
	bits   uint32
	err    error
	target [32]byte
	work   *big.Int
}

// check returns the work of h, whose hash is hash, or why its proof of
// work is invalid under limit.
func (c *powChecker) check(h *chain.Header, hash chain.Hash, limit *big.Int) (*big.Int, error) {
	if !c.known || h.Bits != c.bits {
		c.known, c.bits, c.err = true, h.Bits, nil
		t, err := consensus.TargetFromBits(h.Bits, limit)
		if err != nil {
			c.err = err
		} else {
			c.target, c.work = consensus.TargetBytes(t), consensus.Work(t)
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	if bytes.Compare(hash[:], c.target[:]) > 0 {
		return nil, fmt.Errorf("block %s hash above target %08x", hash, h.Bits)
	}
	return c.work, nil
}

// betterThanTip reports whether work is more than our tip's and at least
// the network's minimum chain work (minwork.go): the presync rule
// for downloading the blocks of a header chain.
func (s *Syncer) betterThanTip(work *big.Int) bool {
	return work != nil && work.Cmp(s.chain.Tip().Work) > 0 && s.meetsMinimumWork(work)
}

// blame penalises a peer and returns the reason as an error.
func (s *Syncer) blame(id p2p.PeerID, points int, reason string) error {
	s.net.Penalize(id, points, reason)
	s.log.Info("peer misbehaved", "peer", id.Short(), "reason", reason, "points", points)
	return fmt.Errorf("peer %s: %s", id.Short(), reason)
}

// checkClaim penalises a peer whose complete header chain shows less work
// than it announced: the claim that made us sync from it never
// materialised, and its blocks are not downloaded. (A peer whose chain
// changed since its status announces the new one at the next status
// round, so an honest peer meets this rarely and a small penalty is
// enough to end lying peers without punishing honest ones.)
func (s *Syncer) checkClaim(id p2p.PeerID, hc *headerChain, claimed *big.Int) error {
	if claimed == nil || hc.shown == nil || hc.shown.Cmp(claimed) >= 0 {
		return nil
	}
	if !hc.final && len(hc.hashes) < MaxSessionHeaders {
		return nil // its best chain changed under us: judged at the next sync
	}
	s.blame(id, PenaltyClaim, fmt.Sprintf("announced work %s but %d headers show %s", claimed, len(hc.hashes), hc.shown))
	return errNotBetter
}
