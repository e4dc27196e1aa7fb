package lab

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/miner"
	"github.com/chaind/chaind/netsync"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/memnet"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/wallet"
)

// Tunables of the in-memory cluster.
const (
	// FundsPerNode is what the genesis of a lab network gives every node's
	// key (the first FundedNodes nodes' in a larger network), so scenarios
	// can send transactions from the first block on.
	FundsPerNode = 1000 * consensus.Coin
	// FundedNodes bounds the nodes the genesis funds: every node holds the
	// whole genesis state, so funding all of a 1,000-node simulation would
	// cost a million accounts.
	FundedNodes = 100
	// memStatusInterval is the status exchange interval of lab nodes of
	// networks up to statusNodes nodes: short, so a healed partition
	// converges within seconds. Larger networks exchange status less
	// often (statusInterval), as a round costs every node a request per
	// peer and blocks spread by gossip anyway.
	memStatusInterval = time.Second
	statusNodes       = 100
	// largePublishQueue is the netsync publish queue of nodes of networks
	// larger than statusNodes (netsync.PublishQueue's 4,096 would cost
	// each 160 KB).
	largePublishQueue = 1024
	// privateQueue bounds the public blocks a selfish node's private chain
	// has yet to take in.
	privateQueue = 4096
)

// MemConfig configures a MemCluster.
type MemConfig struct {
	Network *Network
	// Observatory receives the nodes' events (none when nil).
	Observatory *Observatory
	Logger      *slog.Logger
}

// MemCluster runs a devnet's nodes in this process over memnet, each a
// full node (chain, mempool, miner, netsync) on a memory store that
// survives its restarts. Miners hash at their share of the network's rate
// or, for a simulated network, draw their block times (and the whole
// network runs on a clock compressed by the network's factor).
type MemCluster struct {
	params *consensus.Params
	obs    *Observatory
	log    *slog.Logger
	start  time.Time

	mu       sync.Mutex
	net      *memnet.Net
	network  *Network
	nodes    map[string]*memNode
	order    []string
	links    map[Pair]Shape
	groups   [][]string // the partition, by name; nil: healed
	closed   bool
	seedNext uint64

	statusEvery  time.Duration // the nodes' status interval, set by the network's size
	publishQueue int           // the nodes' netsync publish queue (0: netsync's default)
}

// memNode is one node; its parts are rebuilt on every start.
type memNode struct {
	c    *MemCluster
	spec Node
	key  *wallet.Key
	st   *store.Memory
	seed uint64

	// Set while running.
	running bool
	p2p     *memnet.Node
	chain   *blockchain.Blockchain
	pool    *mempool.Pool
	sync    *netsync.Syncer
	miner   *miner.Miner
	sim     *miner.SimMiner
	self    *selfish // a selfish miner's private chain, or nil

	evMu        sync.Mutex
	disconnects int // blocks disconnected since the last tip change
}

// NewMemCluster starts every node of cfg.Network over one memnet.
func NewMemCluster(cfg MemConfig) (*MemCluster, error) {
	n := cfg.Network
	if n == nil || len(n.Nodes) == 0 {
		return nil, fmt.Errorf("%w: no nodes", ErrBadNetwork)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	net, err := memnet.New(memnet.Config{Seed: n.Seed, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("memnet: %w", err)
	}
	c := &MemCluster{obs: cfg.Observatory, log: log, start: time.Now(), net: net,
		network: &Network{}, nodes: map[string]*memNode{}, links: map[Pair]Shape{}, seedNext: n.Seed*1000 + 1}
	*c.network = *n
	c.statusEvery = statusInterval(len(n.Nodes))
	if len(n.Nodes) > statusNodes {
		c.publishQueue = largePublishQueue
	}
	c.network.Nodes = nil
	c.network.Links = nil
	if c.obs == nil {
		c.obs = NewObservatory(nil)
	}
	keys := make([]*wallet.Key, len(n.Nodes))
	for i, x := range n.Nodes {
		keys[i] = nodeKey(n.Name, x.Name)
	}
	c.params = labParams(n, keys)
	for _, l := range n.Links {
		if err := l.Shape.Check(); err != nil {
			net.Close()
			return nil, fmt.Errorf("%w: link %s: %w", ErrBadNetwork, l.Pair, err)
		}
		c.links[l.Pair] = l.Shape
	}
	c.network.Links = n.Links
	for i, x := range n.Nodes {
		if err := c.addNode(x, keys[i]); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// nodeKey derives a node's key from the network and node names, so a
// devnet's addresses are the same every time it is started.
func nodeKey(network, name string) *wallet.Key {
	seed := chain.HashBytes([]byte("chaind lab key/" + network + "/" + name))
	k, err := wallet.KeyFromSeed(seed[:])
	if err != nil {
		panic("lab: a 32-byte seed is a valid key: " + err.Error())
	}
	return k
}

// labParams returns the network's consensus rules: devnet's, or for a
// simulated network regtest's trivial proof of work without retarget
// (the draws set the block times); the genesis funds every node's key, or
// the first FundedNodes'.
func labParams(n *Network, keys []*wallet.Key) *consensus.Params {
	p := consensus.Devnet()
	if n.Simulated {
		p = consensus.Regtest()
		p.TargetSpacing = max(int64(n.BlockTime/time.Second), 1)
	}
	p.Name = "lab-" + n.Name
	p.GenesisData = "chaind lab " + n.Name
	for _, k := range keys[:min(len(keys), FundedNodes)] {
		p.Allocations = append(p.Allocations, consensus.Allocation{Address: k.Address(), Amount: FundsPerNode})
	}
	return p
}

// Params returns the cluster's consensus rules.
func (c *MemCluster) Params() *consensus.Params { return c.params }

// Observatory returns the observatory the nodes report to.
func (c *MemCluster) Observatory() *Observatory { return c.obs }

// now is the cluster's clock: real time, compressed by the network's
// factor from the cluster's start.
func (c *MemCluster) now() time.Time {
	f := c.network.Compression
	if f <= 1 {
		return time.Now()
	}
	return c.start.Add(time.Duration(float64(time.Since(c.start)) * f))
}

// Network implements Cluster.
func (c *MemCluster) Network() *Network {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := *c.network
	n.Nodes = nil
	for _, name := range c.order {
		n.Nodes = append(n.Nodes, c.nodes[name].spec)
	}
	n.Links = nil
	for p, s := range c.links {
		n.Links = append(n.Links, Link{Pair: p, Shape: s})
	}
	slices.SortFunc(n.Links, func(a, b Link) int {
		if a.Pair.A != b.Pair.A {
			return cmpStr(a.Pair.A, b.Pair.A)
		}
		return cmpStr(a.Pair.B, b.Pair.B)
	})
	return &n
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// addNode registers and starts a node. Called without c.mu.
func (c *MemCluster) addNode(spec Node, key *wallet.Key) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return p2p.ErrClosed
	}
	if _, ok := c.nodes[spec.Name]; ok {
		c.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrExists, spec.Name)
	}
	nd := &memNode{c: c, spec: spec, key: key, st: store.NewMemory(), seed: c.seedNext}
	c.seedNext++
	c.nodes[spec.Name] = nd
	c.order = append(c.order, spec.Name)
	c.mu.Unlock()
	if err := c.startNode(nd); err != nil {
		return err
	}
	c.obs.Add(Event{T: time.Now(), Kind: KindStart, Node: spec.Name, Share: spec.Share})
	return nil
}

func (c *MemCluster) node(name string) (*memNode, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	nd, ok := c.nodes[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownNode, name)
	}
	return nd, nil
}

func (c *MemCluster) running(name string) (*memNode, error) {
	nd, err := c.node(name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !nd.running {
		return nil, fmt.Errorf("%w: %s", ErrStopped, name)
	}
	return nd, nil
}

// startNode builds a node's parts on its store and starts them.
func (c *MemCluster) startNode(nd *memNode) error {
	name := nd.spec.Name
	log := c.log.With("node", name)
	bc, err := blockchain.New(blockchain.Config{Params: c.params, Store: nd.st, Now: c.now, Logger: log})
	if err != nil {
		return fmt.Errorf("node %s: %w", name, err)
	}
	pool := mempool.New(bc, mempool.Config{SigCache: bc.SigCache()})
	bc.Subscribe(pool.OnChainEvent)
	c.mu.Lock()
	pn := c.net.NewNode()
	c.mu.Unlock()
	sy, err := netsync.New(netsync.Config{Chain: bc, Pool: pool, Net: pn, Logger: log,
		StatusInterval: c.statusEvery, PublishQueue: c.publishQueue, Now: c.now})
	if err != nil {
		return fmt.Errorf("node %s: %w", name, err)
	}
	nd.evMu.Lock()
	nd.disconnects = 0
	nd.evMu.Unlock()
	bc.Subscribe(nd.onChain)
	pool.Subscribe(func(tx *chain.Tx) {
		c.obs.Add(Event{T: time.Now(), Kind: KindTx, Node: name, Hash: tx.ID().String()})
	})

	mineOn := bc // the chain the miner extends
	var self *selfish
	if nd.spec.Strategy == miner.StrategySelfish {
		self, err = newSelfish(c, nd, bc)
		if err != nil {
			return fmt.Errorf("node %s: %w", name, err)
		}
		mineOn = self.private
	}
	var txs miner.TxSource = pool
	if self != nil {
		txs = nil // the pool follows the public chain, not the private branch
	}
	m := miner.New(mineOn, txs, miner.Config{Address: nd.key.Address(), Threads: 1, Now: c.now,
		Logger: log, OnMined: nd.onMined})
	var sim *miner.SimMiner
	if c.network.Simulated {
		mean := c.meanInterval(nd.spec.Share)
		if mean <= 0 {
			mean = c.network.BlockTime // not mining until SetShare gives it a share
		}
		sim, err = miner.NewSimMiner(m, mean, nd.seed)
		if err != nil {
			return fmt.Errorf("node %s: %w", name, err)
		}
	} else if err := m.SetHashRate(c.network.HashRate * nd.spec.Share); err != nil {
		return fmt.Errorf("node %s: %w", name, err)
	}

	ctx := context.Background()
	if err := pn.Start(ctx); err != nil {
		return fmt.Errorf("node %s: start network: %w", name, err)
	}
	if err := sy.Start(ctx); err != nil {
		pn.Close()
		return fmt.Errorf("node %s: start sync: %w", name, err)
	}
	c.mu.Lock()
	nd.p2p, nd.chain, nd.pool, nd.sync, nd.miner, nd.sim, nd.self = pn, bc, pool, sy, m, sim, self
	nd.running = true
	for p, s := range c.links {
		if p.A == name || p.B == name {
			c.linkLocked(p, s)
		}
	}
	if c.groups != nil {
		c.applyPartitionLocked() // the restarted node has a new id
	}
	c.mu.Unlock()
	if self != nil {
		self.start()
	}
	nd.setMining(nd.spec.Mining && nd.spec.Share > 0)
	return nil
}

// statusInterval is the status exchange interval of a network of n nodes:
// memStatusInterval up to statusNodes nodes, then growing with n, so the
// network's status requests per second stay at statusNodes rounds.
func statusInterval(n int) time.Duration {
	if n <= statusNodes {
		return memStatusInterval
	}
	return memStatusInterval * time.Duration(n) / statusNodes
}

// meanInterval is a simulated miner's mean real time between its blocks.
func (c *MemCluster) meanInterval(share float64) time.Duration {
	if share <= 0 {
		return 0
	}
	return time.Duration(float64(c.network.BlockTime) / share / c.network.Compression)
}

// linkLocked links a pair whose ends both run, with the shape's delays
// divided by the time compression and its bandwidth multiplied by it.
func (c *MemCluster) linkLocked(p Pair, s Shape) {
	a, b := c.nodes[p.A], c.nodes[p.B]
	if a == nil || b == nil || !a.running || !b.running {
		return
	}
	if err := c.net.Link(a.p2p.Self(), b.p2p.Self(), s.memLink(c.network.Compression)); err != nil {
		c.log.Warn("link", "pair", p.String(), "err", err)
	}
}

// applyPartitionLocked maps the partition's names onto the nodes' current
// memnet ids (a restarted node has a new one).
func (c *MemCluster) applyPartitionLocked() {
	if c.groups == nil {
		c.net.Heal()
		return
	}
	var ids [][]p2p.PeerID
	for _, g := range c.groups {
		var gi []p2p.PeerID
		for _, name := range g {
			if nd := c.nodes[name]; nd != nil && nd.running {
				gi = append(gi, nd.p2p.Self())
			}
		}
		ids = append(ids, gi)
	}
	c.net.Partition(ids...)
}

// setMining turns the node's miner on or off.
func (nd *memNode) setMining(on bool) {
	if nd.sim != nil {
		if on {
			nd.sim.Start()
		} else {
			nd.sim.Stop()
		}
		return
	}
	if on {
		nd.miner.Start()
	} else {
		nd.miner.Stop()
	}
}

// onChain turns a node's chain notifications into events: a block
// connected is a block seen; disconnects before a tip change are a reorg.
func (nd *memNode) onChain(n blockchain.Notification) {
	switch n.Type {
	case blockchain.BlockConnected:
		nd.c.obs.Add(Event{T: time.Now(), Kind: KindBlock, Node: nd.spec.Name, Hash: n.Hash.String(),
			Parent: n.Block.Header.PrevHash.String(), Height: n.Height})
		if nd.self != nil {
			nd.self.public(n.Block)
		}
	case blockchain.BlockDisconnected:
		nd.evMu.Lock()
		nd.disconnects++
		nd.evMu.Unlock()
	case blockchain.TipChanged:
		nd.evMu.Lock()
		depth := nd.disconnects
		nd.disconnects = 0
		nd.evMu.Unlock()
		if n.Reorg && depth > 0 {
			nd.c.obs.Add(Event{T: time.Now(), Kind: KindReorg, Node: nd.spec.Name, Hash: n.Hash.String(), Height: n.Height, Depth: depth})
		}
	}
}

// onMined reports a find (a selfish miner's too, when it is mined, not
// when it is published).
func (nd *memNode) onMined(b *chain.Block, _ bool) {
	nd.c.obs.Add(Event{T: time.Now(), Kind: KindFound, Node: nd.spec.Name, Hash: b.Hash().String(),
		Parent: b.Header.PrevHash.String(), Height: b.Header.Height})
	if nd.self != nil {
		nd.self.mined(b)
	}
}

// stopNode stops a node's parts; crash skips the goodbye (the network goes
// first, so peers see the link drop mid-conversation).
func (c *MemCluster) stopNode(nd *memNode, crash bool) {
	c.mu.Lock()
	if !nd.running {
		c.mu.Unlock()
		return
	}
	nd.running = false
	pn, sy, bc, self := nd.p2p, nd.sync, nd.chain, nd.self
	c.mu.Unlock()
	if crash {
		pn.Close()
	}
	if nd.sim != nil {
		nd.sim.Stop()
	}
	nd.miner.Stop()
	if self != nil {
		self.stop()
	}
	sy.Stop()
	pn.Close()
	bc.Close()
}

// Status implements Cluster.
func (c *MemCluster) Status() []NodeStatus {
	c.mu.Lock()
	nodes := make([]*memNode, 0, len(c.order))
	for _, name := range c.order {
		nodes = append(nodes, c.nodes[name])
	}
	c.mu.Unlock()
	out := make([]NodeStatus, 0, len(nodes))
	for _, nd := range nodes {
		c.mu.Lock()
		s := NodeStatus{Name: nd.spec.Name, Running: nd.running, Address: chain.FormatAddress(c.params.AddressPrefix, nd.key.Address()),
			Mining: nd.spec.Mining && nd.spec.Share > 0, Strategy: nd.spec.Strategy, Share: nd.spec.Share}
		pn, bc, pool, m, self := nd.p2p, nd.chain, nd.pool, nd.miner, nd.self
		c.mu.Unlock()
		if s.Running {
			s.PeerID = string(pn.Self())
			tip := bc.Tip()
			s.Height, s.Tip = tip.Height, tip.Hash.String()
			s.Peers = len(pn.Peers())
			s.MempoolTxs = pool.Len()
			s.HashRate = m.HashRate()
			if self != nil {
				s.Withheld = self.strategy.Withheld()
			}
		}
		out = append(out, s)
	}
	return out
}

// Partition implements Cluster.
func (c *MemCluster) Partition(groups [][]string) error {
	c.mu.Lock()
	if err := checkGroups(groups, c.nodes); err != nil {
		c.mu.Unlock()
		return err
	}
	c.groups = groups
	c.applyPartitionLocked()
	c.mu.Unlock()
	c.obs.Add(Event{T: time.Now(), Kind: KindPartition, Detail: GroupsString(groups)})
	return nil
}

// Heal implements Cluster.
func (c *MemCluster) Heal() error {
	c.mu.Lock()
	c.groups = nil
	c.applyPartitionLocked()
	c.mu.Unlock()
	c.obs.Add(Event{T: time.Now(), Kind: KindHeal})
	return nil
}

// Shape implements Cluster.
func (c *MemCluster) Shape(p Pair, s Shape) error {
	if err := s.Check(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if p.A == p.B {
		return fmt.Errorf("%w: a link joins two nodes", ErrBadRequest)
	}
	c.mu.Lock()
	for _, name := range []string{p.A, p.B} {
		if _, ok := c.nodes[name]; !ok {
			c.mu.Unlock()
			return fmt.Errorf("%w: %q", ErrUnknownNode, name)
		}
	}
	c.links[p] = s
	c.linkLocked(p, s)
	c.mu.Unlock()
	c.obs.Add(Event{T: time.Now(), Kind: KindShape, Detail: p.String() + " " + s.String()})
	return nil
}

// Stop implements Cluster.
func (c *MemCluster) Stop(name string) error { return c.halt(name, false) }

// Crash implements Cluster.
func (c *MemCluster) Crash(name string) error { return c.halt(name, true) }

func (c *MemCluster) halt(name string, crash bool) error {
	nd, err := c.running(name)
	if err != nil {
		return err
	}
	c.stopNode(nd, crash)
	kind := KindStop
	if crash {
		kind = KindCrash
	}
	c.obs.Add(Event{T: time.Now(), Kind: kind, Node: name})
	return nil
}

// Start implements Cluster.
func (c *MemCluster) Start(name string) error {
	nd, err := c.node(name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	running, closed := nd.running, c.closed
	c.mu.Unlock()
	if closed {
		return p2p.ErrClosed
	}
	if running {
		return fmt.Errorf("%w: %s", ErrRunning, name)
	}
	if err := c.startNode(nd); err != nil {
		return err
	}
	c.obs.Add(Event{T: time.Now(), Kind: KindStart, Node: name, Share: nd.spec.Share})
	return nil
}

// Add implements Cluster: a relay (not mining) linked to peers with the
// network's default link shape.
func (c *MemCluster) Add(name string, peers []string) error {
	c.mu.Lock()
	if err := checkAdd(name, peers, c.nodes); err != nil {
		c.mu.Unlock()
		return err
	}
	var shape Shape
	for _, l := range c.network.Links {
		shape = l.Shape // the file's links share the default shape unless given their own
		break
	}
	for _, p := range peers {
		c.links[pairOf(name, p)] = shape
	}
	c.mu.Unlock()
	// Keys of nodes added later are not funded by the genesis.
	if err := c.addNode(Node{Name: name, Strategy: miner.StrategyHonest}, nodeKey(c.network.Name, name)); err != nil {
		return err
	}
	c.obs.Add(Event{T: time.Now(), Kind: KindAdd, Node: name, Detail: fmt.Sprint(peers)})
	return nil
}

// MaxMineBlocks bounds one Mine control.
const MaxMineBlocks = 1000

// Mine implements Cluster.
func (c *MemCluster) Mine(ctx context.Context, name string, n int) ([]string, error) {
	if err := checkMine(n); err != nil {
		return nil, err
	}
	nd, err := c.running(name)
	if err != nil {
		return nil, err
	}
	c.obs.Add(Event{T: time.Now(), Kind: KindMine, Node: name, Detail: fmt.Sprint(n)})
	return mineBlocks(ctx, name, n, nd.miner.MineOne)
}

// SetShare implements Cluster.
func (c *MemCluster) SetShare(name string, share float64) error {
	if err := checkShare(share); err != nil {
		return err
	}
	nd, err := c.running(name)
	if err != nil {
		return err
	}
	if nd.sim != nil {
		if share > 0 {
			if err := nd.sim.SetMean(c.meanInterval(share)); err != nil {
				return fmt.Errorf("%w: %w", ErrBadRequest, err)
			}
		}
	} else if err := nd.miner.SetHashRate(c.network.HashRate * share); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	c.mu.Lock()
	nd.spec.Share = share
	nd.spec.Mining = share > 0
	c.mu.Unlock()
	nd.setMining(share > 0)
	c.obs.Add(Event{T: time.Now(), Kind: KindHashRate, Node: name, Share: share})
	return nil
}

// Send implements Cluster: a transfer from one node's key to another's
// address, fee 1 base unit.
func (c *MemCluster) Send(from, to string, amount uint64) (string, error) {
	if amount == 0 {
		return "", fmt.Errorf("%w: amount 0", ErrBadRequest)
	}
	src, err := c.running(from)
	if err != nil {
		return "", err
	}
	dst, err := c.node(to)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	pool := src.pool
	c.mu.Unlock()
	src.evMu.Lock() // one nonce per transaction
	defer src.evMu.Unlock()
	_, _, next := pool.Pending(src.key.Address())
	tx := &chain.Tx{To: dst.key.Address(), Amount: amount, Fee: 1, Nonce: next}
	src.key.SignTx(tx, c.params.GenesisHash())
	if err := pool.Add(tx); err != nil {
		return "", fmt.Errorf("%w: node %s: %w", ErrBadRequest, from, err)
	}
	return tx.ID().String(), nil
}

// Mined implements Cluster.
func (c *MemCluster) Mined(name, txid string) (bool, error) {
	nd, err := c.running(name)
	if err != nil {
		return false, err
	}
	id, err := chain.ParseHash(txid)
	if err != nil {
		return false, fmt.Errorf("%w: transaction id: %w", ErrBadRequest, err)
	}
	c.mu.Lock()
	bc := nd.chain
	c.mu.Unlock()
	if _, _, err := bc.TxLocation(id); err != nil {
		return false, nil
	}
	return true, nil
}

// HashAt implements Cluster.
func (c *MemCluster) HashAt(name string, height uint32) (string, error) {
	nd, err := c.running(name)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	bc := nd.chain
	c.mu.Unlock()
	if height > bc.Height() {
		return "", nil
	}
	h, err := bc.HashAt(height)
	if err != nil {
		return "", nil // the tip moved below it meanwhile
	}
	return h.String(), nil
}

// Close implements Cluster.
func (c *MemCluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	nodes := make([]*memNode, 0, len(c.order))
	for _, name := range c.order {
		nodes = append(nodes, c.nodes[name])
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, nd := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.stopNode(nd, false)
		}()
	}
	wg.Wait()
	c.net.Close()
	return nil
}

// GroupsString renders a partition "a,b|c,d".
func GroupsString(groups [][]string) string {
	s := ""
	for i, g := range groups {
		if i > 0 {
			s += "|"
		}
		for j, name := range g {
			if j > 0 {
				s += ","
			}
			s += name
		}
	}
	return s
}
