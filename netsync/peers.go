package netsync

import (
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/p2p"
)

// PeerState is what the syncer knows about one connected peer.
type PeerState struct {
	ID p2p.PeerID `json:"id"`
	// BestHash and BestHeight are the peer's best block as it announced it
	// (status) or as its gossip showed it, whichever is higher.
	BestHash   chain.Hash `json:"best_hash"`
	BestHeight uint32     `json:"best_height"`
	// TotalWork is the cumulative work the peer announced (nil before its
	// first status). It is replaced, never modified in place, so copies of
	// a PeerState may share it.
	TotalWork *big.Int `json:"total_work,omitempty"`
	// LastStatus is when the last status exchange with the peer completed
	// (zero before the first).
	LastStatus time.Time `json:"last_status"`
	// BlocksFetched counts the blocks this node downloaded from the peer.
	BlocksFetched uint64 `json:"blocks_fetched"`
	// Stalls counts block requests to the peer that timed out.
	Stalls uint64 `json:"stalls"`
}

// peer is the syncer's record of one peer. Guarded by peerTable.mu.
type peer struct {
	PeerState
	hasStatus   bool
	mempoolDone bool      // asked for its mempool on this connection
	orphanFrom  bool      // sent a block with an unknown parent: sync from it
	lastOrphan  time.Time // last orphan-triggered fetch, for rate limiting
	retryAfter  time.Time // no new session with this peer before then
	// useless is the best hash of a status whose chain a session found no
	// better than ours; the peer is not synced from again until it changes.
	useless chain.Hash
	// unfunded counts the gossiped transactions from this peer that their
	// sender could not pay, towards the next PenaltyUnfunded.
	unfunded int
}

// peerTable holds the known peers. Safe for concurrent use.
type peerTable struct {
	mu sync.Mutex
	m  map[p2p.PeerID]*peer
	// snap is the sorted copy snapshot last made, kept until a record
	// changes: the sync loop asks for one on every turn, and most turns
	// (a block connected, a header batch) change no peer.
	snap []peer
}

func newPeerTable() *peerTable { return &peerTable{m: make(map[p2p.PeerID]*peer)} }

// ensure returns the record of id, creating it. Called with mu held.
func (t *peerTable) ensureLocked(id p2p.PeerID) *peer {
	p := t.m[id]
	if p == nil {
		p = &peer{PeerState: PeerState{ID: id}}
		t.m[id] = p
		t.snap = nil
	}
	return p
}

// add records a connected peer.
func (t *peerTable) add(id p2p.PeerID) {
	t.mu.Lock()
	t.ensureLocked(id)
	t.mu.Unlock()
}

// remove forgets a disconnected peer.
func (t *peerTable) remove(id p2p.PeerID) {
	t.mu.Lock()
	delete(t.m, id)
	t.snap = nil
	t.mu.Unlock()
}

// retain forgets every peer not in live.
func (t *peerTable) retain(live map[p2p.PeerID]bool) {
	t.mu.Lock()
	for id := range t.m {
		if !live[id] {
			delete(t.m, id)
			t.snap = nil
		}
	}
	t.mu.Unlock()
}

// update applies fn to the record of id (created if missing).
func (t *peerTable) update(id p2p.PeerID, fn func(*peer)) {
	t.mu.Lock()
	fn(t.ensureLocked(id))
	t.snap = nil
	t.mu.Unlock()
}

// updateKnown applies fn to the record of id if there is one: gossip from a
// peer that has just disconnected must not bring its record back.
func (t *peerTable) updateKnown(id p2p.PeerID, fn func(*peer)) {
	t.mu.Lock()
	if p := t.m[id]; p != nil {
		fn(p)
		t.snap = nil
	}
	t.mu.Unlock()
}

// get returns a copy of id's state.
func (t *peerTable) get(id p2p.PeerID) (peer, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.m[id]
	if !ok {
		return peer{}, false
	}
	return *p, true
}

// snapshot returns copies of every record, sorted by id. The slice is
// shared with other callers until a record changes: read it, don't write
// it (slices.Clone it first).
func (t *peerTable) snapshot() []peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.snap != nil || len(t.m) == 0 {
		return t.snap
	}
	out := make([]peer, 0, len(t.m))
	for _, p := range t.m {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b peer) int { return strings.Compare(string(a.ID), string(b.ID)) })
	t.snap = out
	return out
}

// noteStatus records a status the peer sent or answered with.
func (t *peerTable) noteStatus(id p2p.PeerID, s Status, now time.Time) {
	t.update(id, func(p *peer) {
		p.hasStatus = true
		p.BestHash, p.BestHeight = s.Best, s.Height
		p.TotalWork = new(big.Int).Set(s.Work)
		p.LastStatus = now
	})
}

// noteBlock records that the peer has a block at height (it gossiped it or
// served it), raising its best height if that is higher.
func (t *peerTable) noteBlock(id p2p.PeerID, hash chain.Hash, height uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.m[id]; p != nil && height > p.BestHeight {
		p.BestHash, p.BestHeight = hash, height
		t.snap = nil
	}
}
