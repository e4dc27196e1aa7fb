package lab

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/netlab"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/miner"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/wallet"
)

// base is what both clusters share: the named nodes on a netlab.Lab,
// their links by name and the controls, which know nothing of how a node
// is built (run). It implements Cluster.
type base struct {
	params *consensus.Params
	obs    *Observatory
	log    *slog.Logger
	lab    *netlab.Lab
	// build builds and starts a node's parts on net (netlab.Config.Start).
	build func(nd *labNode, net p2p.Network) (run, error)
	// scale divides link delays (time compression); addShape is the shape
	// of the links Add makes.
	scale    float64
	addShape Shape
	dir      string // libp2p: holds a data directory per node

	addMu   sync.Mutex // held by Add, so a name is checked and taken at once
	mu      sync.Mutex
	network *Network // the network started from; Nodes and Links are kept below
	nodes   map[string]*labNode
	order   []string
	byIndex []*labNode // by netlab member index
	links   map[Pair]Shape
}

// labNode is one node: its name, key and store outlive its runs.
type labNode struct {
	spec Node
	key  *wallet.Key
	m    *netlab.Member
	st   *store.Memory // memnet and ephemeral libp2p: the store kept across restarts

	evMu        sync.Mutex // also held while Send picks a nonce
	disconnects int        // blocks disconnected since the last tip change
}

// run is a node's running parts, built anew at every start.
type run interface {
	netlab.Service
	chain() *blockchain.Blockchain
	pool() *mempool.Pool
	miner() *miner.Miner
	// submit admits a transaction to the node's pool.
	submit(tx *chain.Tx) error
	// mine mines one block now.
	mine(ctx context.Context, data string) (*chain.Block, error)
	// setShare paces the miner at a share of the network's rate;
	// setMining turns it on or off.
	setShare(share float64) error
	setMining(on bool)
	// status fills what only this kind of node knows.
	status(s *NodeStatus)
}

// newBase returns a base on a netlab of cfg's transport with every node
// of n registered and none started; dir holds the nodes' data directories
// ("": none). The caller sets build.
func newBase(n *Network, obs *Observatory, log *slog.Logger, dir string, cfg netlab.Config) (*base, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if obs == nil {
		obs = NewObservatory(nil)
	}
	c := &base{obs: obs, log: log, scale: n.Compression, dir: dir, nodes: map[string]*labNode{}, links: map[Pair]Shape{}}
	nw := *n
	nw.Nodes, nw.Links = nil, nil
	c.network = &nw
	keys := make([]*wallet.Key, len(n.Nodes))
	for i, x := range n.Nodes {
		keys[i] = nodeKey(n.Name, x.Name)
	}
	c.params = labParams(n, keys)
	cfg.Logger, cfg.Params = log, c.params
	cfg.Start = func(m *netlab.Member, net p2p.Network) (netlab.Service, error) {
		c.mu.Lock()
		nd := c.byIndex[m.Index]
		c.mu.Unlock()
		return c.build(nd, net)
	}
	lab, err := netlab.New(cfg)
	if err != nil {
		return nil, err
	}
	c.lab = lab
	for i, x := range n.Nodes {
		if _, err := c.addNode(x, keys[i]); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// addNode registers a node (not started) and its netlab member.
func (c *base) addNode(spec Node, key *wallet.Key) (*labNode, error) {
	var dir string
	if c.dir != "" {
		dir = filepath.Join(c.dir, spec.Name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("node %s: %w", spec.Name, err)
		}
	}
	m, err := c.lab.Add(spec.Name, dir)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", spec.Name, err)
	}
	nd := &labNode{spec: spec, key: key, m: m}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes[spec.Name] = nd
	c.order = append(c.order, spec.Name)
	c.byIndex = append(c.byIndex, nd)
	return nd, nil
}

// link links pairs of nodes with a shape (scaled by the time compression).
func (c *base) link(s Shape, pairs ...Pair) {
	for _, p := range pairs {
		c.mu.Lock()
		c.links[pairOf(p.A, p.B)] = s
		a, b := c.nodes[p.A].m.Index, c.nodes[p.B].m.Index
		c.mu.Unlock()
		// A link that cannot be made or dialled now is the network's
		// business, as between real nodes: the control still holds.
		if err := c.lab.Link(s.Scale(c.scale).linkParams(), [2]int{a, b}); err != nil {
			c.log.Warn("devnet: link", "pair", p.String(), "err", err)
		}
	}
}

// begin makes the network's links, then starts every node in order (with
// mine, its miner too); on an error it closes the cluster.
func (c *base) begin(links []Link, mine bool) error {
	for _, l := range links {
		c.link(l.Shape, l.Pair)
	}
	for _, name := range c.order {
		nd := c.nodes[name]
		if err := c.start(nd, mine); err != nil {
			c.Close()
			return err
		}
		c.obs.Add(Event{T: time.Now(), Kind: KindStart, Node: name, Share: nd.spec.Share})
	}
	return nil
}

// start starts a node; with mine, its miner too if it mines.
func (c *base) start(nd *labNode, mine bool) error {
	if err := c.lab.Start(nd.m.Index); err != nil {
		if !nd.m.Running() {
			return fmt.Errorf("node %s: %w", nd.spec.Name, err)
		}
		c.log.Warn("devnet: start: links", "node", nd.spec.Name, "err", err) // it runs
	}
	if r := nd.run(); mine && r != nil {
		c.mu.Lock()
		on := nd.spec.Mining && nd.spec.Share > 0
		c.mu.Unlock()
		r.setMining(on)
	}
	return nil
}

// run returns the node's running parts, or nil while it is stopped.
func (nd *labNode) run() run {
	r, _ := nd.m.Service().(run)
	return r
}

// observe turns a node's chain and pool notifications into events: a
// block connected is a block seen; disconnects before a tip change are a
// reorg.
func (c *base) observe(nd *labNode, bc *blockchain.Blockchain, pool *mempool.Pool) {
	name := nd.spec.Name
	nd.evMu.Lock()
	nd.disconnects = 0
	nd.evMu.Unlock()
	bc.Subscribe(func(n blockchain.Notification) {
		switch n.Type {
		case blockchain.BlockConnected:
			c.obs.Add(Event{T: time.Now(), Kind: KindBlock, Node: name, Hash: n.Hash.String(),
				Parent: n.Block.Header.PrevHash.String(), Height: n.Height})
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
				c.obs.Add(Event{T: time.Now(), Kind: KindReorg, Node: name, Hash: n.Hash.String(), Height: n.Height, Depth: depth})
			}
		}
	})
	pool.Subscribe(func(tx *chain.Tx) {
		c.obs.Add(Event{T: time.Now(), Kind: KindTx, Node: name, Hash: tx.ID().String()})
	})
}

// found reports a node's find to the observatory.
func (c *base) found(name string, b *chain.Block) {
	c.obs.Add(Event{T: time.Now(), Kind: KindFound, Node: name, Hash: b.Hash().String(),
		Parent: b.Header.PrevHash.String(), Height: b.Header.Height})
}

// Params returns the cluster's consensus rules.
func (c *base) Params() *consensus.Params { return c.params }

// Observatory returns the observatory the nodes report to.
func (c *base) Observatory() *Observatory { return c.obs }

// get returns a node.
func (c *base) get(name string) (*labNode, error) {
	c.mu.Lock()
	nd, ok := c.nodes[name]
	c.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownNode, name)
	}
	return nd, nil
}

// running returns a running node and its parts.
func (c *base) running(name string) (*labNode, run, error) {
	nd, err := c.get(name)
	if err != nil {
		return nil, nil, err
	}
	r := nd.run()
	if r == nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrStopped, name)
	}
	return nd, r, nil
}

// Network implements Cluster.
func (c *base) Network() *Network {
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
		return cmp.Or(cmp.Compare(a.Pair.A, b.Pair.A), cmp.Compare(a.Pair.B, b.Pair.B))
	})
	return &n
}

// Status implements Cluster.
func (c *base) Status() []NodeStatus {
	c.mu.Lock()
	nodes := make([]*labNode, 0, len(c.order))
	for _, name := range c.order {
		nodes = append(nodes, c.nodes[name])
	}
	c.mu.Unlock()
	out := make([]NodeStatus, 0, len(nodes))
	for _, nd := range nodes {
		c.mu.Lock()
		s := NodeStatus{Name: nd.spec.Name, Address: chain.FormatAddress(c.params.AddressPrefix, nd.key.Address()),
			Mining: nd.spec.Mining && nd.spec.Share > 0, Strategy: nd.spec.Strategy, Share: nd.spec.Share}
		c.mu.Unlock()
		if r := nd.run(); r != nil {
			s.Running, s.PeerID = true, string(nd.m.ID)
			tip := r.chain().Tip()
			s.Height, s.Tip = tip.Height, tip.Hash.String()
			if net := nd.m.Network(); net != nil {
				s.Peers = len(net.Peers())
			}
			s.MempoolTxs, s.HashRate = r.pool().Len(), r.miner().HashRate()
			r.status(&s)
		}
		out = append(out, s)
	}
	return out
}

// Partition implements Cluster: at least one group, every name a node, no
// node in two groups.
func (c *base) Partition(groups [][]string) error {
	if len(groups) == 0 {
		return fmt.Errorf("%w: a partition needs at least one group", ErrBadRequest)
	}
	idx := make([][]int, len(groups))
	seen := map[string]bool{}
	for i, g := range groups {
		for _, name := range g {
			nd, err := c.get(name)
			if err != nil {
				return err
			}
			if seen[name] {
				return fmt.Errorf("%w: %s is in two groups", ErrBadRequest, name)
			}
			seen[name] = true
			idx[i] = append(idx[i], nd.m.Index)
		}
	}
	if err := c.lab.Partition(idx...); err != nil {
		return fmt.Errorf("partition: %w", err)
	}
	c.obs.Add(Event{T: time.Now(), Kind: KindPartition, Detail: GroupsString(groups)})
	return nil
}

// Heal implements Cluster.
func (c *base) Heal() error {
	if err := c.lab.Heal(); err != nil {
		return fmt.Errorf("heal: %w", err)
	}
	c.obs.Add(Event{T: time.Now(), Kind: KindHeal})
	return nil
}

// Shape implements Cluster: the link's delays are divided by the time
// compression; two nodes that were not linked are linked.
func (c *base) Shape(p Pair, s Shape) error {
	if err := s.Check(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if p.A == p.B {
		return fmt.Errorf("%w: a link joins two nodes", ErrBadRequest)
	}
	p = pairOf(p.A, p.B)
	for _, name := range []string{p.A, p.B} {
		if _, err := c.get(name); err != nil {
			return err
		}
	}
	c.link(s, p)
	c.obs.Add(Event{T: time.Now(), Kind: KindShape, Detail: p.String() + " " + s.String()})
	return nil
}

// Stop implements Cluster.
func (c *base) Stop(name string) error { return c.halt(name, false) }

// Crash implements Cluster. In one process a node cannot be killed; its
// network goes first and the rest follows, which its peers see as a
// crash. The store's atomic batches are what a real kill tests
// (cmd/chaind's SIGKILL test).
func (c *base) Crash(name string) error { return c.halt(name, true) }

func (c *base) halt(name string, crash bool) error {
	nd, _, err := c.running(name)
	if err != nil {
		return err
	}
	kind, stop := KindStop, c.lab.Stop
	if crash {
		kind, stop = KindCrash, c.lab.Crash
	}
	if err := stop(nd.m.Index); err != nil {
		c.log.Warn("devnet: stop", "node", name, "err", err)
	}
	c.obs.Add(Event{T: time.Now(), Kind: kind, Node: name})
	return nil
}

// Start implements Cluster.
func (c *base) Start(name string) error {
	nd, err := c.get(name)
	if err != nil {
		return err
	}
	if nd.m.Running() {
		return fmt.Errorf("%w: %s", ErrRunning, name)
	}
	if err := c.start(nd, true); err != nil {
		return err
	}
	c.obs.Add(Event{T: time.Now(), Kind: KindStart, Node: name, Share: nd.spec.Share})
	return nil
}

// Add implements Cluster: a relay (not mining) with a valid new name,
// linked to at least one peer with the cluster's shape for new links.
// Keys of nodes added later are not funded by the genesis.
func (c *base) Add(name string, peers []string) error {
	c.addMu.Lock()
	defer c.addMu.Unlock()
	if err := CheckName(name); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if len(peers) == 0 {
		return fmt.Errorf("%w: a new node needs at least one peer", ErrBadRequest)
	}
	if _, err := c.get(name); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, name)
	}
	for _, p := range peers {
		if _, err := c.get(p); err != nil {
			return fmt.Errorf("peer %q: %w", p, ErrUnknownNode)
		}
	}
	nd, err := c.addNode(Node{Name: name, Strategy: miner.StrategyHonest}, nodeKey(c.network.Name, name))
	if err != nil {
		return err
	}
	pairs := make([]Pair, len(peers))
	for i, p := range peers {
		pairs[i] = pairOf(name, p)
	}
	c.link(c.addShape, pairs...)
	if err := c.start(nd, true); err != nil {
		return err
	}
	c.obs.Add(Event{T: time.Now(), Kind: KindAdd, Node: name, Detail: fmt.Sprint(peers)})
	return nil
}

// MaxMineBlocks bounds one Mine control.
const MaxMineBlocks = 1000

// checkMine checks Mine's count of blocks.
func checkMine(n int) error {
	if n < 1 || n > MaxMineBlocks {
		return fmt.Errorf("%w: blocks %d not in 1..%d", ErrBadRequest, n, MaxMineBlocks)
	}
	return nil
}

// Mine implements Cluster.
func (c *base) Mine(ctx context.Context, name string, n int) ([]string, error) {
	if err := checkMine(n); err != nil {
		return nil, err
	}
	_, r, err := c.running(name)
	if err != nil {
		return nil, err
	}
	c.obs.Add(Event{T: time.Now(), Kind: KindMine, Node: name, Detail: fmt.Sprint(n)})
	var out []string // the hashes of the blocks mined before an error, with it
	for range n {
		b, err := r.mine(ctx, "")
		if err != nil {
			return out, fmt.Errorf("node %s: %w", name, err)
		}
		out = append(out, b.Hash().String())
	}
	return out, nil
}

// SetShare implements Cluster.
func (c *base) SetShare(name string, share float64) error {
	if !(share >= 0 && share <= 1) {
		return fmt.Errorf("%w: share %v%% not in 0..100%%", ErrBadRequest, share*100)
	}
	nd, r, err := c.running(name)
	if err != nil {
		return err
	}
	if err := r.setShare(share); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	c.mu.Lock()
	nd.spec.Share, nd.spec.Mining = share, share > 0
	c.mu.Unlock()
	r.setMining(share > 0)
	c.obs.Add(Event{T: time.Now(), Kind: KindHashRate, Node: name, Share: share})
	return nil
}

// Send implements Cluster: a transfer from one node's key to another's
// address, fee 1 base unit.
func (c *base) Send(from, to string, amount uint64) (string, error) {
	if amount == 0 {
		return "", fmt.Errorf("%w: amount 0", ErrBadRequest)
	}
	src, r, err := c.running(from)
	if err != nil {
		return "", err
	}
	dst, err := c.get(to)
	if err != nil {
		return "", err
	}
	src.evMu.Lock() // one nonce per transaction
	defer src.evMu.Unlock()
	_, _, next := r.pool().Pending(src.key.Address())
	tx := &chain.Tx{To: dst.key.Address(), Amount: amount, Fee: 1, Nonce: next}
	src.key.SignTx(tx, c.params.GenesisHash())
	if err := r.submit(tx); err != nil {
		return "", fmt.Errorf("%w: node %s: %w", ErrBadRequest, from, err)
	}
	return tx.ID().String(), nil
}

// Mined implements Cluster.
func (c *base) Mined(name, txid string) (bool, error) {
	_, r, err := c.running(name)
	if err != nil {
		return false, err
	}
	id, err := chain.ParseHash(txid)
	if err != nil {
		return false, fmt.Errorf("%w: transaction id: %w", ErrBadRequest, err)
	}
	_, _, err = r.chain().TxLocation(id)
	return err == nil, nil
}

// HashAt implements Cluster.
func (c *base) HashAt(name string, height uint32) (string, error) {
	_, r, err := c.running(name)
	if err != nil {
		return "", err
	}
	bc := r.chain()
	if height > bc.Height() {
		return "", nil
	}
	h, err := bc.HashAt(height)
	if err != nil {
		return "", nil // the tip moved below it meanwhile
	}
	return h.String(), nil
}

// Close implements Cluster: every node stops at once. Controls after it
// fail with p2p.ErrClosed.
func (c *base) Close() error {
	if err := c.lab.Close(); err != nil {
		c.log.Warn("devnet: close", "err", err)
	}
	return nil
}
