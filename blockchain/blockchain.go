package blockchain

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/state"
	"github.com/chaind/chaind/store"
)

// Config configures a Blockchain.
type Config struct {
	Params *consensus.Params
	Store  store.Store
	// Now is the clock for the future-timestamp rule and orphan expiry;
	// time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
	// Orphan pool bounds; zero means MaxOrphans, MaxOrphanBytes and
	// OrphanTTL.
	MaxOrphans     int
	MaxOrphanBytes int
	OrphanTTL      time.Duration
	// SyncEveryBlock turns group commit off: every connect is synced,
	// even while catching up (for comparisons and tests).
	SyncEveryBlock bool
	// SigCacheEntries bounds the verified-signature cache (SigCache)
	// shared with the mempool: 0 selects consensus.DefaultSigCacheEntries
	// (about consensus.SigCacheEntryBytes each), a negative value turns
	// the cache off.
	SigCacheEntries int
}

// SigCacheKeepDepth is how deep a block's transactions' signatures stay
// cached once it is on the main chain: a competing block of the same
// height or one above, which mostly carries the same transactions, still
// finds them; deeper, a block with them is unlikely and they are removed
// (dcrd evicts at depth 2 too).
const SigCacheKeepDepth = 2

// Blockchain is the block index, the main chain and its state.
type Blockchain struct {
	params *consensus.Params
	store  store.Store
	now    func() time.Time
	log    *slog.Logger
	// noGroup is Config.SyncEveryBlock.
	noGroup bool
	// sigs caches verified signatures (nil: off); the pool adds to it.
	sigs *consensus.SigCache

	// procMu serialises ProcessBlock, including its notifications, so
	// listeners see events in order.
	procMu sync.Mutex
	closed bool // guarded by procMu

	mu      sync.RWMutex // guards everything below
	index   map[chain.Hash]*node
	main    mainChain
	state   *state.State
	orphans *orphanPool
	seq     uint64
	// orphanTimer expires orphans when nothing else happens; timerStopped
	// is set by Close.
	orphanTimer  *time.Timer
	timerStopped bool
	// byHeight lists every indexed node by height, on every branch, in
	// arrival order: the block tree's window reads it.
	byHeight [][]*node
	// leaves are the indexed nodes without children: the branches' tips.
	leaves map[*node]struct{}
	queued int   // blocks the running ProcessBlockQueued call's caller holds next
	group  group // deferred store updates not yet synced
	times  timings
	// connectedIDs holds the tx ids of the last connected blocks, oldest
	// first, until they are SigCacheKeepDepth deep and leave sigs.
	connectedIDs [][]chain.Hash

	listenersMu sync.Mutex
	listeners   []func(Notification)
}

// New opens the chain stored in cfg.Store, or starts one from the network's
// genesis when the store is empty.
func New(cfg Config) (*Blockchain, error) {
	if cfg.Params == nil || cfg.Store == nil {
		return nil, errors.New("blockchain: params and store are required")
	}
	bc := &Blockchain{
		params:  cfg.Params,
		store:   cfg.Store,
		now:     cfg.Now,
		log:     cfg.Logger,
		noGroup: cfg.SyncEveryBlock,
		index:   make(map[chain.Hash]*node),
		leaves:  make(map[*node]struct{}),
		state:   state.New(),
		orphans: newOrphanPool(cmp.Or(cfg.MaxOrphans, MaxOrphans), cmp.Or(cfg.MaxOrphanBytes, MaxOrphanBytes),
			cmp.Or(cfg.OrphanTTL, OrphanTTL)),
	}
	if cfg.SigCacheEntries >= 0 {
		bc.sigs = consensus.NewSigCache(cfg.Params.GenesisHash(), cfg.SigCacheEntries)
	}
	if bc.now == nil {
		bc.now = time.Now
	}
	if bc.log == nil {
		bc.log = slog.New(slog.DiscardHandler)
	}
	bc.log = bc.log.With("sys", "chain")
	_, ok, err := cfg.Store.Tip()
	if err != nil {
		return nil, fmt.Errorf("blockchain: read tip: %w", err)
	}
	if !ok {
		err = bc.initGenesis()
	} else {
		err = bc.load()
	}
	if err != nil {
		return nil, fmt.Errorf("blockchain: %w", err)
	}
	return bc, nil
}

func (bc *Blockchain) initGenesis() error {
	g := bc.params.Genesis()
	hash := g.Hash()
	undo, err := bc.state.ApplyGenesis(g)
	if err != nil {
		return err
	}
	if err := bc.store.PutBlock(hash, g); err != nil {
		return fmt.Errorf("store genesis: %w", err)
	}
	if err := bc.store.ConnectBlock(&store.Update{Hash: hash, Block: g, Undo: undo, Changes: bc.state.Changes(undo)}); err != nil {
		return fmt.Errorf("connect genesis: %w", err)
	}
	n := bc.addNode(hash, g.Header, nil)
	n.connected = true
	bc.main = mainChain{n}
	return nil
}

// load rebuilds the index, main chain and state from the store.
func (bc *Blockchain) load() error {
	var recs []store.HeaderRecord
	if err := bc.store.ForEachHeader(func(r store.HeaderRecord) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		return fmt.Errorf("load headers: %w", err)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Header.Height < recs[j].Header.Height })
	genesis := bc.params.GenesisHash()
	for _, r := range recs {
		hash := r.Header.Hash()
		var parent *node
		if r.Header.Height == 0 {
			if hash != genesis {
				return fmt.Errorf("stored block %s at height 0 is not this network's genesis", hash)
			}
		} else if parent = bc.index[r.Header.PrevHash]; parent == nil {
			continue // its parent was lost in a crash before sync; it can be fetched again
		}
		n := bc.addNode(hash, r.Header, parent)
		n.invalid = r.Invalid || (parent != nil && parent.invalid)
		n.connected = r.Connected
	}
	tipHash, _, err := bc.store.Tip()
	if err != nil {
		return err
	}
	tip := bc.index[tipHash]
	if tip == nil {
		return fmt.Errorf("stored tip %s has no stored header", tipHash)
	}
	bc.main = make(mainChain, tip.height()+1)
	for n := tip; n != nil; n = n.parent {
		bc.main[n.height()] = n
		n.connected = true
	}
	if bc.main[0] == nil || bc.main[0].hash != genesis {
		return fmt.Errorf("stored tip %s does not descend from genesis", tipHash)
	}
	if err := bc.store.ForEachAccount(func(a chain.Address, acct state.Account) error {
		bc.state.Set(a, acct)
		return nil
	}); err != nil {
		return fmt.Errorf("load accounts: %w", err)
	}
	// A crash between the steps of a reorg leaves a heavier branch stored
	// but not connected: finish the job. settle is called with mu held
	// (a reorganisation lets go of it between steps), even here where no
	// one else can hold it yet.
	var events []Notification
	bc.mu.Lock()
	_, err = bc.settle(nil, nil, &events)
	bc.mu.Unlock()
	if err != nil {
		return fmt.Errorf("settle on the best stored branch: %w", err)
	}
	return nil
}

func (bc *Blockchain) addNode(hash chain.Hash, h chain.Header, parent *node) *node {
	bc.seq++
	n := &node{hash: hash, header: h, parent: parent, seq: bc.seq}
	work := consensus.WorkFromBits(h.Bits)
	if parent != nil {
		work.Add(work, parent.work)
		parent.children = append(parent.children, n)
		delete(bc.leaves, parent)
	}
	n.work = work
	bc.index[hash] = n
	bc.leaves[n] = struct{}{}
	for int(h.Height) >= len(bc.byHeight) {
		bc.byHeight = append(bc.byHeight, nil)
	}
	bc.byHeight[h.Height] = append(bc.byHeight[h.Height], n)
	return n
}

// Subscribe registers fn for chain notifications. See the package doc for
// when it runs.
func (bc *Blockchain) Subscribe(fn func(Notification)) {
	bc.listenersMu.Lock()
	bc.listeners = append(bc.listeners, fn)
	bc.listenersMu.Unlock()
}

func (bc *Blockchain) notify(events []Notification) {
	if len(events) == 0 {
		return
	}
	bc.listenersMu.Lock()
	ls := append([]func(Notification){}, bc.listeners...)
	bc.listenersMu.Unlock()
	for _, e := range events {
		for _, fn := range ls {
			fn(e)
		}
	}
}

// Flags say how a block reached ProcessBlock.
type Flags uint8

// Unrequested is no flag: a block that arrived without being asked for.
const Unrequested Flags = 0

const (
	// Requested marks a block this node asked for (a sync download, an
	// ancestor fetch) or made (its miner). A block without it is
	// unrequested (gossip): if its branch would have less work than the
	// tip, it is checked but not stored (Result.LowWork), as Bitcoin Core's
	// AcceptBlock drops unrequested blocks that cannot become the best
	// chain, so a peer cannot fill the disk with side branches nobody
	// asked for. A node syncing a heavier branch asks for its blocks, so
	// they are stored while the branch is still the lighter one.
	Requested Flags = 1 << iota
)

// Result says what ProcessBlock did with a block. Being an orphan, a
// duplicate or too light to keep is an outcome, not a rule violation:
// ProcessBlock reports it here with a nil error.
type Result struct {
	Hash      chain.Hash
	Duplicate bool // already in the index or the orphan pool: nothing was done
	Orphan    bool // parent unknown: held in the orphan pool
	LowWork   bool // valid as far as checked without its branch's state, but unrequested and lighter than the tip: not stored
	MainChain bool // the block is on the main chain afterwards
	Reorg     bool // the main chain changed branch
}

// ProcessBlock validates a block and adds it to the chain; see the package
// doc. It answers like btcd's: a nil error with Result.Duplicate,
// Result.Orphan or Result.LowWork for a block already known, whose parent
// is unknown, or unrequested on a lighter branch; a *consensus.RuleError
// only when the block (or an ancestor) breaks a rule; any other error is
// the node's own (storage). Orphans whose parent this block is are
// processed too, each with the flags it arrived with.
//
// Every change it makes is synced before it returns; ProcessBlockQueued
// may group the commits of a catch-up.
func (bc *Blockchain) ProcessBlock(b *chain.Block, flags Flags) (Result, error) {
	return bc.ProcessBlockQueued(b, flags, 0)
}

// processBlock is ProcessBlock with procMu held. It takes mu itself, for
// short spells: not while verifying signatures, which procMu alone
// protects (only ProcessBlock changes the index, and procMu serialises it).
func (bc *Blockchain) processBlock(b *chain.Block, flags Flags, events *[]Notification) (Result, error) {
	hash := b.Hash()
	res := Result{Hash: hash}
	bc.mu.RLock()
	_, known := bc.index[hash]
	orphan := bc.orphans.has(hash)
	parent := bc.index[b.Header.PrevHash]
	bc.mu.RUnlock()
	if known || orphan {
		res.Duplicate = true
		return res, nil
	}
	if err := consensus.CheckBlockSanity(bc.params, b); err != nil {
		return res, err
	}
	if parent == nil {
		bc.mu.Lock()
		bc.orphans.add(hash, b, flags, bc.now())
		bc.armOrphanTimer()
		bc.mu.Unlock()
		res.Orphan = true
		return res, nil
	}
	oldTip := bc.tipNode()
	n, err := bc.acceptBlock(hash, b, parent, flags)
	if err != nil {
		return res, err
	}
	if n == nil {
		res.LowWork = true
		return res, nil
	}
	*events = append(*events, Notification{Type: BlockAccepted, Block: b, Hash: hash, Height: n.height(), Flags: flags})
	fresh := []*node{n}
	// The blocks of this call are connected from memory, not read back
	// from the store they were just written to.
	inHand := map[chain.Hash]*chain.Block{hash: b}
	// Blocks waiting for this one, breadth first.
	for i := 0; i < len(fresh); i++ {
		p := fresh[i]
		bc.mu.Lock()
		children := bc.orphans.takeChildren(p.hash, bc.now())
		bc.armOrphanTimer()
		bc.mu.Unlock()
		for _, o := range children {
			oh := o.block.Hash()
			c, err := bc.acceptBlock(oh, o.block, p, o.flags)
			if err != nil || c == nil {
				bc.log.Debug("orphan not kept", "hash", oh, "err", err)
				continue
			}
			inHand[oh] = o.block
			*events = append(*events, Notification{Type: BlockAccepted, Block: o.block, Hash: oh, Height: c.height(), Flags: o.flags})
			fresh = append(fresh, c)
		}
	}
	bc.mu.Lock()
	defer bc.mu.Unlock()
	failures, err := bc.settle(fresh, inHand, events)
	if err != nil {
		return res, err
	}
	res.MainChain = bc.main.contains(n)
	res.Reorg = !bc.main.contains(oldTip)
	for _, f := range failures {
		if f.node == n {
			return res, f.err
		}
	}
	if n.invalid {
		return res, &consensus.RuleError{Code: consensus.CodeInvalidAncestor,
			Detail: "block " + hash.String() + " builds on a block that failed validation"}
	}
	return res, nil
}

// tipNode returns the main chain's tip node.
func (bc *Blockchain) tipNode() *node {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	return bc.main.tip()
}

// acceptBlock runs the checks of a block that need its parent but not the
// branch's state, cheapest first: the header against its branch, then
// every signature (so a block whose body breaks a rule is refused, and its
// sender penalised, on any branch and before anything is written). It then
// stores the block and adds it to the index, or, when the block is
// unrequested and its branch would have less work than the tip, returns a
// nil node without storing it. A block that breaks a rule is remembered in
// memory as invalid, so its descendants are refused at once. Called with
// procMu held and mu not held.
func (bc *Blockchain) acceptBlock(hash chain.Hash, b *chain.Block, parent *node, flags Flags) (*node, error) {
	bc.mu.RLock()
	parentInvalid := parent.invalid
	var err error
	if !parentInvalid {
		err = consensus.CheckHeaderContext(bc.params, &b.Header, parentContext(parent, bc.main), bc.now())
	}
	tip := bc.main.tip()
	tipWork := tip.work
	bc.mu.RUnlock()
	if parentInvalid {
		bc.rememberInvalid(hash, b, parent)
		return nil, &consensus.RuleError{Code: consensus.CodeInvalidAncestor,
			Detail: fmt.Sprintf("block %s builds on invalid block %s", hash, parent.hash)}
	}
	if err != nil {
		return nil, fmt.Errorf("block %s: %w", hash, err)
	}
	start := time.Now()
	err = consensus.VerifySignaturesCached(bc.params, b.Txs, nil, bc.sigs)
	bc.times.validate.Add(int64(time.Since(start)))
	if err != nil {
		bc.rememberInvalid(hash, b, parent)
		return nil, fmt.Errorf("block %d %s: %w", b.Header.Height, hash, err)
	}
	if flags&Requested == 0 {
		work := new(big.Int).Add(parent.work, consensus.WorkFromBits(b.Header.Bits))
		if work.Cmp(tipWork) < 0 {
			return nil, nil
		}
	}
	// A block on the tip has more work than the tip: settle connects it
	// next, and its connect batch stores it (one batch a block, no lookup:
	// the block is not stored, as every stored block is in the index, so
	// no stored invalid mark can be lost). Other blocks are stored now.
	onTip := parent == tip
	if !onTip {
		if err := bc.store.PutBlock(hash, b); err != nil {
			return nil, fmt.Errorf("store block %s: %w", hash, err)
		}
	}
	bc.mu.Lock()
	defer bc.mu.Unlock()
	n := bc.addNode(hash, b.Header, parent)
	n.sigsChecked = true
	if onTip {
		n.body = b
	}
	return n, nil
}

// rememberInvalid adds a block that broke a rule to the index, in memory
// only and marked invalid, so a copy is a duplicate and its descendants
// are refused without waiting in the orphan pool. Called with mu not held.
func (bc *Blockchain) rememberInvalid(hash chain.Hash, b *chain.Block, parent *node) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	bc.addNode(hash, b.Header, parent).invalid = true
}

// failure is a block that broke a rule while being connected.
type failure struct {
	node *node
	err  error
}

// settle moves the main chain to the best valid branch. The tip is the best
// valid node before new nodes arrive, so only fresh nodes can beat it; pass
// nil to consider every node (at start). A block that fails its contextual
// checks while connecting is marked invalid with its descendants and the
// best valid node is chosen again from the whole index, so the loop ends:
// each round either reaches the best branch or invalidates a block.
// Called with mu held.
func (bc *Blockchain) settle(fresh []*node, inHand map[chain.Hash]*chain.Block, events *[]Notification) ([]failure, error) {
	best := bc.main.tip()
	if fresh == nil {
		best = bc.scanBest()
	}
	for _, n := range fresh {
		if !n.invalid && n.betterThan(best) {
			best = n
		}
	}
	var failures []failure
	for best != bc.main.tip() {
		f, err := bc.reorganize(best, inHand, events)
		if err != nil {
			return failures, err
		}
		if f == nil {
			break
		}
		failures = append(failures, *f)
		best = bc.scanBest()
	}
	return failures, nil
}

// scanBest returns the valid node with the most work, first seen on ties.
// Called with mu held.
func (bc *Blockchain) scanBest() *node {
	best := bc.main.tip()
	for _, n := range bc.index {
		if !n.invalid && n.betterThan(best) {
			best = n
		}
	}
	return best
}

// reorganize makes target the tip: disconnect back to the fork point,
// connect target's branch, taking each block from inHand when it is there
// and from the store otherwise. It returns the block that failed
// validation, if any (already marked invalid), or a storage error. Called
// with mu held.
func (bc *Blockchain) reorganize(target *node, inHand map[chain.Hash]*chain.Block, events *[]Notification) (*failure, error) {
	fork := bc.main.fork(target)
	oldTip := bc.main.tip()
	// Inside one reorganisation only the last write needs a sync: a crash
	// before it reopens on a consistent tip on the way, and start-up
	// settles on the heaviest stored branch again.
	for bc.main.tip() != fork {
		if err := bc.disconnectTip(events); err != nil {
			return nil, err
		}
		bc.yieldToReaders()
	}
	var path []*node
	for n := target; n != fork; n = n.parent {
		path = append(path, n)
	}
	var failed *failure
	for i := len(path) - 1; i >= 0; i-- {
		n := path[i]
		deferred := (i > 0 && bc.groupRoom()) || bc.groupOpen()
		err := bc.connect(n, inHand[n.hash], deferred, events)
		if err == nil {
			bc.yieldToReaders()
			continue
		}
		if consensus.CodeOf(err) == 0 {
			return nil, err
		}
		bc.log.Warn("block failed validation", "height", n.height(), "hash", n.hash, "err", err)
		if err := bc.markInvalid(n); err != nil {
			return nil, err
		}
		failed = &failure{node: n, err: err}
		break
	}
	if err := bc.endGroup(); err != nil {
		return nil, err
	}
	if bc.main.tip() != oldTip {
		t := bc.main.tip()
		*events = append(*events, Notification{Type: TipChanged, Hash: t.hash, Height: t.height(),
			Reorg: !bc.main.contains(oldTip)})
	}
	return failed, nil
}

// yieldToReaders lets the readers waiting for mu in between two steps of a
// reorganisation, so that a long one (thousands of blocks) holds no lock
// readers need for longer than one block's disconnect or connect: the API
// answers throughout. After each step the index, the main chain and the
// state agree (the tip is a block on the way from the old branch to the
// new, its state that block's), which is what readers see; writers cannot
// come in, as they all hold procMu, which the reorganisation keeps.
// Called with mu held for writing; holds it again on return.
func (bc *Blockchain) yieldToReaders() {
	bc.mu.Unlock()
	bc.mu.Lock()
}

// connect validates n's block against the current tip's state and makes it
// the tip. b is the block when the caller has it in memory, else nil and
// it is read from the store. Called with mu held.
//
// The update is deferred (group commit) when deferred is set.
func (bc *Blockchain) connect(n *node, b *chain.Block, deferred bool, events *[]Notification) error {
	if b == nil {
		b = n.body
	}
	if b == nil {
		var err error
		if b, err = bc.store.Block(n.hash); err != nil {
			return fmt.Errorf("load block %s: %w", n.hash, err)
		}
	}
	start := time.Now()
	if !n.sigsChecked {
		// Stored by an earlier run: check again what acceptBlock checked.
		if err := consensus.VerifySignaturesCached(bc.params, b.Txs, nil, bc.sigs); err != nil {
			bc.times.validate.Add(int64(time.Since(start)))
			return fmt.Errorf("block %d %s: %w", n.height(), n.hash, err)
		}
		n.sigsChecked = true
	}
	undo, err := bc.state.ApplyBlock(b, bc.params.Reward(n.height()))
	bc.times.validate.Add(int64(time.Since(start)))
	if err != nil {
		return err
	}
	u := &store.Update{Hash: n.hash, Block: b, Undo: undo, Changes: bc.state.Changes(undo), NotStored: n.body != nil}
	if err := bc.writeUpdate(u, deferred, bc.store.ConnectBlock); err != nil {
		bc.state.UndoBlock(undo)
		return fmt.Errorf("store connect %s: %w", n.hash, err)
	}
	bc.main = append(bc.main, n)
	n.connected = true
	n.body = nil
	bc.times.connected.Add(1)
	bc.forgetBuriedSigs(b)
	*events = append(*events, Notification{Type: BlockConnected, Block: b, Hash: n.hash, Height: n.height()})
	return nil
}

// forgetBuriedSigs records the ids of b, just connected, and removes from
// the signature cache those of the block that is now SigCacheKeepDepth
// deep. After a reorganisation the list holds blocks of both branches for
// a while: it only decides what leaves the cache early, never what is
// valid. Called with mu held.
func (bc *Blockchain) forgetBuriedSigs(b *chain.Block) {
	if bc.sigs == nil {
		return
	}
	var ids []chain.Hash
	if bc.sigs.Len() > 0 { // nothing to forget while catching up
		ids = chain.TxIDs(b.Txs)
	}
	bc.connectedIDs = append(bc.connectedIDs, ids)
	if len(bc.connectedIDs) > SigCacheKeepDepth {
		bc.sigs.Remove(bc.connectedIDs[0]...)
		bc.connectedIDs = slices.Delete(bc.connectedIDs, 0, 1)
	}
}

// disconnectTip undoes the tip block. Called with mu held.
func (bc *Blockchain) disconnectTip(events *[]Notification) error {
	n := bc.main.tip()
	if n.parent == nil {
		return errors.New("cannot disconnect genesis")
	}
	b, err := bc.store.Block(n.hash)
	if err != nil {
		return fmt.Errorf("load block %s: %w", n.hash, err)
	}
	undo, err := bc.store.Undo(n.hash)
	if err != nil {
		return fmt.Errorf("load undo %s: %w", n.hash, err)
	}
	bc.state.UndoBlock(undo)
	u := &store.Update{Hash: n.hash, Block: b, Undo: undo, Changes: bc.state.Changes(undo)}
	// Deferred: the connects of the new branch follow, and reorganize
	// syncs the last write.
	if err := bc.writeUpdate(u, true, bc.store.DisconnectBlock); err != nil {
		// Put the state back as the store still has it.
		if _, rerr := bc.state.ApplyBlock(b, bc.params.Reward(n.height())); rerr != nil {
			return fmt.Errorf("store disconnect %s: %w (and restoring state failed: %v)", n.hash, err, rerr)
		}
		return fmt.Errorf("store disconnect %s: %w", n.hash, err)
	}
	bc.main = bc.main[:len(bc.main)-1]
	*events = append(*events, Notification{Type: BlockDisconnected, Block: b, Hash: n.hash, Height: n.height()})
	return nil
}

// markInvalid marks n and its descendants invalid, in memory and in the
// store. Called with mu held.
func (bc *Blockchain) markInvalid(n *node) error {
	stack := []*node{n}
	for len(stack) > 0 {
		m := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if m.invalid {
			continue
		}
		m.invalid = true
		if m.body != nil {
			// Not stored yet (see acceptBlock): stored now, to carry the mark.
			if err := bc.store.PutBlock(m.hash, m.body); err != nil {
				return fmt.Errorf("store block %s: %w", m.hash, err)
			}
			m.body = nil
		}
		if err := bc.store.MarkInvalid(m.hash); err != nil {
			return fmt.Errorf("mark %s invalid: %w", m.hash, err)
		}
		stack = append(stack, m.children...)
	}
	return nil
}

// ErrClosed is returned by ProcessBlock after Close.
var ErrClosed = errors.New("blockchain is closed")

// Close waits for the block being processed, if any, makes later
// ProcessBlock calls fail with ErrClosed, so the store can be closed
// safely, and stops the orphan expiry timer. It does not close the store.
func (bc *Blockchain) Close() error {
	bc.procMu.Lock()
	defer bc.procMu.Unlock()
	if bc.closed {
		return nil
	}
	bc.closed = true
	bc.mu.Lock()
	defer bc.mu.Unlock()
	bc.timerStopped = true
	if bc.orphanTimer != nil {
		bc.orphanTimer.Stop()
	}
	return bc.syncGroup()
}

// TotalWork returns the cumulative work of the main chain.
func (bc *Blockchain) TotalWork() *big.Int {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	return new(big.Int).Set(bc.main.tip().work)
}
