package blockchain

import (
	"errors"
	"fmt"
	"log/slog"
	"math/big"
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
}

// Blockchain is the block index, the main chain and its state.
type Blockchain struct {
	params *consensus.Params
	store  store.Store
	now    func() time.Time
	log    *slog.Logger

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
	// byHeight lists every indexed node by height, on every branch, in
	// arrival order: the block tree's window reads it.
	byHeight [][]*node
	// leaves are the indexed nodes without children: the branches' tips.
	leaves map[*node]struct{}

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
		index:   make(map[chain.Hash]*node),
		leaves:  make(map[*node]struct{}),
		state:   state.New(),
		orphans: newOrphanPool(),
	}
	if bc.now == nil {
		bc.now = time.Now
	}
	if bc.log == nil {
		bc.log = slog.New(slog.DiscardHandler)
	}
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
	// but not connected: finish the job.
	var events []Notification
	if _, err := bc.settle(nil, &events); err != nil {
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

// Result says what ProcessBlock did with a block.
type Result struct {
	Hash      chain.Hash
	Orphan    bool // parent unknown; held in the orphan pool
	MainChain bool // the block is on the main chain afterwards
	Reorg     bool // the main chain changed branch
}

// ProcessBlock validates a block and adds it to the chain; see the package
// doc. A *consensus.RuleError says which rule the block broke; other errors
// are the node's own (storage). Orphans whose parent this block is are
// processed too.
func (bc *Blockchain) ProcessBlock(b *chain.Block) (Result, error) {
	bc.procMu.Lock()
	defer bc.procMu.Unlock()
	if bc.closed {
		return Result{}, ErrClosed
	}
	var events []Notification
	res, err := bc.processBlock(b, &events)
	bc.notify(events)
	return res, err
}

func (bc *Blockchain) processBlock(b *chain.Block, events *[]Notification) (Result, error) {
	hash := b.Hash()
	res := Result{Hash: hash}
	bc.mu.RLock()
	_, known := bc.index[hash]
	orphan := bc.orphans.has(hash)
	bc.mu.RUnlock()
	if known || orphan {
		return res, &consensus.RuleError{Code: consensus.CodeDuplicateBlock, Detail: "block " + hash.String() + " already known"}
	}
	if err := consensus.CheckBlockSanity(bc.params, b); err != nil {
		return res, err
	}

	bc.mu.Lock()
	defer bc.mu.Unlock()
	parent := bc.index[b.Header.PrevHash]
	if parent == nil {
		bc.orphans.add(hash, b, bc.now())
		res.Orphan = true
		return res, &consensus.RuleError{Code: consensus.CodeUnknownParent,
			Detail: fmt.Sprintf("block %s: parent %s unknown", hash, b.Header.PrevHash)}
	}
	oldTip := bc.main.tip()
	n, err := bc.acceptBlock(hash, b, parent)
	if err != nil {
		return res, err
	}
	*events = append(*events, Notification{Type: BlockAccepted, Block: b, Hash: hash, Height: n.height()})
	fresh := []*node{n}
	// Blocks waiting for this one, breadth first.
	for i := 0; i < len(fresh); i++ {
		p := fresh[i]
		for _, ob := range bc.orphans.takeChildren(p.hash, bc.now()) {
			oh := ob.Hash()
			c, err := bc.acceptBlock(oh, ob, p)
			if err != nil {
				bc.log.Debug("orphan rejected", "hash", oh, "err", err)
				continue
			}
			*events = append(*events, Notification{Type: BlockAccepted, Block: ob, Hash: oh, Height: c.height()})
			fresh = append(fresh, c)
		}
	}
	failures, err := bc.settle(fresh, events)
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

// acceptBlock checks b's header against its parent and stores it in the
// index. Called with mu held.
func (bc *Blockchain) acceptBlock(hash chain.Hash, b *chain.Block, parent *node) (*node, error) {
	if parent.invalid {
		// Remember it (in memory) so its descendants are refused at once
		// instead of waiting in the orphan pool.
		bc.addNode(hash, b.Header, parent).invalid = true
		return nil, &consensus.RuleError{Code: consensus.CodeInvalidAncestor,
			Detail: fmt.Sprintf("block %s builds on invalid block %s", hash, parent.hash)}
	}
	if err := consensus.CheckHeaderContext(bc.params, &b.Header, parentContext(parent, bc.main), bc.now()); err != nil {
		return nil, fmt.Errorf("block %s: %w", hash, err)
	}
	if err := bc.store.PutBlock(hash, b); err != nil {
		return nil, fmt.Errorf("store block %s: %w", hash, err)
	}
	return bc.addNode(hash, b.Header, parent), nil
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
func (bc *Blockchain) settle(fresh []*node, events *[]Notification) ([]failure, error) {
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
		f, err := bc.reorganize(best, events)
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
// connect target's branch. It returns the block that failed validation, if
// any (already marked invalid), or a storage error. Called with mu held.
func (bc *Blockchain) reorganize(target *node, events *[]Notification) (*failure, error) {
	fork := bc.main.fork(target)
	oldTip := bc.main.tip()
	for bc.main.tip() != fork {
		if err := bc.disconnectTip(events); err != nil {
			return nil, err
		}
	}
	var path []*node
	for n := target; n != fork; n = n.parent {
		path = append(path, n)
	}
	var failed *failure
	for i := len(path) - 1; i >= 0; i-- {
		n := path[i]
		err := bc.connect(n, events)
		if err == nil {
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
	if bc.main.tip() != oldTip {
		t := bc.main.tip()
		*events = append(*events, Notification{Type: TipChanged, Hash: t.hash, Height: t.height(),
			Reorg: !bc.main.contains(oldTip)})
	}
	return failed, nil
}

// connect validates n's block against the current tip's state and makes it
// the tip. Called with mu held.
func (bc *Blockchain) connect(n *node, events *[]Notification) error {
	b, err := bc.store.Block(n.hash)
	if err != nil {
		return fmt.Errorf("load block %s: %w", n.hash, err)
	}
	if err := consensus.VerifySignatures(bc.params, b.Txs); err != nil {
		return fmt.Errorf("block %d %s: %w", n.height(), n.hash, err)
	}
	undo, err := bc.state.ApplyBlock(b, bc.params.Reward(n.height()))
	if err != nil {
		return err
	}
	u := &store.Update{Hash: n.hash, Block: b, Undo: undo, Changes: bc.state.Changes(undo)}
	if err := bc.store.ConnectBlock(u); err != nil {
		bc.state.UndoBlock(undo)
		return fmt.Errorf("store connect %s: %w", n.hash, err)
	}
	bc.main = append(bc.main, n)
	n.connected = true
	*events = append(*events, Notification{Type: BlockConnected, Block: b, Hash: n.hash, Height: n.height()})
	return nil
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
	if err := bc.store.DisconnectBlock(u); err != nil {
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
		if err := bc.store.MarkInvalid(m.hash); err != nil {
			return fmt.Errorf("mark %s invalid: %w", m.hash, err)
		}
		stack = append(stack, m.children...)
	}
	return nil
}

// ErrClosed is returned by ProcessBlock after Close.
var ErrClosed = errors.New("blockchain is closed")

// Close waits for the block being processed, if any, and makes later
// ProcessBlock calls fail with ErrClosed, so the store can be closed
// safely. It does not close the store.
func (bc *Blockchain) Close() error {
	bc.procMu.Lock()
	defer bc.procMu.Unlock()
	bc.closed = true
	return nil
}

// TotalWork returns the cumulative work of the main chain.
func (bc *Blockchain) TotalWork() *big.Int {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	return new(big.Int).Set(bc.main.tip().work)
}
