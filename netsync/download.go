package netsync

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/p2p"
)

// Bounds of the block download.
const (
	// BlockWindow bounds how far past the next block of a peer's header
	// chain to hand to the connector its blocks are requested, and the
	// blocks the connector may hold: the download keeps at most twice
	// this far ahead of connecting, so a peer that joins later still gets
	// its share.
	BlockWindow = 512
	// minBatch is the fewest blocks a request asks for while the window
	// has more: the window is shared out among the peers that have the
	// blocks, MaxInFlightPerPeer requests each, but never in requests so
	// small that round trips dominate.
	minBatch = 16
	// MaxWindowBytes bounds the bytes of downloaded blocks waiting to be
	// connected (with the connector or not yet in order); beyond it only
	// the next block of each chain is requested.
	MaxWindowBytes = 64 << 20
	// MaxInFlightPerPeer bounds the block requests one peer serves at
	// once, so that the window is shared among the peers that have the
	// blocks.
	MaxInFlightPerPeer = 4
	// StallCooldown is how long a peer whose block request timed out gets
	// no further block requests.
	StallCooldown = 30 * time.Second
	// staleSessionTimeouts: a header chain whose download saw no block
	// arrive for this many request timeouts is abandoned.
	staleSessionTimeouts = 3
	// flushIdle is how long connected blocks of an open group wait for a
	// next block before they are synced anyway.
	flushIdle = 100 * time.Millisecond
)

// candidate is a peer's header chain that showed more work than our tip:
// its blocks are downloaded, from every peer whose own chain has them,
// and connected in order.
type candidate struct {
	peer p2p.PeerID
	hc   headerChain
	next int // index into hc.hashes of the next block to hand to the connector
	// scan is where batchFor looks for blocks to request: every block
	// before it is asked for, downloaded or ours (reset when a request
	// gives blocks back).
	scan    int
	started time.Time
	tip     blockchain.Tip // our tip when it started, for the summary
	// progress is when a block of it last arrived or was handed on.
	progress time.Time
}

// hashAt returns the hash of the candidate's header at height, if it has
// one.
func (c *candidate) hashAt(height uint32) (chain.Hash, bool) {
	if height <= c.hc.baseHeight || height > c.hc.tipHeight() {
		return chain.Hash{}, false
	}
	return c.hc.hashes[height-c.hc.baseHeight-1], true
}

// slotState is where one block of the download stands.
type slotState uint8

const (
	slotInFlight slotState = iota // asked of a peer
	slotGot                       // received, waiting for its turn to connect
	slotHanded                    // handed to the connector
)

// slot is one block being downloaded or connected, shared by every
// candidate that contains it.
type slot struct {
	state  slotState
	height uint32
	peer   p2p.PeerID // asked of, or served by
	block  *chain.Block
	size   int
}

// dlResult is the outcome of one blocks request.
type dlResult struct {
	peer    p2p.PeerID
	hashes  []chain.Hash
	heights []uint32
	blocks  []*chain.Block
	sizes   []int
	err     error
	stall   bool // the request timed out
}

// connItem is a block handed to the connector.
type connItem struct {
	block  *chain.Block
	hash   chain.Hash
	from   p2p.PeerID
	queued int // blocks known to follow it (group commit)
}

// connDone is the connector's report on one block.
type connDone struct {
	hash   chain.Hash
	height uint32
	err    error
}

// errParentFailed says a block was not processed because a block before
// it failed: nothing is charged for it.
var errParentFailed = errors.New("netsync: parent block failed")

// syncState is the sync loop's state: the header syncs running, the
// candidates, and the blocks being downloaded and connected. It is owned
// by the sync loop's goroutine; requests, header syncs and the connector
// run elsewhere and report on channels.
type syncState struct {
	s *Syncer

	headerSyncs map[p2p.PeerID]context.CancelFunc
	updates     chan headerUpdate
	cands       map[p2p.PeerID]*candidate

	slots        map[chain.Hash]*slot
	waitingBytes int
	inflight     map[p2p.PeerID]int
	cooling      map[p2p.PeerID]time.Time
	dropped      map[p2p.PeerID]bool // no block requests until its next header sync
	abandoned    map[p2p.PeerID]bool // its chain's download failed: ignore the rest of its header sync
	results      chan dlResult
	active       int // requests not yet reported
	handed       int // blocks with the connector

	conn *connector

	peers []peer // the peer table, taken once per turn of the loop (refresh)

	recheck bool // look for peers to sync headers from
	force   bool // ... ignoring back-offs (SyncNow)
	waiters []chan struct{}
	timer   *time.Timer
	syncing bool
}

func newSyncState(s *Syncer) *syncState {
	st := &syncState{
		s:           s,
		headerSyncs: make(map[p2p.PeerID]context.CancelFunc),
		updates:     make(chan headerUpdate, 16),
		cands:       make(map[p2p.PeerID]*candidate),
		slots:       make(map[chain.Hash]*slot),
		inflight:    make(map[p2p.PeerID]int),
		cooling:     make(map[p2p.PeerID]time.Time),
		dropped:     make(map[p2p.PeerID]bool),
		abandoned:   make(map[p2p.PeerID]bool),
		results:     make(chan dlResult, 64),
		timer:       time.NewTimer(time.Hour),
	}
	st.timer.Stop()
	st.conn = newConnector(s)
	return st
}

// close cancels the header syncs and the requests and waits for the
// requests' results, so none outlives the loop, then stops the connector
// (which syncs what it connected).
func (st *syncState) close() {
	for _, cancel := range st.headerSyncs {
		cancel()
	}
	for ; st.active > 0; st.active-- {
		<-st.results
	}
	st.conn.stop()
	for _, w := range st.waiters {
		close(w)
	}
}

// idle reports whether nothing is being synced.
func (st *syncState) idle() bool {
	return len(st.headerSyncs) == 0 && len(st.cands) == 0 && st.active == 0 && st.handed == 0
}

// startHeaderSyncs starts a header sync with every peer worth one (up to
// MaxHeaderSyncs at once): peers that announced more work than our tip,
// or gossiped a block whose parent we lack.
func (st *syncState) startHeaderSyncs() {
	s := st.s
	force := st.force
	st.recheck, st.force = false, false
	st.forgetGone()
	for _, id := range s.pickSyncPeers(force) {
		if len(st.headerSyncs) >= MaxHeaderSyncs {
			return
		}
		if _, running := st.headerSyncs[id]; running {
			continue
		}
		if _, has := st.cands[id]; has {
			continue // its chain is being downloaded; its next headers after
		}
		ctx, cancel := context.WithCancel(s.ctx)
		st.headerSyncs[id] = cancel
		delete(st.dropped, id)
		delete(st.abandoned, id)
		s.peers.updateKnown(id, func(p *peer) { p.orphanFrom = false })
		if !s.spawn(func() { s.syncHeaders(ctx, id, st.updates) }) {
			cancel()
			delete(st.headerSyncs, id)
			return
		}
	}
}

// forgetGone drops what the loop holds about peers no longer connected
// (and with no request out), so peers coming and going cost no memory.
func (st *syncState) forgetGone() {
	live := make(map[p2p.PeerID]bool, len(st.peers))
	for _, p := range st.peers {
		live[p.ID] = true
	}
	for _, m := range []map[p2p.PeerID]bool{st.dropped, st.abandoned} {
		for id := range m {
			if !live[id] {
				delete(m, id)
			}
		}
	}
	for id := range st.cooling {
		if !live[id] {
			delete(st.cooling, id)
		}
	}
	for id, n := range st.inflight {
		if n == 0 && !live[id] {
			delete(st.inflight, id)
		}
	}
}

// onHeaders takes a header sync's news: a header chain that showed more
// work than ours becomes (or extends) the peer's candidate; a sync that
// ended in failure sets the peer's back-off.
func (st *syncState) onHeaders(u headerUpdate) {
	s := st.s
	if u.done {
		if cancel, ok := st.headerSyncs[u.peer]; ok {
			cancel()
			delete(st.headerSyncs, u.peer)
		}
		st.recheck = true
	}
	if u.err != nil {
		now := s.now()
		s.peers.updateKnown(u.peer, func(p *peer) {
			if errors.Is(u.err, errNotBetter) {
				p.useless = p.BestHash
			} else {
				p.retryAfter = now.Add(s.statusInterval)
			}
		})
		if c := st.cands[u.peer]; c != nil {
			st.dropCandidate(c, u.err)
		}
		if s.ctx.Err() == nil {
			s.log.Debug("header sync ended", "peer", u.peer.Short(), "err", u.err)
		}
		return
	}
	if len(u.hashes) == 0 || st.abandoned[u.peer] {
		return
	}
	c := st.cands[u.peer]
	if c == nil || c.hc.base != u.base {
		if c != nil {
			st.dropCandidate(c, nil)
		}
		now := s.now()
		c = &candidate{peer: u.peer, started: now, progress: now, tip: s.chain.Tip()}
		st.cands[u.peer] = c
		delete(st.dropped, u.peer) // asked for blocks of another chain before its own came
	}
	c.hc = headerChain{base: u.base, baseHeight: u.baseHeight, hashes: u.hashes, shown: u.shown, final: u.final}
	if u.done && !u.final {
		// Kept MaxSessionHeaders: the rest is learnt after these connect.
		c.hc.final = true
	}
	st.updateTarget()
}

// refresh takes the peer table for this turn of the loop.
func (st *syncState) refresh() { st.peers = st.s.peers.snapshot() }

// updateTarget sets the relay gate and the progress target from the
// candidates: the highest header that showed more work than ours.
func (st *syncState) updateTarget() {
	var target uint32
	for _, c := range st.cands {
		target = max(target, c.hc.tipHeight())
	}
	st.s.syncTarget.Store(target)
	claimed := target
	for _, p := range st.peers {
		if _, ok := st.headerSyncs[p.ID]; ok {
			claimed = max(claimed, p.BestHeight)
		}
	}
	on := len(st.cands) > 0 || len(st.headerSyncs) > 0
	if on || st.syncing {
		st.s.prog.setSyncing(on, claimed)
		st.syncing = on
	}
}

// dropCandidate ends the download of a peer's header chain: its blocks
// that no other candidate needs are forgotten (requests in flight report
// later and are ignored).
func (st *syncState) dropCandidate(c *candidate, err error) {
	delete(st.cands, c.peer)
	if err == nil || errors.Is(err, errNotBetter) {
		st.recheck = true
	} else {
		st.abandoned[c.peer] = true
		now := st.s.now()
		st.s.peers.updateKnown(c.peer, func(p *peer) { p.retryAfter = now.Add(st.s.statusInterval) })
	}
	for h, sl := range st.slots {
		if sl.state == slotGot && !st.wanted(h, sl.height) {
			st.waitingBytes -= sl.size
			delete(st.slots, h)
		}
	}
	st.updateTarget()
}

// wanted reports whether any candidate contains the block.
func (st *syncState) wanted(h chain.Hash, height uint32) bool {
	for _, c := range st.cands {
		if x, ok := c.hashAt(height); ok && x == h {
			return true
		}
	}
	return false
}

// advance hands the blocks of every candidate that are next in its order
// and downloaded to the connector, and ends the candidates that are done
// (all their blocks connected) or no longer lead to more work than our
// tip.
func (st *syncState) advance() {
	s := st.s
	for _, c := range st.cands {
		for c.next < len(c.hc.hashes) {
			h := c.hc.hashes[c.next]
			if sl := st.slots[h]; sl != nil {
				if sl.state == slotInFlight {
					break
				}
				if sl.state == slotGot {
					st.handOn(c, h, sl)
				}
				c.next++
				continue
			}
			if !st.inIndex(h) {
				break
			}
			c.next++
		}
		switch {
		case c.next < len(c.hc.hashes):
			if !s.betterThanTip(c.hc.shown) {
				// Another chain got us further: no block of a chain
				// lighter than ours is fetched.
				st.dropCandidate(c, nil)
			}
		case c.hc.final && !st.pending(c):
			st.finish(c)
		}
	}
}

// pending reports whether blocks of c are still with the connector.
func (st *syncState) pending(c *candidate) bool {
	if st.handed == 0 {
		return false
	}
	last := c.hc.hashes[len(c.hc.hashes)-1]
	sl := st.slots[last]
	return sl != nil || !st.inIndex(last)
}

func (st *syncState) inIndex(h chain.Hash) bool {
	_, ok := st.s.chain.BlockInfo(h)
	return ok
}

// handOn gives a downloaded block to the connector.
func (st *syncState) handOn(c *candidate, h chain.Hash, sl *slot) {
	sl.state = slotHanded // its bytes count as waiting until it is connected
	st.handed++
	queued := len(c.hc.hashes) - c.next - 1
	if !c.hc.final {
		queued++ // more headers are coming
	}
	st.conn.push(connItem{block: sl.block, hash: h, from: sl.peer, queued: queued})
	sl.block = nil
	c.progress = st.s.now()
}

// finish ends a candidate whose blocks are all connected.
func (st *syncState) finish(c *candidate) {
	s := st.s
	delete(st.cands, c.peer)
	st.recheck = true
	tip := s.chain.Tip()
	if tip.Hash != c.tip.Hash {
		n := int64(tip.Height) - int64(c.tip.Height)
		s.log.Log(s.ctx, levelFor(n), "synced", "peer", c.peer.Short(), "height", tip.Height, "tip", tip.Hash,
			"reorg", !s.onMainChain(c.tip.Hash), "took", s.now().Sub(c.started).Round(time.Millisecond))
	}
	st.updateTarget()
}

// onConnected takes the connector's report on one block.
func (st *syncState) onConnected(d connDone) {
	st.handed--
	if sl := st.slots[d.hash]; sl != nil {
		st.waitingBytes -= sl.size
		delete(st.slots, d.hash)
	}
	if d.err == nil {
		return
	}
	// A chain through a block that failed is not downloaded further.
	for _, c := range st.cands {
		if x, ok := c.hashAt(d.height); ok && x == d.hash {
			st.dropCandidate(c, d.err)
		}
	}
	if !errors.Is(d.err, errParentFailed) && st.s.ctx.Err() == nil {
		st.s.log.Debug("sync: block not connected", "height", d.height, "hash", d.hash, "err", d.err)
	}
}

// eligible reports whether a peer may get another block request now.
func (st *syncState) eligible(id p2p.PeerID, now time.Time) bool {
	if st.dropped[id] || st.inflight[id] >= MaxInFlightPerPeer {
		return false
	}
	until, ok := st.cooling[id]
	return !ok || !now.Before(until)
}

// assign hands the blocks of the candidates' windows that nobody is
// fetching to the least busy eligible peers that have them, a batch per
// request: a peer's own header chain's blocks, or, for a peer whose
// headers are still coming, those of the heaviest chain up to the height
// it announced (a peer on another branch answers without them and is
// asked no more until its own headers arrive).
func (st *syncState) assign() {
	if len(st.cands) == 0 {
		return
	}
	var best *candidate
	for _, c := range st.cands {
		if best == nil || c.hc.shown.Cmp(best.hc.shown) > 0 {
			best = c
		}
	}
	now := st.s.now()
	// all keeps this call's tally of blocks fetched; st.peers is the peer
	// table's snapshot, shared with its other readers, so it is not written.
	all := slices.Clone(st.peers)
	peers := slices.Clone(all)
	for {
		var pick *peer
		for i := range peers {
			p := &peers[i]
			if !st.eligible(p.ID, now) || (st.cands[p.ID] == nil && !p.hasStatus) {
				continue
			}
			if pick == nil || st.inflight[p.ID] < st.inflight[pick.ID] ||
				(st.inflight[p.ID] == st.inflight[pick.ID] && p.BlocksFetched < pick.BlocksFetched) {
				pick = p
			}
		}
		if pick == nil {
			return
		}
		c, upTo := st.cands[pick.ID], uint32(math.MaxUint32)
		if c == nil {
			c, upTo = best, pick.BestHeight
		}
		hashes, heights := st.batchFor(c, upTo, st.inflight[pick.ID] > 0, all)
		if len(hashes) == 0 {
			peers = removePeer(peers, pick.ID) // nothing it can serve now
			continue
		}
		for k, h := range hashes {
			st.slots[h] = &slot{state: slotInFlight, height: heights[k], peer: pick.ID}
		}
		st.inflight[pick.ID]++
		pick.BlocksFetched += uint64(len(hashes)) // local tally, for the next pick
		for i := range all {
			if all[i].ID == pick.ID {
				all[i].BlocksFetched = pick.BlocksFetched
			}
		}
		st.request(pick.ID, hashes, heights)
	}
}

// batchFor returns up to MaxBlocksPerRequest blocks of c's window that
// nobody is fetching and we do not have. Over MaxWindowBytes waiting,
// only c's next block is asked for.
func (st *syncState) batchFor(c *candidate, upTo uint32, busy bool, peers []peer) ([]chain.Hash, []uint32) {
	var hashes []chain.Hash
	var heights []uint32
	// The window runs from the next block to hand to the connector; the
	// connector holds at most another BlockWindow, so the download keeps
	// pace with connecting and what waits in memory stays bounded.
	if st.handed >= BlockWindow {
		return nil, nil
	}
	end := min(len(c.hc.hashes), c.next+BlockWindow)
	from := max(c.next, c.scan)
	orphan := -1 // the first block seen in the chain's orphan pool
	defer func() {
		c.scan = from
		if orphan >= 0 {
			c.scan = orphan
		}
	}()
	// Share the window among the peers that announced the next block's
	// height, MaxInFlightPerPeer requests each.
	next, sharing := c.hc.baseHeight+1+uint32(c.next), 0
	for i := range peers {
		if peers[i].hasStatus && peers[i].BestHeight >= next && !st.dropped[peers[i].ID] {
			sharing++
		}
	}
	size := (end - c.next) / max(1, sharing*MaxInFlightPerPeer)
	size = min(max(size, minBatch), MaxBlocksPerRequest)
	for ; from < end && len(hashes) < size; from++ {
		if (from > c.next && st.waitingBytes > MaxWindowBytes) || c.hc.baseHeight+1+uint32(from) > upTo {
			break
		}
		// A block in the chain's orphan pool connects when its parent
		// does; if it leaves the pool otherwise (it expired, or its
		// branch was still the lighter one when its parent came), it is
		// asked for then: the scan comes back to it.
		h := c.hc.hashes[from]
		if st.slots[h] != nil {
			continue
		}
		if st.s.chain.HaveBlock(h) {
			if orphan < 0 && !st.inIndex(h) {
				orphan = from
			}
			continue
		}
		hashes = append(hashes, h)
		heights = append(heights, c.hc.baseHeight+1+uint32(from))
	}
	if busy && len(hashes) > 0 && len(hashes) < minBatch && end < len(c.hc.hashes) {
		// The window is nearly full: a peer with requests out waits for
		// room for a batch worth its round trip (the scan comes back).
		from = int(heights[0]-c.hc.baseHeight) - 1
		return nil, nil
	}
	return hashes, heights
}

// request asks one peer for blocks in a goroutine of the syncer.
func (st *syncState) request(id p2p.PeerID, hashes []chain.Hash, heights []uint32) {
	st.active++
	s := st.s
	s.log.Debug("blocks request", "peer", id.Short(), "n", len(hashes), "from", heights[0])
	if !s.spawn(func() { st.results <- s.fetchBlocks(s.ctx, id, hashes, heights) }) {
		st.onResult(dlResult{peer: id, hashes: hashes, heights: heights, err: ErrStopped})
	}
}

// onResult takes the answer to one request: the blocks it brought wait for
// their turn; a failure, a stall or a block not asked for puts the rest
// back to be asked of others and keeps the peer out (for StallCooldown
// after a stall, until its next header chain otherwise).
func (st *syncState) onResult(r dlResult) {
	s := st.s
	s.log.Debug("blocks answer", "peer", r.peer.Short(), "n", len(r.blocks), "err", r.err)
	st.active--
	st.inflight[r.peer]--
	release := func(h chain.Hash) {
		if sl := st.slots[h]; sl != nil && sl.state == slotInFlight && sl.peer == r.peer {
			delete(st.slots, h)
			for _, c := range st.cands {
				c.scan = 0 // to be asked of others
			}
		}
	}
	if r.err != nil {
		for _, h := range r.hashes {
			release(h)
		}
		if r.stall {
			s.net.Penalize(r.peer, PenaltyStall, "block request timed out")
			s.peers.updateKnown(r.peer, func(p *peer) { p.Stalls++ })
			st.cooling[r.peer] = s.now().Add(StallCooldown)
			s.log.Debug("peer stalled", "peer", r.peer.Short(), "blocks", len(r.hashes))
		} else {
			st.dropped[r.peer] = true
			if errors.Is(r.err, p2p.ErrRemote) {
				st.unserved(r)
			}
		}
		return
	}
	pos := make(map[chain.Hash]int, len(r.hashes))
	for k, h := range r.hashes {
		pos[h] = k
	}
	for k, b := range r.blocks {
		h := b.Hash()
		i, ok := pos[h]
		if !ok {
			s.net.Penalize(r.peer, PenaltyMalformed, "blocks response: a block that was not asked for")
			st.dropped[r.peer] = true
			break
		}
		delete(pos, h)
		sl := st.slots[h]
		if sl == nil || sl.state != slotInFlight || sl.peer != r.peer || b.Header.Height != r.heights[i] {
			continue // no longer wanted (its chain was dropped), or not the height asked
		}
		if !st.wanted(h, sl.height) {
			delete(st.slots, h)
			continue
		}
		sl.state, sl.block, sl.size = slotGot, b, r.sizes[k]
		st.waitingBytes += sl.size
	}
	for h := range pos {
		release(h)
	}
	switch {
	case st.dropped[r.peer]:
	case len(r.blocks) > 0:
		n := len(r.blocks)
		s.peers.updateKnown(r.peer, func(p *peer) { p.BlocksFetched += uint64(n) })
		now := s.now()
		for _, c := range st.cands {
			if h, ok := c.hashAt(r.heights[0]); ok && h == r.hashes[0] {
				c.progress = now
			}
		}
	default:
		// It has none of them (another branch, or pruned): ask others.
		st.dropped[r.peer] = true
		st.unserved(r)
	}
}

// unserved charges a peer that refused, or answered without, blocks of
// the header chain it sent us itself: headers whose blocks never come
// are a claim that did not materialise. (Blocks of another peer's chain
// asked of it while its own headers were coming cost nothing.)
func (st *syncState) unserved(r dlResult) {
	c := st.cands[r.peer]
	if c == nil || len(r.hashes) == 0 {
		return
	}
	if h, ok := c.hashAt(r.heights[0]); ok && h == r.hashes[0] {
		st.s.net.Penalize(r.peer, PenaltyUnserved, "did not serve the blocks of its own headers")
	}
}

// checkStalls abandons the candidates whose next block no peer can serve:
// nothing of theirs is in flight and every peer that has the block is
// dropped, or nothing arrived for staleSessionTimeouts request timeouts.
// It returns when the loop should look again (a cooling peer's return).
func (st *syncState) checkStalls() (wake time.Time) {
	now := st.s.now()
	live := make(map[p2p.PeerID]bool, len(st.peers))
	for _, p := range st.peers {
		live[p.ID] = true
	}
	for _, c := range st.cands {
		if c.next >= len(c.hc.hashes) {
			continue
		}
		if now.Sub(c.progress) > staleSessionTimeouts*st.s.requestTimeout {
			st.dropCandidate(c, fmt.Errorf("download stalled at height %d", c.hc.baseHeight+1+uint32(c.next)))
			continue
		}
		h := c.hc.hashes[c.next]
		if sl := st.slots[h]; sl != nil {
			continue // in flight or waiting
		}
		height := c.hc.baseHeight + 1 + uint32(c.next)
		hope := false
		for id, other := range st.cands {
			if x, ok := other.hashAt(height); !ok || x != h || !live[id] || st.dropped[id] {
				continue
			}
			if until, ok := st.cooling[id]; ok && now.Before(until) {
				if wake.IsZero() || until.Before(wake) {
					wake = until
				}
			}
			hope = true
		}
		if !hope {
			st.dropCandidate(c, fmt.Errorf("download stalled at height %d: no peer serves the block", height))
		}
	}
	if len(st.cands) > 0 {
		// Stale downloads are noticed even if nothing else happens.
		stale := now.Add(staleSessionTimeouts * st.s.requestTimeout)
		if wake.IsZero() || stale.Before(wake) {
			wake = stale
		}
	}
	return wake
}

func removePeer(ps []peer, id p2p.PeerID) []peer {
	for i := range ps {
		if ps[i].ID == id {
			return append(ps[:i], ps[i+1:]...)
		}
	}
	return ps
}

// fetchBlocks asks one peer for blocks and decodes them.
func (s *Syncer) fetchBlocks(ctx context.Context, id p2p.PeerID, hashes []chain.Hash, heights []uint32) dlResult {
	r := dlResult{peer: id, hashes: hashes, heights: heights}
	rctx, cancel := context.WithTimeout(ctx, s.requestTimeout)
	defer cancel()
	resp, err := s.net.Request(rctx, id, ProtoBlocks, encodeHashes(hashes))
	if err != nil {
		r.err = err
		r.stall = ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded)
		return r
	}
	r.blocks, r.err = decodeBlocks(resp, len(hashes))
	if r.err != nil {
		s.net.Penalize(id, PenaltyMalformed, "blocks response: "+r.err.Error())
		return r
	}
	r.sizes = blockSizes(resp, len(r.blocks))
	return r
}

// blockSizes returns the encoded size of each block of a well-formed
// blocks response.
func blockSizes(resp []byte, n int) []int {
	sizes := make([]int, n)
	p := blocksCountSize
	for i := range sizes {
		l := int(binary.BigEndian.Uint32(resp[p:]))
		sizes[i] = l
		p += blockLenSize + l
	}
	return sizes
}

// connect hands a downloaded block to the chain, with the number of
// blocks known to follow it. A rule violation penalises the peer that
// served it.
func (s *Syncer) connect(it connItem) error {
	_, err := s.chain.ProcessBlockQueued(it.block, blockchain.Requested, it.queued)
	code := consensus.CodeOf(err)
	switch {
	case err == nil:
		// Connected, stored, or already known (Result.Duplicate).
		return nil
	case code == 0:
		return fmt.Errorf("connect block %d: %w", it.block.Header.Height, err)
	case code.Penalty():
		return s.blame(it.from, PenaltyInvalid, fmt.Sprintf("served invalid block %d %s: %v", it.block.Header.Height, it.hash, err))
	default:
		return fmt.Errorf("block %d from %s: %w", it.block.Header.Height, it.from.Short(), err)
	}
}

// onMainChain reports whether h is on our main chain.
func (s *Syncer) onMainChain(h chain.Hash) bool {
	info, ok := s.chain.BlockInfo(h)
	return ok && info.MainChain
}

// levelFor picks the log level of a sync's summary: routine catch-ups of
// a few blocks are debug noise.
func levelFor(blocks int64) slog.Level {
	if blocks > RelayTipDepth || blocks < 0 {
		return slog.LevelInfo
	}
	return slog.LevelDebug
}
