package testnet

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/internal/netlab"
	"github.com/chaind/chaind/internal/testnet/wait"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/libp2p"
	"github.com/chaind/chaind/p2p/memnet"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/wallet"
)

// Defaults of Config.
const (
	// DefaultFunds is what the default network's genesis gives each node's key.
	DefaultFunds = 1_000_000_000
	// DefaultStatusInterval is the nodes' status interval: short, so that
	// tests converge in well under a second after a heal.
	DefaultStatusInterval = 500 * time.Millisecond
	// DefaultRequestTimeout is the nodes' request timeout.
	DefaultRequestTimeout = 3 * time.Second
	// startTimeout bounds starting one node.
	startTimeout = 10 * time.Second
)

// Transport is the network a Cluster's nodes run on (see netlab).
type Transport = netlab.Transport

const (
	// Memnet is one in-memory network (p2p/memnet): the cluster makes the
	// links, and partitions and shapes them.
	Memnet = netlab.Memnet
	// Libp2p gives every node its own libp2p host on 127.0.0.1 with a
	// free port, built as `chaind run` builds it (identity key in the
	// node's data directory, so it survives Stop and Crash), with
	// discovery (DHT, peer exchange, mDNS) off so that the test makes the
	// topology: Connect dials, Disconnect closes the connections.
	// Partition and Heal need networks that can cut links (see Cutter);
	// Shape and ShapeLink need networks that shape them (p2p.Shaper).
	Libp2p = netlab.Libp2p
)

// ErrUnsupported is the failure of a control the nodes' networks cannot
// carry out (link shapes or partitions where they cannot shape or cut).
var ErrUnsupported = netlab.ErrUnsupported

// Cutter is what Partition and Heal need of a node's network off memnet.
type Cutter = netlab.Cutter

// LogEnv names the environment variable that turns the nodes' logs on
// ("debug" or "info"); they are discarded otherwise.
const LogEnv = "CHAIND_TESTNET_LOG"

// Config configures a Cluster.
type Config struct {
	// Nodes is the number of nodes (at least 1).
	Nodes int
	// Transport is the network the nodes run on (default Memnet).
	Transport Transport
	// Params is the network (default: regtest funding chaintest.Key(i)
	// with DefaultFunds for every node i).
	Params *consensus.Params
	// Link is the parameters of links made by Connect (default: none of
	// latency, jitter, loss or bandwidth limit); on libp2p it needs hosts
	// that shape links, as ShapeLink.
	Link memnet.LinkParams
	// Seed drives memnet's loss and jitter.
	Seed uint64
	// Wrap, when set, wraps node i's network each time the node is built
	// (New, Start): the node runs on what it returns. Tests put fault
	// injectors or gates above the transport with it.
	Wrap func(i int, net p2p.Network) p2p.Network
	// StatusInterval and RequestTimeout tune every node's syncer
	// (DefaultStatusInterval, DefaultRequestTimeout when zero).
	StatusInterval time.Duration
	RequestTimeout time.Duration
	// Pebble keeps each node's chain in a Pebble store under its data
	// directory instead of in memory.
	Pebble bool
	// Mine starts continuous mining on every node.
	Mine bool
	// Logger receives the nodes' logs (default: discarded, see LogEnv).
	Logger *slog.Logger
}

// Cluster is N nodes on one memnet network or on libp2p over loopback,
// a testing.TB face of a netlab.Lab. Its methods are meant for the test's
// goroutine.
type Cluster struct {
	t      testing.TB
	cfg    Config
	lab    *netlab.Lab
	Params *consensus.Params
	// Net is the memnet network (nil on Libp2p).
	Net   *memnet.Net
	nodes []*Node
}

// Node is one node of a Cluster: its identity, key, data directory and
// store outlive Stop and Crash; the running node.Node does not.
type Node struct {
	c     *Cluster
	m     *netlab.Member
	Index int
	ID    p2p.PeerID
	Key   *wallet.Key
	Dir   string
	mem   store.Store // the memory store kept across restarts (nil with Pebble)
}

// service is a running node.Node as netlab sees it.
type service struct{ *node.Node }

func (s service) Knows(id p2p.PeerID) bool { return netlab.SyncKnows(s.Sync, id) }

// Logger returns the logger of LogEnv: discarded unless it says "debug"
// or "info".
func Logger() *slog.Logger {
	switch os.Getenv(LogEnv) {
	case "debug":
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	case "info":
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// New builds and starts cfg.Nodes nodes on a fresh memnet network or on
// fresh libp2p hosts (cfg.Transport), with no links between them. Cleanup
// stops them all.
func New(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	if cfg.Nodes < 1 {
		t.Fatalf("testnet: %d nodes", cfg.Nodes)
	}
	if cfg.Params == nil {
		cfg.Params = chaintest.Params(chaintest.Keys(cfg.Nodes), DefaultFunds)
	}
	if cfg.StatusInterval <= 0 {
		cfg.StatusInterval = DefaultStatusInterval
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = Logger()
	}
	c := &Cluster{t: t, cfg: cfg, Params: cfg.Params}
	lab, err := netlab.New(netlab.Config{Transport: cfg.Transport, Seed: cfg.Seed, Link: cfg.Link, Logger: cfg.Logger,
		Params: cfg.Params, Wrap: cfg.Wrap, Start: c.startNode})
	if err != nil {
		t.Fatalf("testnet: %v", err)
	}
	c.lab, c.Net = lab, lab.Memnet()
	root := t.TempDir() // made first so that it is removed after Close
	t.Cleanup(c.Close)
	for i := 0; i < cfg.Nodes; i++ {
		nd := &Node{c: c, Index: i, Key: chaintest.Key(i), Dir: filepath.Join(root, fmt.Sprintf("n%d", i))}
		if err := os.MkdirAll(nd.Dir, 0o700); err != nil {
			t.Fatalf("testnet: %v", err)
		}
		m, err := lab.Add(fmt.Sprintf("n%d", i), nd.Dir)
		if err != nil {
			t.Fatalf("testnet: node %d: %v", i, err)
		}
		nd.m, nd.ID = m, m.ID
		if err := wallet.SaveDevKey(filepath.Join(nd.Dir, node.DevKeyFile), nd.Key); err != nil {
			t.Fatalf("testnet: %v", err)
		}
		if !cfg.Pebble {
			nd.mem = store.NewMemory()
		}
		c.nodes = append(c.nodes, nd)
	}
	for i := range c.nodes {
		if err := lab.Start(i); err != nil {
			t.Fatalf("testnet: start %s: %v", c.nodes[i].ID, err)
		}
	}
	return c
}

// startNode builds node m's node.Node on its store and network and starts
// it (netlab.Config.Start).
func (c *Cluster) startNode(m *netlab.Member, net p2p.Network) (netlab.Service, error) {
	nd := c.nodes[m.Index]
	cfg := node.Config{
		Params:         c.Params,
		DataDir:        nd.Dir,
		Mine:           c.cfg.Mine,
		Threads:        1,
		Network:        net,
		StatusInterval: c.cfg.StatusInterval,
		RequestTimeout: c.cfg.RequestTimeout,
		Logger:         c.cfg.Logger.With("node", string(nd.ID)),
	}
	if nd.mem != nil {
		cfg.Store = nd.mem
	}
	n, err := node.New(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		_ = n.Stop()
		return nil, err
	}
	return service{n}, nil
}

// Close stops every node and the network. Cleanup calls it; calling it
// again does nothing.
func (c *Cluster) Close() {
	if err := c.lab.Close(); err != nil {
		c.t.Errorf("testnet: %v", err)
	}
}

// Transport returns the network the nodes run on.
func (c *Cluster) Transport() Transport { return c.cfg.Transport }

// Len returns the number of nodes.
func (c *Cluster) Len() int { return len(c.nodes) }

// N returns node i.
func (c *Cluster) N(i int) *Node { return c.nodes[i] }

// Nodes returns every node, in order.
func (c *Cluster) Nodes() []*Node { return append([]*Node(nil), c.nodes...) }

// Node returns the running node.Node, or nil while the node is stopped.
func (nd *Node) Node() *node.Node {
	if s, ok := nd.m.Service().(service); ok {
		return s.Node
	}
	return nil
}

// Running reports whether the node is running.
func (nd *Node) Running() bool { return nd.m.Running() }

// Host returns the node's libp2p host (nil on memnet or while stopped).
func (nd *Node) Host() *libp2p.Host { return nd.m.Host() }

// Addr returns an address other hosts can dial the node at: its TCP
// loopback multiaddr with /p2p/ on libp2p, "" on memnet or while stopped.
func (nd *Node) Addr() string { return nd.m.Addr() }

// KnowsStatus reports whether the node's syncer has had a status exchange
// with the peer id.
func (nd *Node) KnowsStatus(id p2p.PeerID) bool {
	n := nd.Node()
	return n != nil && netlab.SyncKnows(n.Sync, id)
}

// must returns the running node.Node or fails the test.
func (nd *Node) must() *node.Node {
	nd.c.t.Helper()
	n := nd.Node()
	if n == nil {
		nd.c.t.Fatalf("testnet: %s is stopped", nd.ID)
	}
	return n
}

// Tip returns the node's tip (the zero Tip while it is stopped).
func (nd *Node) Tip() blockchain.Tip {
	n := nd.Node()
	if n == nil {
		return blockchain.Tip{}
	}
	return n.Chain.Tip()
}

// Address returns the address of the node's key.
func (nd *Node) Address() chain.Address { return nd.Key.Address() }

// Mine mines one block on the node now, with its pending transactions,
// and returns it once it is the node's tip.
func (nd *Node) Mine(data string) *chain.Block {
	nd.c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := nd.must().Mine(ctx, data)
	if err != nil {
		nd.c.t.Fatalf("testnet: %s: mine: %v", nd.ID, err)
	}
	return b
}

// Send signs a transfer from the node's key and admits it to its pool.
func (nd *Node) Send(to chain.Address, amount, fee uint64) *chain.Tx {
	nd.c.t.Helper()
	tx, err := nd.must().Send(nd.Address(), to, amount, fee, "")
	if err != nil {
		nd.c.t.Fatalf("testnet: %s: send: %v", nd.ID, err)
	}
	return tx
}

// HasTx reports whether the node's pool holds the transaction.
func (nd *Node) HasTx(id chain.Hash) bool {
	n := nd.Node()
	return n != nil && n.Pool.Has(id)
}

// Connect links nodes a and b (a dials b) with the cluster's link
// parameters (Config.Link), and the link is dialled again when either node
// is started again. On libp2p both nodes must be running; Connect returns
// once each node's syncer has exchanged status with the other and each is
// in the other's gossip mesh.
func (c *Cluster) Connect(a, b int) {
	c.t.Helper()
	c.connect([][2]int{{a, b}})
}

// ConnectPeers links node a to each of peers as Connect does, dialling
// them all before waiting for the gossip meshes (gossipsub grafts at a
// heartbeat), so that a joining node meets its peers at about one time.
func (c *Cluster) ConnectPeers(a int, peers ...int) {
	c.t.Helper()
	pairs := make([][2]int, len(peers))
	for i, b := range peers {
		pairs[i] = [2]int{a, b}
	}
	c.connect(pairs)
}

// ConnectAll links every pair of nodes.
func (c *Cluster) ConnectAll() {
	c.t.Helper()
	var pairs [][2]int
	for a := range c.nodes {
		for b := a + 1; b < len(c.nodes); b++ {
			pairs = append(pairs, [2]int{a, b})
		}
	}
	c.connect(pairs)
}

// Line links node i to node i+1 for every i.
func (c *Cluster) Line() {
	c.t.Helper()
	var pairs [][2]int
	for i := 0; i+1 < len(c.nodes); i++ {
		pairs = append(pairs, [2]int{i, i + 1})
	}
	c.connect(pairs)
}

// connect links each pair (the first dials the second); on libp2p it dials
// them all, then waits for their gossip meshes.
func (c *Cluster) connect(pairs [][2]int) {
	c.t.Helper()
	if c.Net == nil {
		for _, l := range pairs {
			if x, y := c.nodes[l[0]], c.nodes[l[1]]; !x.Running() || !y.Running() {
				c.t.Fatalf("testnet: connect %d-%d: both nodes must be running (%s: %t, %s: %t)", l[0], l[1], x.ID.Short(), x.Running(), y.ID.Short(), y.Running())
			}
		}
	}
	if err := c.lab.Link(c.cfg.Link, pairs...); err != nil {
		c.t.Fatalf("testnet: %v", err)
	}
}

// Disconnect removes the link between a and b (on libp2p: closes their
// connections, and no restart dials it again).
func (c *Cluster) Disconnect(a, b int) {
	c.t.Helper()
	if err := c.lab.Unlink(a, b); err != nil {
		c.t.Fatalf("testnet: disconnect %d-%d: %v", a, b, err)
	}
}

// Partition splits the nodes into groups (by index) that cannot reach
// each other; nodes named in no group form one more group. Links across
// groups go down until Heal. On libp2p it needs networks that can cut a
// link (Cut and Uncut, see Config.Wrap); without them it fails the test
// with ErrUnsupported.
func (c *Cluster) Partition(groups ...[]int) {
	c.t.Helper()
	if err := c.lab.Partition(groups...); err != nil {
		c.t.Fatalf("testnet: Partition on %v: %v", c.cfg.Transport, err)
	}
}

// Heal ends a partition (on libp2p: lifts the cuts and dials the links
// they took down again).
func (c *Cluster) Heal() {
	c.t.Helper()
	if err := c.lab.Heal(); err != nil {
		c.t.Fatalf("testnet: heal: %v", err)
	}
}

// Shape sets the delay, jitter and loss of the link between a and b.
func (c *Cluster) Shape(a, b int, delay, jitter time.Duration, loss float64) {
	c.t.Helper()
	p, _ := c.lab.Linked(a, b)
	p.Latency, p.Jitter, p.Loss = delay, jitter, loss
	c.shapeLink("Shape", a, b, p)
}

// ShapeLink sets every parameter of the link between a and b, bandwidth
// included. On libp2p it needs networks that shape links (p2p.Shaper: the
// host does; a Config.Wrap network may hide it) and shapes what each end
// sends, so the link is shaped both ways; a node started again gets its
// shapes back. What loss means there is in p2p.LinkShape's doc.
func (c *Cluster) ShapeLink(a, b int, p memnet.LinkParams) {
	c.t.Helper()
	c.shapeLink("ShapeLink", a, b, p)
}

func (c *Cluster) shapeLink(what string, a, b int, p memnet.LinkParams) {
	c.t.Helper()
	if err := c.lab.Shape(a, b, p); err != nil {
		c.t.Fatalf("testnet: %s %d-%d on %v: %v", what, a, b, c.cfg.Transport, err)
	}
}

// Stop shuts node i down cleanly. Its store and data directory remain.
func (c *Cluster) Stop(i int) {
	c.t.Helper()
	if err := c.lab.Stop(i); err != nil {
		c.t.Fatalf("testnet: stop %s: %v", c.nodes[i].ID, err)
	}
}

// Crash stops node i the abrupt way (see the package doc).
func (c *Cluster) Crash(i int) {
	c.t.Helper()
	if err := c.lab.Crash(i); err != nil {
		c.t.Fatalf("testnet: crash %s: %v", c.nodes[i].ID, err)
	}
}

// Start starts a stopped node i again on its store, data directory,
// identity and links (on libp2p it dials its linked running peers).
func (c *Cluster) Start(i int) {
	c.t.Helper()
	if err := c.lab.Start(i); err != nil {
		c.t.Fatalf("testnet: start %s: %v", c.nodes[i].ID, err)
	}
}

// WaitFor waits until cond holds, failing the test after timeout.
func (c *Cluster) WaitFor(timeout time.Duration, what string, cond func() bool) time.Duration {
	c.t.Helper()
	return wait.For(c.t, timeout, what, cond)
}

// Running returns the running nodes.
func (c *Cluster) Running() []*Node {
	var out []*Node
	for _, nd := range c.nodes {
		if nd.Running() {
			out = append(out, nd)
		}
	}
	return out
}

// pick returns the nodes with the given indexes, or every running node.
func (c *Cluster) pick(idx []int) []*Node {
	if len(idx) == 0 {
		return c.Running()
	}
	out := make([]*Node, len(idx))
	for k, i := range idx {
		out[k] = c.nodes[i]
	}
	return out
}

// WaitForTip waits until the nodes (every running node if none is named)
// have the tip hash.
func (c *Cluster) WaitForTip(timeout time.Duration, hash chain.Hash, nodes ...int) {
	c.t.Helper()
	ns := c.pick(nodes)
	wait.For(c.t, timeout, "tip "+hash.String()[:12]+" on "+names(ns), func() bool {
		for _, nd := range ns {
			if nd.Tip().Hash != hash {
				return false
			}
		}
		return true
	})
}

// WaitForHeight waits until the nodes (every running node if none is
// named) are at least at height.
func (c *Cluster) WaitForHeight(timeout time.Duration, height uint32, nodes ...int) {
	c.t.Helper()
	ns := c.pick(nodes)
	wait.For(c.t, timeout, fmt.Sprintf("height %d on %s", height, names(ns)), func() bool {
		for _, nd := range ns {
			if !nd.Running() || nd.Tip().Height < height {
				return false
			}
		}
		return true
	})
}

// WaitForConvergence waits until every running node has the same tip and
// returns it; on timeout the failure message summarises the tips.
func (c *Cluster) WaitForConvergence(timeout time.Duration) blockchain.Tip {
	c.t.Helper()
	if !wait.Until(timeout, func() bool { return SameTip(c.Running()...) }) {
		c.t.Fatalf("testnet: no convergence after %v: %s", timeout, TipSummary(c.Running()...))
	}
	return c.Running()[0].Tip()
}

// SameTip reports whether the nodes all have the same tip.
func SameTip(nodes ...*Node) bool {
	if len(nodes) == 0 {
		return true
	}
	h := nodes[0].Tip().Hash
	for _, nd := range nodes[1:] {
		if nd.Tip().Hash != h {
			return false
		}
	}
	return true
}

// TipSummary describes the nodes' tips for failure messages: how many
// nodes sit on each tip, at which height.
func TipSummary(nodes ...*Node) string {
	type group struct {
		height uint32
		names  []string
	}
	groups := map[chain.Hash]*group{}
	var order []chain.Hash
	for _, nd := range nodes {
		t := nd.Tip()
		g := groups[t.Hash]
		if g == nil {
			g = &group{height: t.Height}
			groups[t.Hash] = g
			order = append(order, t.Hash)
		}
		g.names = append(g.names, string(nd.ID))
	}
	var b strings.Builder
	for _, h := range order {
		g := groups[h]
		fmt.Fprintf(&b, "%d at %d %s (%s); ", len(g.names), g.height, h.String()[:12], strings.Join(g.names, " "))
	}
	return strings.TrimSuffix(b.String(), "; ")
}

func names(ns []*Node) string {
	s := make([]string, len(ns))
	for i, nd := range ns {
		s[i] = string(nd.ID)
	}
	return strings.Join(s, ",")
}
