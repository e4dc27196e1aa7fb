package netsync

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/chaind/chaind/p2p"
)

// MaxSyncNowSessions bounds the rounds of one SyncNow call.
const MaxSyncNowSessions = 8

// syncLoop owns the sync state (syncState): it starts a header sync with
// every peer that announces more work than our tip, downloads the blocks
// of their header chains from every peer that has them, hands them to the
// connector in order, and fetches the mempool of peers once in step. It
// wakes on events only: a status or orphan (kick), headers, block
// answers, connected blocks, SyncNow, and a timer for peers coming back
// from a stall and for stale downloads.
func (s *Syncer) syncLoop() {
	st := newSyncState(s)
	defer st.close()
	defer st.timer.Stop()
	st.recheck = true
	for {
		st.refresh()
		if st.recheck {
			st.startHeaderSyncs()
		}
		st.advance()
		st.assign()
		wake := st.checkStalls()
		if st.recheck {
			continue // a candidate ended: its peer may have more
		}
		st.updateTarget()
		if st.idle() {
			s.syncTarget.Store(0)
			s.fetchMempools()
			for _, w := range st.waiters {
				close(w)
			}
			st.waiters = nil
		}
		if !wake.IsZero() {
			st.timer.Reset(max(wake.Sub(s.now()), time.Millisecond))
		}
		select {
		case <-s.ctx.Done():
			return
		case <-s.kick:
			st.recheck = true
		case w := <-s.syncNow:
			st.recheck, st.force = true, true
			st.waiters = append(st.waiters, w)
		case u := <-st.updates:
			s.log.Debug("headers", "peer", u.peer.Short(), "n", len(u.hashes), "done", u.done, "err", u.err)
			st.onHeaders(u)
		case r := <-st.results:
			st.onResult(r)
		case <-st.conn.out:
			for _, d := range st.conn.reports() {
				st.onConnected(d)
			}
		case <-st.timer.C:
		}
	}
}

// pickSyncPeers returns the peers to learn headers from, most announced
// work first: those with more announced work than our tip, then those
// that gossiped a block whose parent we lack. Unless force is set, peers
// in back-off and peers whose announced chain a header sync found no
// better than ours are passed over.
func (s *Syncer) pickSyncPeers(force bool) []p2p.PeerID {
	ours := s.chain.Tip().Work
	now := s.now()
	var better, orphans []peer
	for _, p := range s.peers.snapshot() {
		if !force && now.Before(p.retryAfter) {
			continue
		}
		if p.hasStatus && p.TotalWork.Cmp(ours) > 0 && (force || p.useless != p.BestHash) {
			better = append(better, p)
			continue
		}
		if !force && p.orphanFrom {
			orphans = append(orphans, p)
		}
	}
	slices.SortStableFunc(better, func(a, b peer) int { return b.TotalWork.Cmp(a.TotalWork) })
	slices.SortStableFunc(orphans, func(a, b peer) int { return cmp.Compare(b.BestHeight, a.BestHeight) })
	out := make([]p2p.PeerID, 0, len(better)+len(orphans))
	for _, p := range append(better, orphans...) {
		out = append(out, p.ID)
	}
	return out
}

// SyncNow exchanges status with every peer now and syncs from every peer
// with more work than ours until none has more (at most
// MaxSyncNowSessions rounds), ignoring back-offs. It reports whether the
// tip changed: the chain was extended or replaced by a heavier branch.
func (s *Syncer) SyncNow(ctx context.Context) (replaced bool, err error) {
	if !s.running.Load() {
		return false, ErrStopped
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()

	before := s.chain.Tip().Hash
	if n := len(s.net.Peers()); n > 0 && s.statusRound(ctx) == 0 {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		return false, ErrNoPeers
	}
	for i := 0; i < MaxSyncNowSessions; i++ {
		tip := s.chain.Tip().Hash
		w := make(chan struct{})
		select {
		case s.syncNow <- w:
		case <-ctx.Done():
			return s.chain.Tip().Hash != before, ctx.Err()
		}
		select {
		case <-w:
		case <-ctx.Done():
			return s.chain.Tip().Hash != before, ctx.Err()
		}
		if s.chain.Tip().Hash == tip {
			break
		}
	}
	return s.chain.Tip().Hash != before, nil
}

// fetchMempools asks each peer that is in step with us for its pending
// transactions, once per connection.
func (s *Syncer) fetchMempools() {
	if s.pool == nil {
		return
	}
	height := s.chain.Height()
	for _, p := range s.peers.snapshot() {
		if p.mempoolDone || !p.hasStatus || p.BestHeight > height+RelayTipDepth {
			continue
		}
		id := p.ID
		s.peers.updateKnown(id, func(p *peer) { p.mempoolDone = true })
		s.spawn(func() {
			if err := s.fetchMempool(s.ctx, id); err != nil {
				s.log.Debug("mempool fetch failed", "peer", id.Short(), "err", err)
			}
		})
	}
}

// fetchMempool admits a peer's pending transactions to our pool; those
// admitted are announced like any other (onTxAdmitted).
func (s *Syncer) fetchMempool(ctx context.Context, id p2p.PeerID) error {
	resp, err := s.request(ctx, id, ProtoMempool, nil)
	if err != nil {
		return err
	}
	txs, err := decodeTxs(resp)
	if err != nil {
		s.net.Penalize(id, PenaltyMalformed, "mempool response: "+err.Error())
		return err
	}
	fresh := txs[:0]
	for _, tx := range txs {
		if !s.pool.Has(tx.ID()) {
			fresh = append(fresh, tx)
		}
	}
	invalid := 0
	for _, err := range s.pool.AddBatch(fresh) {
		if err != nil && txVerdict(err) == p2p.Reject {
			invalid++
		}
	}
	if invalid > 0 {
		return s.blame(id, PenaltyInvalid, fmt.Sprintf("mempool response: %d invalid transactions", invalid))
	}
	return nil
}
