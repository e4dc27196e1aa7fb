package miner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/store"
)

// Bounds and intervals of the search.
const (
	// MaxThreads bounds Config.Threads.
	MaxThreads = 1024
	// chunkNonces is how many nonces a thread hashes between checks that
	// its search is still wanted: a few milliseconds on one core.
	chunkNonces = 1 << 16
	// refreshInterval is how long one candidate is searched before it is
	// rebuilt with the current clock and pending transactions.
	refreshInterval = time.Second
	// maxTimeWait bounds one sleep while the timestamp the chain needs is
	// ahead of what the clock allows; the candidate is rebuilt after it.
	maxTimeWait = time.Second
	// rejectBackoff is the pause of continuous mining after the chain
	// refused one of its blocks, so a bug does not become a hot loop.
	rejectBackoff = time.Second
	// maxExtraNonceLen is the longest coinbase memo the miner writes: a
	// uint64 in decimal.
	maxExtraNonceLen = 20
)

// Errors of MineOne.
var (
	// ErrBadData is returned for a data note that no block can carry: not
	// UTF-8, longer than chain.MaxDataSize, or too long for the network's
	// block size.
	ErrBadData = errors.New("bad data note")
	// ErrRejected is returned when the chain refused the block just mined
	// (a bug in the template or the transaction source); it wraps the
	// chain's error.
	ErrRejected = errors.New("chain rejected the mined block")
)

// Chain is what the miner needs of the chain; *blockchain.Blockchain
// implements it.
type Chain interface {
	NextTemplate() blockchain.Template
	ProcessBlock(*chain.Block, blockchain.Flags) (blockchain.Result, error)
	Subscribe(func(blockchain.Notification))
	Params() *consensus.Params
}

// TxSource offers pending transactions for a block (the mempool): at most
// maxTxs of them, of at most maxBytes encoded bytes in all, best fee first,
// each valid on the current tip after the ones before it.
type TxSource interface {
	Template(maxTxs, maxBytes int) []*chain.Tx
}

// Config configures a Miner.
type Config struct {
	// Address receives the coinbase. The zero address burns the reward.
	Address chain.Address
	// Threads is the number of search goroutines: runtime.NumCPU() when
	// zero or negative, at most MaxThreads.
	Threads int
	// Now is the clock for block timestamps; time.Now when nil. The hash
	// rate is measured on the monotonic clock regardless.
	Now    func() time.Time
	Logger *slog.Logger
	// OnMined, when set, is told of every block this miner solved that
	// the chain accepted, and whether it became the tip (false: it lost
	// the race, a stale block). It runs on the mining goroutine: keep it
	// short. A devnet's observatory counts finds and stale blocks with it.
	OnMined func(b *chain.Block, tip bool)
	// HashRate holds the search to this many hashes per second (0: as
	// fast as the threads go); SetHashRate changes it. Negative, NaN or
	// above MaxHashRate counts as 0.
	HashRate float64
}

// Stats are the miner's counters since New.
type Stats struct {
	Running        bool    // continuous mining is on
	Threads        int     // search goroutines
	TargetHashRate float64 // paced hashes per second; 0: unpaced
	Hashes         uint64  // nonces tried, by MineOne and continuous mining
	BlocksFound    uint64  // own blocks that became the tip
	BlocksStale    uint64  // own blocks valid but beaten to the tip
	BlocksRejected uint64  // own blocks the chain refused (a bug)
	HashRate       float64 // hashes per second over the recent window
}

// Miner mines blocks on a Chain. It is safe for concurrent use.
type Miner struct {
	chain   Chain
	txs     TxSource
	params  *consensus.Params
	threads int
	now     func() time.Time
	log     *slog.Logger
	onMined func(*chain.Block, bool)

	addr chain.Address // the coinbase recipient, fixed by New

	tipGen atomic.Uint64 // bumped by every TipChanged notification
	urgent atomic.Int32  // MineOne calls waiting for or holding the search
	wake   chan struct{} // a token each time urgent drops to zero
	sem    chan struct{} // the search: held by MineOne or continuous mining

	// Owned by the holder of sem.
	extraNonce uint64
	prev       *job   // the last round, to resume an unchanged header
	nonceSpan  uint64 // nonces per thread; 0 splits the whole space (tests set it)

	refresh time.Duration // refreshInterval; tests set it

	hashes   atomic.Uint64
	found    atomic.Uint64
	stale    atomic.Uint64
	rejected atomic.Uint64
	meter    rateMeter
	pace     pacer

	runMu   sync.Mutex
	running atomic.Bool
	cancel  context.CancelFunc // continuous mining; nil when stopped
	done    chan struct{}      // closed when the continuous loop returned
}

// New returns a miner for c that takes transactions from txs (nil: none).
// It subscribes to c's notifications; it mines nothing until Start or
// MineOne.
func New(c Chain, txs TxSource, cfg Config) *Miner {
	m := &Miner{
		chain:   c,
		txs:     txs,
		params:  c.Params(),
		threads: cfg.Threads,
		now:     cfg.Now,
		log:     cfg.Logger,
		onMined: cfg.OnMined,
		addr:    cfg.Address,
		wake:    make(chan struct{}, 1),
		sem:     make(chan struct{}, 1),
		refresh: refreshInterval,
	}
	if m.threads <= 0 {
		m.threads = runtime.NumCPU()
	}
	m.threads = min(m.threads, MaxThreads)
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if checkHashRate(cfg.HashRate) == nil {
		m.pace.set(cfg.HashRate)
	}
	m.log = m.log.With("sys", "miner")
	c.Subscribe(func(n blockchain.Notification) {
		if n.Type == blockchain.TipChanged {
			m.tipGen.Add(1)
		}
	})
	return m
}

// Address returns the coinbase recipient.
func (m *Miner) Address() chain.Address { return m.addr }

// Start starts continuous mining in the background. It does nothing if
// mining already runs.
func (m *Miner) Start() {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	if m.cancel != nil {
		return
	}
	if m.Address() == (chain.Address{}) {
		m.log.Warn("mining to the zero address: block rewards are burnt")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	m.cancel, m.done = cancel, done
	m.running.Store(true)
	go func() {
		defer close(done)
		m.loop(ctx)
	}()
	m.log.Info("mining started", "threads", m.threads)
}

// Stop stops continuous mining and returns once its goroutines have ended
// (within one chunk of hashing, or after submitting a block just found).
// It does not affect a running MineOne.
func (m *Miner) Stop() {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	if m.cancel == nil {
		return
	}
	m.cancel()
	<-m.done
	m.cancel, m.done = nil, nil
	m.running.Store(false)
	m.log.Info("mining stopped")
}

// HashRate returns hashes per second over the recent window (rateWindow).
func (m *Miner) HashRate() float64 { return m.meter.rate(time.Now(), &m.hashes) }

// Stats returns the miner's counters.
func (m *Miner) Stats() Stats {
	return Stats{
		Running:        m.running.Load(),
		Threads:        m.threads,
		TargetHashRate: m.pace.get(),
		Hashes:         m.hashes.Load(),
		BlocksFound:    m.found.Load(),
		BlocksStale:    m.stale.Load(),
		BlocksRejected: m.rejected.Load(),
		HashRate:       m.HashRate(),
	}
}

// MineOne mines one block with the data note and the pending transactions
// and submits it to the chain. It returns the block once it is the tip's;
// if another block takes the tip first, it rebuilds on the new tip and
// tries again until ctx ends. Continuous mining, if running, pauses
// meanwhile. Errors: ErrBadData, ErrRejected, or ctx's error (wrapped).
func (m *Miner) MineOne(ctx context.Context, data string) (*chain.Block, error) {
	return m.MineTo(ctx, data, m.Address())
}

// MineTo is MineOne with the coinbase paid to a given address instead of
// the miner's (bitcoind's generatetoaddress).
func (m *Miner) MineTo(ctx context.Context, data string, to chain.Address) (*chain.Block, error) {
	note := []byte(data)
	if len(note) > chain.MaxDataSize {
		return nil, fmt.Errorf("%w: %d bytes exceed %d", ErrBadData, len(note), chain.MaxDataSize)
	}
	if !utf8.Valid(note) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrBadData)
	}
	if need := fixedSize(len(note)); need > m.params.MaxBlockSize {
		return nil, fmt.Errorf("%w: a block with a %d-byte note needs %d bytes, the network allows %d",
			ErrBadData, len(note), need, m.params.MaxBlockSize)
	}
	m.urgent.Add(1)
	defer func() {
		if m.urgent.Add(-1) == 0 {
			select {
			case m.wake <- struct{}{}:
			default: // a token is already waiting
			}
		}
	}()
	for {
		if err := m.acquire(ctx); err != nil {
			return nil, fmt.Errorf("mine block: %w", err)
		}
		r := m.attempt(ctx, note, to, false)
		m.release()
		switch {
		case r.err != nil:
			return nil, fmt.Errorf("mine block: %w", r.err)
		case r.accepted:
			return r.block, nil
		}
		if err := sleep(ctx, r.wait); err != nil {
			return nil, fmt.Errorf("mine block: %w", err)
		}
	}
}

// loop is continuous mining: attempts on the tip until ctx ends, yielding
// the search to MineOne calls.
func (m *Miner) loop(ctx context.Context) {
	for {
		if !m.acquireBackground(ctx) {
			return
		}
		r := m.attempt(ctx, nil, m.Address(), true)
		m.release()
		if r.err != nil {
			if !errors.Is(r.err, ErrRejected) && !errors.Is(r.err, store.ErrDiskFull) { // logged where it happens
				m.log.Error("build block template", "err", r.err)
			}
			r.wait = rejectBackoff
		}
		if sleep(ctx, r.wait) != nil {
			return
		}
	}
}

// acquire takes the search for MineOne.
func (m *Miner) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case m.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// acquireBackground takes the search for continuous mining once no MineOne
// call wants it. It reports false when ctx ended first.
func (m *Miner) acquireBackground(ctx context.Context) bool {
	for ctx.Err() == nil {
		for m.urgent.Load() > 0 {
			select {
			case <-m.wake:
			case <-ctx.Done():
				return false
			}
		}
		select {
		case m.sem <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		if m.urgent.Load() == 0 {
			return true
		}
		m.release() // a MineOne call arrived meanwhile
	}
	return false
}

func (m *Miner) release() { <-m.sem }

// sleep waits for d or until ctx ends, whichever is first, and returns
// ctx's error if it ended.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attemptResult is what one attempt came to.
type attemptResult struct {
	block    *chain.Block  // the block solved and submitted, if any
	accepted bool          // block became the tip's
	err      error         // the template could not be built, or the chain refused the block
	wait     time.Duration // pause before the next attempt
}

// attempt builds a candidate on the tip, searches it for one round, and
// submits it if solved. The caller holds the search.
func (m *Miner) attempt(ctx context.Context, data []byte, to chain.Address, background bool) attemptResult {
	gen := m.tipGen.Load() // before the template: a tip change after this read aborts the round
	c, wait, err := m.build(data, to)
	if err != nil {
		return attemptResult{err: err}
	}
	if wait > 0 {
		m.log.Debug("waiting for the clock to reach the chain's median time", "wait", wait)
		return attemptResult{wait: wait}
	}
	j := m.newJob(c, gen, background)
	switch m.round(ctx, j) {
	case solved:
		return m.submit(j)
	case exhausted:
		m.extraNonce++
		m.log.Debug("nonce space exhausted", "height", c.block.Header.Height, "extra_nonce", m.extraNonce)
	}
	return attemptResult{}
}

// submit hands a solved block to the chain like any received block.
func (m *Miner) submit(j *job) attemptResult {
	b := j.block
	b.Header.Nonce = j.nonce
	hash := b.Hash()
	res, err := m.chain.ProcessBlock(b, blockchain.Requested)
	switch {
	case errors.Is(err, store.ErrDiskFull):
		m.log.Warn("mined block not kept: the disk is full", "height", b.Header.Height, "hash", hash)
		return attemptResult{err: fmt.Errorf("block %d %s: %w", b.Header.Height, hash, err)}
	case err != nil:
		m.rejected.Add(1)
		m.log.Error("the chain rejected a block this node mined: this is a bug",
			"height", b.Header.Height, "hash", hash, "txs", len(b.Txs)-1, "err", err)
		return attemptResult{err: fmt.Errorf("%w: block %d %s: %w", ErrRejected, b.Header.Height, hash, err)}
	case !res.MainChain:
		m.stale.Add(1)
		m.log.Info("mined block lost the race for the tip", "height", b.Header.Height, "hash", hash)
		if m.onMined != nil {
			m.onMined(b, false)
		}
		return attemptResult{}
	}
	m.found.Add(1)
	if m.onMined != nil {
		m.onMined(b, true)
	}
	m.log.Info("mined block", "height", b.Header.Height, "hash", hash, "txs", len(b.Txs)-1)
	return attemptResult{block: b, accepted: true}
}
