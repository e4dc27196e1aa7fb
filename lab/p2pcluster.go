package lab

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/chaind/chaind/api"
	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/miner"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/wallet"
)

// p2pDialTimeout bounds one dial between devnet nodes.
const p2pDialTimeout = 10 * time.Second

// P2PConfig configures a P2PCluster.
type P2PConfig struct {
	Network *Network
	// Dir holds one data directory per node (Pebble store, peer key).
	Dir         string
	Observatory *Observatory
	Logger      *slog.Logger
}

// P2PCluster runs a devnet's nodes in this process as full node.Nodes (the
// same code as `chaind run`: Pebble store, libp2p host on loopback, sync,
// mempool, miner), each in its own directory under Dir. Nodes are peered
// along the network's links at start; the hosts' own discovery may add
// links. Partitions and link shapes go through the hosts' p2p.Shaper: a
// partition cuts every pair of nodes on different sides (connections closed
// and refused by connection gating, both ends) and a link's shape delays
// what each end sends (see package p2p/libp2p for how loss and bandwidth
// are modelled on a reliable stream). Selfish miners are not supported on
// it.
type P2PCluster struct {
	params *consensus.Params
	obs    *Observatory
	log    *slog.Logger
	dir    string

	mu      sync.Mutex
	network *Network
	nodes   map[string]*p2pNode
	order   []string
	links   map[Pair]Shape
	groups  [][]string // the partition; nil when healed
	closed  bool
}

type p2pNode struct {
	spec    Node
	key     *wallet.Key
	dir     string
	peerID  p2p.PeerID // its host's id, stable across restarts (kept in dir)
	running bool
	n       *node.Node
	api     *api.Server // the node's HTTP API on a free loopback port

	evMu        sync.Mutex
	disconnects int
}

// NewP2PCluster starts every node of cfg.Network on libp2p over loopback.
func NewP2PCluster(cfg P2PConfig) (*P2PCluster, error) {
	n := cfg.Network
	if n == nil || len(n.Nodes) == 0 {
		return nil, fmt.Errorf("%w: no nodes", ErrBadNetwork)
	}
	if n.Simulated {
		return nil, fmt.Errorf("%w: simulated mining needs the in-memory network", ErrUnsupported)
	}
	for _, x := range n.Nodes {
		if x.Strategy != miner.StrategyHonest {
			return nil, fmt.Errorf("%w: %s miner %s on libp2p", ErrUnsupported, x.Strategy, x.Name)
		}
	}
	if cfg.Dir == "" {
		return nil, fmt.Errorf("%w: a data directory is required", ErrBadNetwork)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &P2PCluster{obs: cfg.Observatory, log: log, dir: cfg.Dir, nodes: map[string]*p2pNode{}, links: map[Pair]Shape{}}
	if c.obs == nil {
		c.obs = NewObservatory(nil)
	}
	nw := *n
	c.network = &nw
	keys := make([]*wallet.Key, len(n.Nodes))
	for i, x := range n.Nodes {
		keys[i] = nodeKey(n.Name, x.Name)
	}
	c.params = labParams(n, keys)
	for _, l := range n.Links {
		c.links[l.Pair] = l.Shape
	}
	for i, x := range n.Nodes {
		nd := &p2pNode{spec: x, key: keys[i], dir: filepath.Join(cfg.Dir, x.Name)}
		c.nodes[x.Name] = nd
		c.order = append(c.order, x.Name)
		if err := c.startNode(nd, false); err != nil {
			c.Close()
			return nil, err
		}
		c.obs.Add(Event{T: time.Now(), Kind: KindStart, Node: x.Name, Share: x.Share})
	}
	// Mining starts once every node runs, so the first blocks find the
	// whole network.
	for _, name := range c.order {
		if nd := c.nodes[name]; nd.spec.Mining && nd.spec.Share > 0 {
			nd.n.Miner.Start()
		}
	}
	return c, nil
}

// Params returns the cluster's consensus rules.
func (c *P2PCluster) Params() *consensus.Params { return c.params }

// Observatory returns the observatory the nodes report to.
func (c *P2PCluster) Observatory() *Observatory { return c.obs }

// startNode starts a node on its directory, peers it along its links and,
// if mine, starts its miner.
func (c *P2PCluster) startNode(nd *p2pNode, mine bool) error {
	name := nd.spec.Name
	if err := os.MkdirAll(nd.dir, 0o700); err != nil {
		return fmt.Errorf("node %s: %w", name, err)
	}
	n, err := node.New(node.Config{Params: c.params, DataDir: nd.dir, Threads: 1, P2PListen: "127.0.0.1:0",
		MinerAddress: chain.FormatAddress(c.params.AddressPrefix, nd.key.Address()),
		Logger:       c.log.With("node", name),
		OnMined: func(b *chain.Block, _ bool) {
			c.obs.Add(Event{T: time.Now(), Kind: KindFound, Node: name, Hash: b.Hash().String(),
				Parent: b.Header.PrevHash.String(), Height: b.Header.Height})
		}})
	if err != nil {
		return fmt.Errorf("node %s: %w", name, err)
	}
	nd.evMu.Lock()
	nd.disconnects = 0
	nd.evMu.Unlock()
	n.Chain.Subscribe(func(ev blockchain.Notification) { c.onChain(nd, ev) })
	n.Pool.Subscribe(func(tx *chain.Tx) {
		c.obs.Add(Event{T: time.Now(), Kind: KindTx, Node: name, Hash: tx.ID().String()})
	})
	if err := n.Miner.SetHashRate(c.network.HashRate * nd.spec.Share); err != nil {
		n.Stop()
		return fmt.Errorf("node %s: %w", name, err)
	}
	srv := api.New(n, api.Config{Addr: "127.0.0.1:0", Logger: c.log.With("node", name, "sys", "api")})
	if err := srv.Start(context.Background()); err != nil {
		n.Stop()
		return fmt.Errorf("node %s: API: %w", name, err)
	}
	if err := n.Start(context.Background()); err != nil {
		stopAPI(srv)
		n.Stop()
		return fmt.Errorf("node %s: %w", name, err)
	}
	c.mu.Lock()
	nd.n, nd.api, nd.running, nd.peerID = n, srv, true, p2p.PeerID(n.PeerID())
	acts := c.linkActsLocked(name)
	var peers []string
	for p := range c.links {
		other := ""
		switch name {
		case p.A:
			other = p.B
		case p.B:
			other = p.A
		}
		if o := c.nodes[other]; o != nil && o.running && c.side(name) == c.side(other) {
			peers = append(peers, o.n.ListenAddrs()...)
		}
	}
	c.mu.Unlock()
	c.apply(acts)
	for _, a := range peers {
		ctx, cancel := context.WithTimeout(context.Background(), p2pDialTimeout)
		if _, err := n.AddPeer(ctx, a); err != nil {
			c.log.Warn("devnet: dial", "node", name, "peer", a, "err", err)
		}
		cancel()
	}
	if mine && nd.spec.Mining && nd.spec.Share > 0 {
		n.Miner.Start()
	}
	return nil
}

func (c *P2PCluster) onChain(nd *p2pNode, ev blockchain.Notification) {
	switch ev.Type {
	case blockchain.BlockConnected:
		c.obs.Add(Event{T: time.Now(), Kind: KindBlock, Node: nd.spec.Name, Hash: ev.Hash.String(),
			Parent: ev.Block.Header.PrevHash.String(), Height: ev.Height})
	case blockchain.BlockDisconnected:
		nd.evMu.Lock()
		nd.disconnects++
		nd.evMu.Unlock()
	case blockchain.TipChanged:
		nd.evMu.Lock()
		depth := nd.disconnects
		nd.disconnects = 0
		nd.evMu.Unlock()
		if ev.Reorg && depth > 0 {
			c.obs.Add(Event{T: time.Now(), Kind: KindReorg, Node: nd.spec.Name, Hash: ev.Hash.String(), Height: ev.Height, Depth: depth})
		}
	}
}

func (c *P2PCluster) get(name string, mustRun bool) (*p2pNode, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	nd, ok := c.nodes[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownNode, name)
	}
	if mustRun && !nd.running {
		return nil, fmt.Errorf("%w: %s", ErrStopped, name)
	}
	return nd, nil
}

// Network implements Cluster.
func (c *P2PCluster) Network() *Network {
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
	slices.SortFunc(n.Links, func(a, b Link) int { return cmpStr(a.Pair.String(), b.Pair.String()) })
	return &n
}

// Status implements Cluster.
func (c *P2PCluster) Status() []NodeStatus {
	c.mu.Lock()
	nodes := make([]*p2pNode, 0, len(c.order))
	for _, name := range c.order {
		nodes = append(nodes, c.nodes[name])
	}
	c.mu.Unlock()
	var out []NodeStatus
	for _, nd := range nodes {
		c.mu.Lock()
		s := NodeStatus{Name: nd.spec.Name, Running: nd.running, Address: chain.FormatAddress(c.params.AddressPrefix, nd.key.Address()),
			Mining: nd.spec.Mining && nd.spec.Share > 0, Strategy: nd.spec.Strategy, Share: nd.spec.Share}
		n := nd.n
		c.mu.Unlock()
		if s.Running && n != nil {
			tip := n.Chain.Tip()
			s.PeerID, s.Height, s.Tip = n.PeerID(), tip.Height, tip.Hash.String()
			s.API = "http://" + nd.api.Addr()
			s.Peers, s.MempoolTxs, s.HashRate = n.PeerCount(), n.Pool.Len(), n.Miner.HashRate()
		}
		out = append(out, s)
	}
	return out
}

// Partition implements Cluster: every pair of nodes on different sides
// is cut at both ends until Heal.
func (c *P2PCluster) Partition(groups [][]string) error {
	c.mu.Lock()
	if err := checkGroups(groups, c.nodes); err != nil {
		c.mu.Unlock()
		return err
	}
	c.groups = groups
	acts := c.linkActsLocked("")
	c.mu.Unlock()
	c.apply(acts)
	c.obs.Add(Event{T: time.Now(), Kind: KindPartition, Detail: GroupsString(groups)})
	return nil
}

// Heal implements Cluster: the cuts are lifted and the nodes redial the
// peers they keep.
func (c *P2PCluster) Heal() error {
	c.mu.Lock()
	c.groups = nil
	acts := c.linkActsLocked("")
	c.mu.Unlock()
	c.apply(acts)
	c.obs.Add(Event{T: time.Now(), Kind: KindHeal})
	return nil
}

// Shape implements Cluster: both ends delay what they send on the link;
// two nodes that were not linked are linked.
func (c *P2PCluster) Shape(p Pair, s Shape) error {
	if err := s.Check(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if p.A == p.B {
		return fmt.Errorf("%w: a link joins two nodes", ErrBadRequest)
	}
	p = pairOf(p.A, p.B)
	c.mu.Lock()
	for _, name := range []string{p.A, p.B} {
		if _, ok := c.nodes[name]; !ok {
			c.mu.Unlock()
			return fmt.Errorf("%w: %q", ErrUnknownNode, name)
		}
	}
	_, linked := c.links[p]
	c.links[p] = s
	acts := c.linkActsLocked(p.A)
	a, b := c.nodes[p.A], c.nodes[p.B]
	var dial *node.Node
	var addrs []string
	if !linked && a.running && b.running && c.side(p.A) == c.side(p.B) {
		dial, addrs = a.n, b.n.ListenAddrs()
	}
	c.mu.Unlock()
	c.apply(acts)
	for _, addr := range addrs {
		ctx, cancel := context.WithTimeout(context.Background(), p2pDialTimeout)
		_, err := dial.AddPeer(ctx, addr)
		cancel()
		if err == nil {
			break
		}
		c.log.Warn("devnet: dial", "node", p.A, "peer", addr, "err", err)
	}
	c.obs.Add(Event{T: time.Now(), Kind: KindShape, Detail: p.String() + " " + s.String()})
	return nil
}

// linkAct is one setting of one node's host: its cut of, or its link's
// shape to, another node's peer.
type linkAct struct {
	from, to string
	host     p2p.Shaper
	peer     p2p.PeerID
	cut      bool
	shape    p2p.LinkShape
}

// side returns the group of the partition name is in (0: in none, the
// group of the rest). Called with mu held.
func (c *P2PCluster) side(name string) int {
	for i, g := range c.groups {
		if slices.Contains(g, name) {
			return i + 1
		}
	}
	return 0
}

// linkActsLocked lists the cut and the shape every running node's host
// should hold towards every other node that has run (only those involving
// name, if it is not ""), from the partition and the links' shapes.
// Called with mu held.
func (c *P2PCluster) linkActsLocked(name string) []linkAct {
	var acts []linkAct
	for _, x := range c.order {
		nx := c.nodes[x]
		sh, ok := p2pShaper(nx)
		if !ok {
			continue
		}
		for _, y := range c.order {
			ny := c.nodes[y]
			if x == y || ny.peerID == "" || name != "" && x != name && y != name {
				continue
			}
			acts = append(acts, linkAct{from: x, to: y, host: sh, peer: ny.peerID,
				cut: c.side(x) != c.side(y), shape: c.links[pairOf(x, y)].linkShape()})
		}
	}
	return acts
}

// p2pShaper returns a running node's host as a p2p.Shaper.
func p2pShaper(nd *p2pNode) (p2p.Shaper, bool) {
	if !nd.running || nd.n == nil || nd.n.Net == nil {
		return nil, false
	}
	sh, ok := nd.n.Net.(p2p.Shaper)
	return sh, ok
}

// apply sets the shapes, then the cuts (an uncut kept peer is redialled
// at once, on its shaped link).
func (c *P2PCluster) apply(acts []linkAct) {
	for _, a := range acts {
		if err := a.host.ShapeLink(a.peer, a.shape); err != nil {
			c.log.Warn("devnet: shape", "node", a.from, "peer", a.to, "err", err)
		}
	}
	for _, a := range acts {
		op := a.host.Uncut
		if a.cut {
			op = a.host.Cut
		}
		if err := op(a.peer); err != nil {
			c.log.Warn("devnet: cut", "node", a.from, "peer", a.to, "cut", a.cut, "err", err)
		}
	}
}

// Stop implements Cluster.
func (c *P2PCluster) Stop(name string) error { return c.halt(name, KindStop) }

// Crash implements Cluster. In one process a node cannot be killed; its
// network goes first and the rest follows, which its peers see as a
// crash. The store's atomic batches are what a real kill tests
// (cmd/chaind's SIGKILL test).
func (c *P2PCluster) Crash(name string) error { return c.halt(name, KindCrash) }

func (c *P2PCluster) halt(name, kind string) error {
	nd, err := c.get(name, true)
	if err != nil {
		return err
	}
	c.mu.Lock()
	nd.running = false
	n, srv := nd.n, nd.api
	c.mu.Unlock()
	if kind == KindCrash && n.Net != nil {
		n.Net.Close()
	}
	stopAPI(srv)
	if err := n.Stop(); err != nil {
		c.log.Warn("devnet: stop", "node", name, "err", err)
	}
	c.obs.Add(Event{T: time.Now(), Kind: kind, Node: name})
	return nil
}

// Start implements Cluster.
func (c *P2PCluster) Start(name string) error {
	nd, err := c.get(name, false)
	if err != nil {
		return err
	}
	c.mu.Lock()
	running := nd.running
	c.mu.Unlock()
	if running {
		return fmt.Errorf("%w: %s", ErrRunning, name)
	}
	if err := c.startNode(nd, true); err != nil {
		return err
	}
	c.obs.Add(Event{T: time.Now(), Kind: KindStart, Node: name, Share: nd.spec.Share})
	return nil
}

// Add implements Cluster.
func (c *P2PCluster) Add(name string, peers []string) error {
	c.mu.Lock()
	if err := checkAdd(name, peers, c.nodes); err != nil {
		c.mu.Unlock()
		return err
	}
	for _, p := range peers {
		c.links[pairOf(name, p)] = Shape{}
	}
	nd := &p2pNode{spec: Node{Name: name, Strategy: miner.StrategyHonest}, key: nodeKey(c.network.Name, name), dir: filepath.Join(c.dir, name)}
	c.nodes[name] = nd
	c.order = append(c.order, name)
	c.mu.Unlock()
	if err := c.startNode(nd, true); err != nil {
		return err
	}
	c.obs.Add(Event{T: time.Now(), Kind: KindAdd, Node: name, Detail: fmt.Sprint(peers)})
	return nil
}

// Mine implements Cluster.
func (c *P2PCluster) Mine(ctx context.Context, name string, n int) ([]string, error) {
	if err := checkMine(n); err != nil {
		return nil, err
	}
	nd, err := c.get(name, true)
	if err != nil {
		return nil, err
	}
	c.obs.Add(Event{T: time.Now(), Kind: KindMine, Node: name, Detail: fmt.Sprint(n)})
	return mineBlocks(ctx, name, n, nd.n.Mine)
}

// SetShare implements Cluster.
func (c *P2PCluster) SetShare(name string, share float64) error {
	if err := checkShare(share); err != nil {
		return err
	}
	nd, err := c.get(name, true)
	if err != nil {
		return err
	}
	if err := nd.n.Miner.SetHashRate(c.network.HashRate * share); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	c.mu.Lock()
	nd.spec.Share, nd.spec.Mining = share, share > 0
	c.mu.Unlock()
	if share > 0 {
		nd.n.Miner.Start()
	} else {
		nd.n.Miner.Stop()
	}
	c.obs.Add(Event{T: time.Now(), Kind: KindHashRate, Node: name, Share: share})
	return nil
}

// Send implements Cluster.
func (c *P2PCluster) Send(from, to string, amount uint64) (string, error) {
	if amount == 0 {
		return "", fmt.Errorf("%w: amount 0", ErrBadRequest)
	}
	src, err := c.get(from, true)
	if err != nil {
		return "", err
	}
	dst, err := c.get(to, false)
	if err != nil {
		return "", err
	}
	src.evMu.Lock()
	defer src.evMu.Unlock()
	_, _, next := src.n.Pool.Pending(src.key.Address())
	tx := &chain.Tx{To: dst.key.Address(), Amount: amount, Fee: 1, Nonce: next}
	src.key.SignTx(tx, c.params.GenesisHash())
	if errs := src.n.SubmitTxs([]*chain.Tx{tx}); len(errs) > 0 && errs[0] != nil {
		return "", fmt.Errorf("%w: node %s: %w", ErrBadRequest, from, errs[0])
	}
	return tx.ID().String(), nil
}

// Mined implements Cluster.
func (c *P2PCluster) Mined(name, txid string) (bool, error) {
	nd, err := c.get(name, true)
	if err != nil {
		return false, err
	}
	id, err := chain.ParseHash(txid)
	if err != nil {
		return false, fmt.Errorf("%w: transaction id: %w", ErrBadRequest, err)
	}
	_, _, err = nd.n.Chain.TxLocation(id)
	return err == nil, nil
}

// HashAt implements Cluster.
func (c *P2PCluster) HashAt(name string, height uint32) (string, error) {
	nd, err := c.get(name, true)
	if err != nil {
		return "", err
	}
	if height > nd.n.Chain.Height() {
		return "", nil
	}
	h, err := nd.n.Chain.HashAt(height)
	if err != nil {
		return "", nil
	}
	return h.String(), nil
}

// Close implements Cluster.
func (c *P2PCluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	var run []*p2pNode
	for _, name := range c.order {
		if nd := c.nodes[name]; nd.running {
			nd.running = false
			run = append(run, nd)
		}
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, nd := range run {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stopAPI(nd.api)
			if err := nd.n.Stop(); err != nil {
				c.log.Warn("devnet: stop", "node", nd.spec.Name, "err", err)
			}
		}()
	}
	wg.Wait()
	return nil
}

// stopAPI shuts a node's API down, waiting a little for requests in flight.
func stopAPI(srv *api.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}
