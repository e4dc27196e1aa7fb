package netsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/p2p"
)

// Defaults and bounds of the syncer.
const (
	// DefaultStatusInterval is how often status is exchanged with every peer.
	DefaultStatusInterval = 5 * time.Second
	// DefaultRequestTimeout is the deadline of one request to a peer.
	DefaultRequestTimeout = 10 * time.Second
	// ProgressLogInterval is how often progress is logged while syncing.
	ProgressLogInterval = 3 * time.Second
	// PublishQueue bounds the blocks and transactions waiting to be
	// published; more are dropped (peers learn them by status and sync).
	PublishQueue = 4096
	// MaxConcurrentStatus bounds status exchanges running at once.
	MaxConcurrentStatus = 16
	// RecentSize bounds the sets of recently relayed block and tx hashes.
	RecentSize = 8192
	// RelayTipDepth: while a sync session connects blocks more than this
	// many below its verified headers, and older (by timestamp) than this
	// many target spacings, they are history and not published, so
	// initial sync does not flood the network with old blocks.
	RelayTipDepth = 8
	// MinRelayAge is the least age (by timestamp) at which a connected
	// block counts as history and is not relayed.
	MinRelayAge = 10 * time.Minute
)

// UnfundedPerPoint is how many unfunded gossiped transactions cost a
// peer PenaltyUnfunded.
const UnfundedPerPoint = 10

// Penalties charged by the syncer, in the points of p2p.Network.Penalize.
const (
	// PenaltyInvalid is charged for data that breaks a consensus rule or
	// proves misbehaviour (bad proof of work, headers beyond what the peer
	// announced): the same as a rejected gossip message.
	PenaltyInvalid = p2p.PenaltyInvalidMessage
	// PenaltyMalformed is charged for a message that does not decode, or
	// data that was not asked for.
	PenaltyMalformed = p2p.PenaltyProtocol
	// PenaltyStall is charged for a block request that timed out.
	PenaltyStall = 2
	// PenaltyUnserved is charged to a peer that refuses, or answers
	// without, the blocks of the header chain it sent.
	PenaltyUnserved = 2
	// PenaltyUnfunded is charged for every UnfundedPerPoint gossiped
	// transactions whose sender cannot pay them at our tip
	// (mempool.ErrUnfunded). An honest peer on another branch after a
	// reorg relays some such transactions, so the charge is small: with
	// points halving every p2p.PenaltyHalfLife, a peer is banned after
	// about p2p.BanThreshold*UnfundedPerPoint (1,000) of them in a burst,
	// or a steady 1.2 per second, while a few hundred from a reorg race
	// fade away.
	PenaltyUnfunded = 1
	// PenaltyClaim is the cost of announcing more work than one's headers
	// show.
	PenaltyClaim = p2p.PenaltyInvalidMessage
	// PenaltyWrongGenesis bans a peer of another chain at once.
	PenaltyWrongGenesis = p2p.BanThreshold
)

// Config configures a Syncer.
type Config struct {
	Chain *blockchain.Blockchain
	// Pool receives gossiped and synced transactions; nil disables
	// transaction relay.
	Pool *mempool.Pool
	Net  p2p.Network
	// Logger receives the syncer's logs (discarded when nil).
	Logger *slog.Logger
	// StatusInterval is how often status is exchanged with every peer
	// (DefaultStatusInterval when zero).
	StatusInterval time.Duration
	// RequestTimeout bounds each request to a peer (DefaultRequestTimeout
	// when zero). A block request that exceeds it counts as a stall.
	RequestTimeout time.Duration
	// Now is the clock for peer status times and progress (time.Now when nil).
	Now func() time.Time
	// PublishQueue bounds the blocks and transactions waiting to be
	// published (PublishQueue when zero; its buffer is allocated at once,
	// so a process of a thousand nodes gives each a smaller one).
	PublishQueue int
}

// Errors of the Syncer.
var (
	// ErrStopped is returned by SyncNow after Stop, or before Start.
	ErrStopped = errors.New("netsync: syncer not running")
	// ErrNoPeers is returned by SyncNow when no peer answered a status request.
	ErrNoPeers = errors.New("netsync: no peer answered")
)

// Syncer keeps the chain and the mempool in step with the network: it
// serves and asks for status, headers, blocks and pending transactions,
// validates and relays gossip, and runs headers-first sync sessions. It is
// safe for concurrent use.
type Syncer struct {
	chain  *blockchain.Blockchain
	pool   *mempool.Pool
	net    p2p.Network
	params *consensus.Params
	log    *slog.Logger
	now    func() time.Time

	statusInterval time.Duration
	requestTimeout time.Duration

	peers *peerTable
	prog  progress

	// Blocks this node published, so none is published twice.
	published *hashSet
	// Transactions of blocks the current reorg disconnected (reannounce.go).
	returned returnedTxs

	pubq chan pubItem

	kick       chan struct{}      // ask the sync loop to look for better peers
	syncNow    chan chan struct{} // SyncNow's rounds: closed when the loop is idle
	statusSem  chan struct{}      // bounds concurrent status exchanges
	syncTarget atomic.Uint32      // height of the running session's verified headers (0: none)
	running    atomic.Bool        // between Start and Stop
	stopped    atomic.Bool        // after Stop
	ctx        context.Context    // cancelled by Stop
	cancel     context.CancelFunc

	mu       sync.Mutex // guards wg.Add against Stop
	stopping bool
	wg       sync.WaitGroup
}

type pubItem struct {
	topic string
	data  []byte
}

// New builds a syncer and registers its protocols and gossip topics on
// cfg.Net, so it must be called before cfg.Net.Start. It subscribes to the
// chain's and the pool's notifications to publish new blocks and
// transactions; nothing runs until Start.
func New(cfg Config) (*Syncer, error) {
	if cfg.Chain == nil || cfg.Net == nil {
		return nil, errors.New("netsync: Chain and Net are required")
	}
	if cfg.StatusInterval <= 0 {
		cfg.StatusInterval = DefaultStatusInterval
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PublishQueue <= 0 {
		cfg.PublishQueue = PublishQueue
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Syncer{
		chain:          cfg.Chain,
		pool:           cfg.Pool,
		net:            cfg.Net,
		params:         cfg.Chain.Params(),
		log:            cfg.Logger.With("sys", "netsync"),
		now:            cfg.Now,
		statusInterval: cfg.StatusInterval,
		requestTimeout: cfg.RequestTimeout,
		peers:          newPeerTable(),
		published:      newHashSet(RecentSize),
		pubq:           make(chan pubItem, cfg.PublishQueue),
		kick:           make(chan struct{}, 1),
		syncNow:        make(chan chan struct{}),
		statusSem:      make(chan struct{}, MaxConcurrentStatus),
		ctx:            ctx,
		cancel:         cancel,
	}
	s.prog.now = cfg.Now
	regs := []struct {
		name          string
		maxReq, maxRe int
		h             p2p.RequestHandler
	}{
		{ProtoStatus, MaxStatusSize, MaxStatusSize, s.serveStatus},
		{ProtoHeaders, MaxHeadersRequestSize, MaxHeadersResponseSize, s.serveHeaders},
		{ProtoBlocks, MaxBlocksRequestSize, MaxBlocksResponseSize, s.serveBlocks},
		{ProtoMempool, MaxMempoolRequestSize, MaxMempoolResponseSize, s.serveMempool},
	}
	for _, r := range regs {
		if err := cfg.Net.HandleRequest(r.name, r.maxReq, r.maxRe, r.h); err != nil {
			return nil, fmt.Errorf("netsync: register %s: %w", r.name, err)
		}
	}
	if err := cfg.Net.HandleGossip(TopicBlocks, s.onGossipBlock); err != nil {
		return nil, fmt.Errorf("netsync: register topic %s: %w", TopicBlocks, err)
	}
	if err := cfg.Net.HandleGossip(TopicTxs, s.onGossipTx); err != nil {
		return nil, fmt.Errorf("netsync: register topic %s: %w", TopicTxs, err)
	}
	if err := cfg.Net.HandleGossip(TopicReannounce, s.onGossipReannounce); err != nil {
		return nil, fmt.Errorf("netsync: register topic %s: %w", TopicReannounce, err)
	}
	s.chain.Subscribe(s.onChainEvent)
	if s.pool != nil {
		s.pool.Subscribe(s.onTxAdmitted)
	}
	return s, nil
}

// Start runs the syncer's goroutines: peer events, periodic status, the
// sync loop, publishing and progress logs. The network should be started.
// ctx is not retained; Stop ends everything.
func (s *Syncer) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.stopped.Load() {
		return ErrStopped
	}
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("netsync: already started")
	}
	events, unsubscribe := s.net.Subscribe()
	s.spawn(func() {
		defer unsubscribe()
		s.eventLoop(events)
	})
	s.spawn(s.statusLoop)
	s.spawn(s.syncLoop)
	s.spawn(s.publishLoop)
	s.spawn(s.progressLoop)
	return nil
}

// Stop cancels every running exchange and session and waits for the
// syncer's goroutines. It does not close the network or the chain. Safe to
// call more than once.
func (s *Syncer) Stop() {
	s.stopped.Store(true)
	s.running.Store(false)
	s.cancel()
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.wg.Wait()
}

// spawn runs f in a goroutine that Stop waits for; after Stop it runs
// nothing and returns false.
func (s *Syncer) spawn(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// Peers returns what the syncer knows of each connected peer, sorted by id.
func (s *Syncer) Peers() []PeerState {
	ps := s.peers.snapshot()
	out := make([]PeerState, len(ps))
	for i, p := range ps {
		out[i] = p.PeerState
	}
	return out
}

// status returns this node's status.
func (s *Syncer) status() Status {
	t := s.chain.Tip()
	return Status{Genesis: s.params.GenesisHash(), Best: t.Hash, Height: t.Height, Work: t.Work}
}

// wake asks the sync loop to look for a peer to sync from.
func (s *Syncer) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// eventLoop follows peer connects and disconnects.
func (s *Syncer) eventLoop(events <-chan p2p.PeerEvent) {
	// Peers connected before Start sent no event we saw.
	for _, pi := range s.net.Peers() {
		s.onConnect(pi.ID)
	}
	for {
		select {
		case <-s.ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Connected {
				s.onConnect(ev.Peer)
			} else {
				s.peers.remove(ev.Peer)
			}
		}
	}
}

func (s *Syncer) onConnect(id p2p.PeerID) {
	s.peers.add(id)
	s.spawn(func() {
		if _, err := s.exchangeStatus(s.ctx, id); err != nil {
			s.log.Debug("status exchange on connect failed", "peer", id.Short(), "err", err)
		}
	})
}

// statusLoop exchanges status with every peer each StatusInterval, and
// forgets peers the network no longer lists (events can be dropped).
func (s *Syncer) statusLoop() {
	t := time.NewTicker(s.statusInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.statusRound(s.ctx)
			s.wake()
		}
	}
}

// statusRound exchanges status with every connected peer and waits for the
// answers; it returns how many answered.
func (s *Syncer) statusRound(ctx context.Context) int {
	infos := s.net.Peers()
	live := make(map[p2p.PeerID]bool, len(infos))
	for _, pi := range infos {
		live[pi.ID] = true
	}
	s.peers.retain(live)
	var wg sync.WaitGroup
	var answered atomic.Int32
	for _, pi := range infos {
		id := pi.ID
		wg.Add(1)
		if !s.spawn(func() {
			defer wg.Done()
			if _, err := s.exchangeStatus(ctx, id); err == nil {
				answered.Add(1)
			} else {
				s.log.Debug("status exchange failed", "peer", id.Short(), "err", err)
			}
		}) {
			wg.Done()
		}
	}
	wg.Wait()
	return int(answered.Load())
}

// publishLoop hands queued blocks and transactions to the network.
func (s *Syncer) publishLoop() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case it := <-s.pubq:
			if err := s.net.Publish(it.topic, it.data); err != nil {
				s.log.Debug("publish failed", "topic", it.topic, "err", err)
			}
		}
	}
}

func (s *Syncer) enqueue(topic string, data []byte) {
	if !s.running.Load() {
		return
	}
	select {
	case s.pubq <- pubItem{topic: topic, data: data}:
	default:
		s.log.Warn("publish queue full: message dropped", "topic", topic)
	}
}

// onChainEvent announces every block connected here near the tip, however
// it came (mined, gossiped, synced, an orphan whose parent arrived): the
// one relay rule for blocks. A gossiped block is also relayed by the
// network when its validator accepts it; the network sends each message
// once, so the two meet there rather than being reconciled here. The
// transactions a reorg returns to the pool are re-announced when it is
// over (reannounce.go).
func (s *Syncer) onChainEvent(n blockchain.Notification) {
	if !s.running.Load() {
		return
	}
	switch n.Type {
	case blockchain.BlockDisconnected:
		s.returned.add(n.Block, n.Hash)
		return
	case blockchain.TipChanged:
		s.reannounce()
		return
	case blockchain.BlockConnected:
	default:
		return
	}
	s.prog.blockConnected()
	s.publishBlock(n.Block, n.Hash)
	s.releaseHeld(n.Hash)
}

// publishBlock publishes a connected block once, unless a sync session
// is connecting history: blocks far below the height of headers that
// showed more work than ours, and old by their own timestamps. Never the
// height a peer merely claims: a peer announcing a fake height cannot
// silence the node, and the blocks it mines (stamped now) are always
// announced.
func (s *Syncer) publishBlock(b *chain.Block, hash chain.Hash) {
	if target := s.syncTarget.Load(); target > 0 && b.Header.Height+RelayTipDepth < target && s.isHistory(b) {
		return
	}
	if s.published.add(hash) {
		s.enqueue(TopicBlocks, b.Encode())
	}
}

// isHistory reports whether b is older than RelayTipDepth target
// spacings (and MinRelayAge), by its timestamp and our clock.
func (s *Syncer) isHistory(b *chain.Block) bool {
	age := time.Duration(RelayTipDepth*s.params.TargetSpacing) * time.Second
	age = max(age, MinRelayAge)
	return time.Unix(int64(b.Header.Timestamp), 0).Add(age).Before(s.now())
}

// onTxAdmitted announces every transaction newly admitted to the pool,
// whichever path admitted it (gossip, a peer's mempool, the API): the one
// relay rule for transactions. The pool admits a transaction once, so it
// is announced once; the network drops the announcement of one it has
// already relayed.
func (s *Syncer) onTxAdmitted(tx *chain.Tx) {
	if !s.running.Load() {
		return
	}
	s.enqueue(TopicTxs, tx.Encode())
}
