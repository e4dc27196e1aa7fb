package netsync

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/p2p"
)

// Bounds of a sync session.
const (
	// MaxSessionHeaders bounds the headers one session holds (about 12 MB);
	// a longer chain is synced in several sessions.
	MaxSessionHeaders = 100_000
	// MaxPresyncHeaders bounds the headers one session checks (linkage and
	// proof of work) while looking for the work a peer announced; past
	// MaxSessionHeaders they are checked but not kept.
	MaxPresyncHeaders = 10 * MaxSessionHeaders
	// maxHeaderRounds bounds the headers requests of one session.
	maxHeaderRounds = MaxPresyncHeaders/blockchain.MaxHeadersPerRequest + 1
	// BlockWindow bounds how far past the next block to connect blocks
	// are requested: at most this many blocks are in flight or waiting.
	BlockWindow = 128
	// MaxWindowBytes bounds the bytes of downloaded blocks waiting to be
	// connected; beyond it only the next block to connect is requested.
	MaxWindowBytes = 64 << 20
	// MaxInFlightPerPeer bounds the block requests one peer serves at
	// once, so that the window is shared among the peers that have the
	// blocks.
	MaxInFlightPerPeer = 4
	// StallCooldown is how long a peer whose block request timed out gets
	// no further block requests in the session.
	StallCooldown = 30 * time.Second
	// MaxSyncNowSessions bounds the sessions of one SyncNow call.
	MaxSyncNowSessions = 8
	// assignTick is how often the download loop looks again for peers when
	// it is waiting for none of its requests.
	assignTick = 100 * time.Millisecond
	// staleSessionTimeouts: a download with no block arriving for this many
	// request timeouts is abandoned.
	staleSessionTimeouts = 3
)

// errNotBetter says a peer's headers lead to no more work than our tip.
var errNotBetter = errors.New("netsync: peer's chain has no more work than ours")

// syncLoop runs sync sessions, one at a time, whenever a peer is known to
// have a better chain, and fetches the mempool of peers once in step.
func (s *Syncer) syncLoop() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.kick:
		}
		for s.ctx.Err() == nil {
			id, ok := s.pickSyncPeer(false)
			if !ok {
				break
			}
			if !s.acquireSession(s.ctx) {
				return
			}
			err := s.runSession(s.ctx, id)
			<-s.sessionSem
			if err != nil && s.ctx.Err() == nil {
				s.log.Debug("sync session ended", "peer", id.Short(), "err", err)
			}
		}
		s.fetchMempools()
	}
}

func (s *Syncer) acquireSession(ctx context.Context) bool {
	select {
	case s.sessionSem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// pickSyncPeer returns the peer with the most announced work above our
// tip's; failing that, a peer that gossiped a block whose parent we lack.
// Unless force is set, peers in back-off and peers whose announced chain
// a session found no better than ours are passed over.
func (s *Syncer) pickSyncPeer(force bool) (p2p.PeerID, bool) {
	ours := s.chain.Tip().Work
	now := s.now()
	var best *peer
	var orphanPeer *peer
	ps := s.peers.snapshot()
	for i := range ps {
		p := &ps[i]
		if !force && now.Before(p.retryAfter) {
			continue
		}
		if p.hasStatus && p.TotalWork.Cmp(ours) > 0 && (force || p.useless != p.BestHash) {
			if best == nil || p.TotalWork.Cmp(best.TotalWork) > 0 {
				best = p
			}
			continue
		}
		if !force && p.orphanFrom && (orphanPeer == nil || p.BestHeight > orphanPeer.BestHeight) {
			orphanPeer = p
		}
	}
	switch {
	case best != nil:
		return best.ID, true
	case orphanPeer != nil:
		return orphanPeer.ID, true
	}
	return "", false
}

// SyncNow exchanges status with every peer now and syncs from the one with
// the most work until no peer has more (at most MaxSyncNowSessions
// sessions). It reports whether the tip changed: the chain was extended or
// replaced by a heavier branch. It waits for a session already running.
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
	if !s.acquireSession(ctx) {
		return false, ctx.Err()
	}
	defer func() { <-s.sessionSem }()
	for i := 0; i < MaxSyncNowSessions; i++ {
		id, ok := s.pickSyncPeer(true)
		if !ok {
			break
		}
		tip := s.chain.Tip().Hash
		if err = s.runSession(ctx, id); err != nil && !errors.Is(err, errNotBetter) {
			break
		}
		err = nil
		if s.chain.Tip().Hash == tip {
			break
		}
	}
	return s.chain.Tip().Hash != before, err
}

// runSession syncs from one peer: headers first, checked for linkage and
// proof of work, then the blocks from every peer that has them. The caller
// holds sessionSem.
func (s *Syncer) runSession(ctx context.Context, id p2p.PeerID) error {
	p, ok := s.peers.get(id)
	if !ok {
		return fmt.Errorf("peer %s is gone", id.Short())
	}
	startTip := s.chain.Tip()
	claimed := max(p.BestHeight, startTip.Height)
	s.prog.setSyncing(true, claimed) // shown as progress; relay goes by verified headers only
	defer func() {
		s.syncTarget.Store(0)
		s.prog.setSyncing(false, 0)
	}()
	start := s.now()

	hc, err := s.fetchHeaders(ctx, id, claimed, p.TotalWork)
	if err == nil {
		err = s.checkClaim(id, hc, p.TotalWork)
	}
	if err == nil {
		err = s.checkBetter(hc, startTip.Work)
	}
	if err == nil {
		err = s.checkMinimumWork(hc)
	}
	if err == nil && len(hc.headers) > 0 {
		last := hc.headers[len(hc.headers)-1]
		s.peers.noteBlock(id, hc.hashes[len(hc.hashes)-1], last.Height)
		s.syncTarget.Store(last.Height) // headers that showed more work than ours
		s.prog.setSyncing(true, max(claimed, last.Height))
		err = s.downloadBlocks(ctx, hc)
	}

	tip := s.chain.Tip()
	moved := tip.Hash != startTip.Hash
	now := s.now()
	s.peers.updateKnown(id, func(p *peer) {
		p.orphanFrom = false
		switch {
		case errors.Is(err, errNotBetter):
			p.useless = p.BestHash
		case err != nil || !moved:
			p.retryAfter = now.Add(s.statusInterval)
		}
	})
	if moved {
		n := int64(tip.Height) - int64(startTip.Height)
		lvl := levelFor(n)
		s.log.Log(s.ctx, lvl, "synced", "peer", id.Short(), "height", tip.Height, "tip", tip.Hash,
			"reorg", !s.onMainChain(startTip.Hash), "took", s.now().Sub(start).Round(time.Millisecond), "err", err)
	}
	return err
}

func (s *Syncer) onMainChain(h chain.Hash) bool {
	info, ok := s.chain.BlockInfo(h)
	return ok && info.MainChain
}

// headerChain is the linked, proof-of-work-checked headers of a session,
// starting right after a block we know: at most MaxSessionHeaders kept,
// and the work shown by all the headers checked.
type headerChain struct {
	headers []chain.Header
	hashes  []chain.Hash
	work    *big.Int // cumulative work at the last header kept
	shown   *big.Int // cumulative work at the last header checked
	final   bool     // the peer had no more headers
}

// fetchHeaders asks the peer for headers after our locator until it has
// no more. Every header must link to the previous one (hash and height)
// and carry valid proof of work; the first must build on a block we know.
// A peer that breaks this, or sends more headers than it announced, is
// penalised and the session ends.
//
// Past MaxSessionHeaders the headers are checked but not kept (presync),
// until the peer has no more, or they have shown the work it announced
// (claimedWork), or MaxPresyncHeaders: so a peer announcing a heavy chain
// must show its work in headers before any of its blocks is fetched, and
// a chain that never gets there costs no memory.
func (s *Syncer) fetchHeaders(ctx context.Context, id p2p.PeerID, claimed uint32, claimedWork *big.Int) (*headerChain, error) {
	hc := &headerChain{}
	locator := s.chain.Locator()
	var prev chain.Hash
	var prevHeight uint32
	for round := 0; round < maxHeaderRounds; round++ {
		resp, err := s.request(ctx, id, ProtoHeaders, encodeHeadersRequest(headersRequest{Locator: locator}))
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				// Headers that stall cost, as blocks that stall do.
				s.net.Penalize(id, PenaltyStall, "headers request timed out")
			}
			return hc, fmt.Errorf("headers from %s: %w", id.Short(), err)
		}
		hs, err := decodeHeaders(resp)
		if err != nil {
			s.net.Penalize(id, PenaltyMalformed, "headers response: "+err.Error())
			return hc, fmt.Errorf("headers from %s: %w", id.Short(), err)
		}
		if len(hs) == 0 {
			hc.final = true
			return hc, nil
		}
		if hc.work == nil {
			info, ok := s.chain.BlockInfo(hs[0].PrevHash)
			if !ok {
				return hc, s.blame(id, PenaltyInvalid, "headers do not connect to our locator")
			}
			if info.Invalid {
				return hc, s.blame(id, PenaltyInvalid, "headers build on an invalid block")
			}
			prev, prevHeight, hc.work = hs[0].PrevHash, info.Header.Height, info.Work
			hc.shown = new(big.Int).Set(info.Work)
		} else if hs[0].PrevHash != prev {
			// The peer's best chain changed under us: keep what links.
			return hc, nil
		}
		for i := range hs {
			h := &hs[i]
			if h.PrevHash != prev || h.Height != prevHeight+1 {
				return hc, s.blame(id, PenaltyInvalid, fmt.Sprintf("header %d does not link to the one before", h.Height))
			}
			if err := consensus.CheckProofOfWork(h, s.params.PowLimit); err != nil {
				return hc, s.blame(id, PenaltyInvalid, "header: "+err.Error())
			}
			hash := h.Hash()
			if info, ok := s.chain.BlockInfo(hash); ok && info.Invalid {
				return hc, s.blame(id, PenaltyInvalid, "header of a block known to be invalid")
			}
			w := consensus.WorkFromBits(h.Bits)
			hc.shown.Add(hc.shown, w)
			if len(hc.headers) < MaxSessionHeaders {
				hc.work.Add(hc.work, w)
				hc.headers = append(hc.headers, *h)
				hc.hashes = append(hc.hashes, hash)
			}
			prev, prevHeight = hash, h.Height
		}
		if prevHeight > claimed {
			// More than the peer announced: it may have grown since; ask.
			if st, err := s.exchangeStatus(ctx, id); err == nil {
				claimed = max(claimed, st.Height)
			}
			if prevHeight > claimed {
				return hc, s.blame(id, PenaltyInvalid, fmt.Sprintf("headers past height %d, which it announced", claimed))
			}
		}
		if len(hs) < blockchain.MaxHeadersPerRequest {
			hc.final = true
			return hc, nil
		}
		if len(hc.headers) >= MaxSessionHeaders && (claimedWork == nil || hc.shown.Cmp(claimedWork) >= 0) {
			return hc, nil // enough kept, and the announced work is shown
		}
		locator = append([]chain.Hash{prev}, s.chain.Locator()...)
		locator = locator[:min(len(locator), blockchain.MaxLocatorHashes)]
	}
	return hc, nil
}

// blame penalises a peer and returns the reason as an error.
func (s *Syncer) blame(id p2p.PeerID, points int, reason string) error {
	s.net.Penalize(id, points, reason)
	s.log.Info("peer misbehaved", "peer", id.Short(), "reason", reason, "points", points)
	return fmt.Errorf("peer %s: %s", id.Short(), reason)
}

// checkBetter refuses a header chain that does not lead to more work than
// ours, complete or not: its blocks are downloaded only once its headers
// have shown more work (a presync, as Bitcoin Core's since v24), so a
// long chain of cheap headers cannot make a node fetch and connect
// blocks that leave it on a lighter chain.
func (s *Syncer) checkBetter(hc *headerChain, ours *big.Int) error {
	if len(hc.headers) == 0 || hc.shown.Cmp(ours) <= 0 {
		return errNotBetter
	}
	return nil
}

// checkClaim penalises a peer whose complete header chain shows less work
// than it announced: the claim that made us sync from it never
// materialised, and it is not downloaded. (A peer whose chain changed
// since its status announces the new one at the next status round, so an
// honest peer meets this rarely and a small penalty is enough to end
// lying peers without punishing honest ones.)
func (s *Syncer) checkClaim(id p2p.PeerID, hc *headerChain, claimed *big.Int) error {
	if claimed == nil || hc.shown == nil || hc.shown.Cmp(claimed) >= 0 {
		return nil
	}
	if !hc.final && len(hc.headers) < MaxSessionHeaders {
		return nil // its best chain changed under us: judged at the next session
	}
	s.blame(id, PenaltyClaim, fmt.Sprintf("announced work %s but %d headers show %s", claimed, len(hc.headers), hc.shown))
	return errNotBetter
}

// dlResult is the outcome of one blocks request.
type dlResult struct {
	peer   p2p.PeerID
	idx    []int
	blocks []*chain.Block
	sizes  []int
	err    error
	stall  bool // the request timed out
}

// received is a downloaded block waiting for its turn to connect.
type received struct {
	block *chain.Block
	from  p2p.PeerID
	size  int
}

// downloadBlocks fetches the blocks of hc we do not have, from every peer
// whose best height covers them, at most BlockWindow ahead of the next
// block to connect, and connects them in order.
//
// Blocks waiting in the chain's orphan pool are not fetched: they connect
// when their parent does. If one is still missing afterwards (it expired
// from the pool), a second pass fetches it.
func (s *Syncer) downloadBlocks(ctx context.Context, hc *headerChain) error {
	for pass := 0; pass < downloadPasses; pass++ {
		var need []int // indexes into hc of blocks to fetch
		for i, h := range hc.hashes {
			if _, ok := s.chain.BlockInfo(h); !ok && (pass > 0 || !s.chain.HaveBlock(h)) {
				need = append(need, i)
			}
		}
		if len(need) == 0 {
			return nil
		}
		d := s.newDownload(ctx, hc, need)
		err := d.run()
		d.close()
		if err != nil {
			return err
		}
	}
	return nil
}

// downloadPasses: the first pass skips blocks in the orphan pool, the
// second fetches any that expired from it.
const downloadPasses = 2

// slot is the state of one block of a download.
type slot uint8

const (
	slotTodo     slot = iota // to be requested
	slotInFlight             // asked of a peer
	slotGot                  // received, waiting for its turn to connect
)

// download is one pass of a session's block download: the blocks
// hc.hashes[need[...]], requested from several peers at once and connected
// in order. It is owned by the session's goroutine; only the requests run
// elsewhere, and they report on results.
type download struct {
	s    *Syncer
	ctx  context.Context
	stop context.CancelFunc // cancels the requests still in flight
	hc   *headerChain
	need []int

	state        []slot
	waiting      map[int]received // downloaded, by index into need
	waitingBytes int
	next         int // index into need of the next block to connect

	inflight map[p2p.PeerID]int       // requests per peer
	cooling  map[p2p.PeerID]time.Time // stalled peers: no requests until then
	dropped  map[p2p.PeerID]bool      // no more requests in this download
	results  chan dlResult
	active   int // requests not yet reported

	lastProgress time.Time
}

func (s *Syncer) newDownload(ctx context.Context, hc *headerChain, need []int) *download {
	ctx, cancel := context.WithCancel(ctx)
	return &download{
		s: s, ctx: ctx, stop: cancel, hc: hc, need: need,
		state:        make([]slot, len(need)),
		waiting:      make(map[int]received),
		inflight:     make(map[p2p.PeerID]int),
		cooling:      make(map[p2p.PeerID]time.Time),
		dropped:      make(map[p2p.PeerID]bool),
		results:      make(chan dlResult, BlockWindow),
		lastProgress: s.now(),
	}
}

// close cancels the requests still in flight and waits for them, so none
// outlives the download.
// Blocks connected in a group the chain has not synced yet are synced.
func (d *download) close() {
	d.stop()
	for ; d.active > 0; d.active-- {
		<-d.results
	}
	if err := d.s.chain.Flush(); err != nil {
		d.s.log.Error("sync of downloaded blocks failed", "err", err)
	}
}

// run assigns requests, takes their results and connects what is ready
// until every block is connected, the context ends, or no peer serves the
// next block.
func (d *download) run() error {
	tick := time.NewTicker(assignTick)
	defer tick.Stop()
	for d.next < len(d.need) {
		if err := d.ctx.Err(); err != nil {
			return err
		}
		d.assign()
		if d.active == 0 && d.stalled() {
			return fmt.Errorf("download stalled at height %d: no peer serves the block", d.hc.headers[d.need[d.next]].Height)
		}
		select {
		case <-d.ctx.Done():
			return d.ctx.Err()
		case <-tick.C:
			// Blocks connected in a group wait at most a tick for
			// their sync, however slowly the next ones come.
			if err := d.s.chain.Flush(); err != nil {
				return fmt.Errorf("sync downloaded blocks: %w", err)
			}
			continue
		case r := <-d.results:
			d.onResult(r)
		}
		if err := d.connectReady(); err != nil {
			return err
		}
	}
	return nil
}

// stalled reports, when no request is out, whether waiting is pointless:
// no peer is merely cooling down after a stall, or nothing has arrived
// for staleSessionTimeouts request timeouts.
func (d *download) stalled() bool {
	now := d.s.now()
	if now.Sub(d.lastProgress) > staleSessionTimeouts*d.s.requestTimeout {
		return true
	}
	for id, until := range d.cooling {
		if now.Before(until) && !d.dropped[id] {
			return false
		}
	}
	return true
}

// eligible reports whether a peer may get another request now.
func (d *download) eligible(id p2p.PeerID, now time.Time) bool {
	if d.dropped[id] || d.inflight[id] >= MaxInFlightPerPeer {
		return false
	}
	until, ok := d.cooling[id]
	return !ok || !now.Before(until)
}

// assign hands the blocks of the window that nobody is fetching to the
// least busy eligible peers that have them, a batch per request.
func (d *download) assign() {
	now := d.s.now()
	end := min(len(d.need), d.next+BlockWindow)
	peers := d.s.peers.snapshot()
	for {
		// The least busy eligible peer goes first, so the window is shared.
		var pick *peer
		for i := range peers {
			p := &peers[i]
			if !d.eligible(p.ID, now) {
				continue
			}
			if pick == nil || d.inflight[p.ID] < d.inflight[pick.ID] ||
				(d.inflight[p.ID] == d.inflight[pick.ID] && p.BlocksFetched < pick.BlocksFetched) {
				pick = p
			}
		}
		if pick == nil {
			return
		}
		idx := d.batchFor(pick.BestHeight, end)
		if len(idx) == 0 {
			// Nothing this peer can serve now; try the others.
			peers = removePeer(peers, pick.ID)
			continue
		}
		for _, i := range idx {
			d.state[i] = slotInFlight
		}
		d.inflight[pick.ID]++
		pick.BlocksFetched += uint64(len(idx)) // local tally, for the next pick
		d.request(pick.ID, idx)
	}
}

// batchFor returns up to MaxBlocksPerRequest blocks of the window below
// end that are to be requested and that a peer at bestHeight has. Over
// MaxWindowBytes waiting, only the next block to connect is requested.
func (d *download) batchFor(bestHeight uint32, end int) []int {
	var idx []int
	for i := d.next; i < end && len(idx) < MaxBlocksPerRequest; i++ {
		if d.state[i] != slotTodo || d.hc.headers[d.need[i]].Height > bestHeight {
			continue
		}
		if d.waitingBytes > MaxWindowBytes && i != d.next {
			break
		}
		idx = append(idx, i)
	}
	return idx
}

// request asks one peer for the blocks idx in a goroutine of the syncer.
func (d *download) request(id p2p.PeerID, idx []int) {
	d.active++
	hashes := make([]chain.Hash, len(idx))
	for k, i := range idx {
		hashes[k] = d.hc.hashes[d.need[i]]
	}
	ctx := d.ctx
	if !d.s.spawn(func() { d.results <- d.s.fetchBlocks(ctx, id, idx, hashes) }) {
		d.results <- dlResult{peer: id, idx: idx, err: ErrStopped}
	}
}

// onResult takes the answer to one request: the blocks it brought wait for
// their turn; a failure, a stall or a block not asked for puts the rest
// back to be asked of others and keeps the peer out (for StallCooldown
// after a stall, for the rest of the download otherwise).
func (d *download) onResult(r dlResult) {
	d.active--
	d.inflight[r.peer]--
	if r.err != nil {
		for _, i := range r.idx {
			d.state[i] = slotTodo
		}
		if r.stall {
			d.s.net.Penalize(r.peer, PenaltyStall, "block request timed out")
			d.s.peers.updateKnown(r.peer, func(p *peer) { p.Stalls++ })
			d.cooling[r.peer] = d.s.now().Add(StallCooldown)
			d.s.log.Debug("peer stalled", "peer", r.peer.Short(), "blocks", len(r.idx))
		} else {
			d.dropped[r.peer] = true
		}
		return
	}
	pos := make(map[chain.Hash]int, len(r.idx))
	for _, i := range r.idx {
		pos[d.hc.hashes[d.need[i]]] = i
	}
	for k, b := range r.blocks {
		h := b.Hash()
		i, ok := pos[h]
		if !ok {
			d.s.net.Penalize(r.peer, PenaltyMalformed, "blocks response: a block that was not asked for")
			d.dropped[r.peer] = true
			break
		}
		delete(pos, h)
		d.state[i] = slotGot
		d.waiting[i] = received{block: b, from: r.peer, size: r.sizes[k]}
		d.waitingBytes += r.sizes[k]
	}
	for _, i := range pos {
		d.state[i] = slotTodo
	}
	switch {
	case d.dropped[r.peer]:
	case len(r.blocks) > 0:
		n := len(r.blocks)
		d.s.peers.updateKnown(r.peer, func(p *peer) { p.BlocksFetched += uint64(n) })
		d.lastProgress = d.s.now()
	default:
		// It has none of them (another branch, or pruned): ask others.
		d.dropped[r.peer] = true
	}
}

// connectReady connects the downloaded blocks that are next in order,
// telling the chain how many more of the download follow each, so it can
// group the commits of a catch-up: the download syncs an open group on
// every tick and when it ends (close).
func (d *download) connectReady() error {
	for d.next < len(d.need) && d.state[d.next] == slotGot {
		w := d.waiting[d.next]
		delete(d.waiting, d.next)
		d.waitingBytes -= w.size
		if err := d.s.connect(w, len(d.need)-d.next-1); err != nil {
			return err
		}
		d.next++
	}
	return nil
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
func (s *Syncer) fetchBlocks(ctx context.Context, id p2p.PeerID, idx []int, hashes []chain.Hash) dlResult {
	r := dlResult{peer: id, idx: idx}
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
// downloaded blocks queued behind it. A rule violation penalises the peer
// that served it and ends the session.
func (s *Syncer) connect(w received, queued int) error {
	_, err := s.chain.ProcessBlockQueued(w.block, blockchain.Requested, queued)
	code := consensus.CodeOf(err)
	switch {
	case err == nil:
		// Connected, stored, or already known (Result.Duplicate): the
		// session goes on either way.
		return nil
	case code == 0:
		return fmt.Errorf("connect block %d: %w", w.block.Header.Height, err)
	case code.Penalty():
		return s.blame(w.from, PenaltyInvalid, fmt.Sprintf("served invalid block %d %s: %v", w.block.Header.Height, w.block.Hash(), err))
	default:
		return fmt.Errorf("block %d from %s: %w", w.block.Header.Height, w.from.Short(), err)
	}
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

// levelFor picks the log level of a session's summary: routine catch-ups
// of a few blocks are debug noise.
func levelFor(blocks int64) slog.Level {
	if blocks > RelayTipDepth || blocks < 0 {
		return slog.LevelInfo
	}
	return slog.LevelDebug
}
