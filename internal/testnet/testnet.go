package testnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
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
	// connectTimeout bounds a libp2p dial and the status exchange after it.
	connectTimeout = 20 * time.Second
	// gossipOverhead is room for framing around the largest block, as
	// package node allows its libp2p host.
	gossipOverhead = 64 << 10
)

// Transport is the network a Cluster's nodes run on.
type Transport int

const (
	// Memnet is one in-memory network (p2p/memnet): the cluster makes the
	// links, and partitions and shapes them.
	Memnet Transport = iota
	// Libp2p gives every node its own libp2p host on 127.0.0.1 with a
	// free port, built as `chaind run` builds it (identity key in the
	// node's data directory, so it survives Stop and Crash), with
	// discovery (DHT, peer exchange, mDNS) off so that the test makes the
	// topology: Connect dials, Disconnect closes the connections.
	// Partition and Heal need networks that can cut links (see Cutter);
	// Shape and ShapeLink fail the test with ErrUnsupported.
	Libp2p
)

func (tr Transport) String() string {
	switch tr {
	case Memnet:
		return "memnet"
	case Libp2p:
		return "libp2p"
	}
	return fmt.Sprintf("Transport(%d)", int(tr))
}

// ErrUnsupported is the failure of a control the cluster's transport does
// not offer (link shapes on libp2p, and partitions where the nodes'
// networks cannot cut links).
var ErrUnsupported = errors.New("testnet: not supported on this transport")

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

// Cluster is N nodes on one memnet network or on libp2p over loopback.
// Its methods are meant for the test's goroutine.
type Cluster struct {
	t      testing.TB
	cfg    Config
	Params *consensus.Params
	// Net is the memnet network (nil on Libp2p).
	Net   *memnet.Net
	nodes []*Node
	links map[[2]int]bool // made by Connect, a < b
	cuts  map[[2]int]bool // off memnet: pairs Partition cut, a < b
	// shapes are the link shapes set off memnet, a < b, applied at both
	// ends and again when a node starts.
	shapes map[[2]int]p2p.LinkShape
}

// Node is one node of a Cluster: its identity, key, data directory and
// store outlive Stop and Crash; the running node.Node does not.
type Node struct {
	c     *Cluster
	Index int
	ID    p2p.PeerID
	Key   *wallet.Key
	Dir   string

	mem   store.Store // the memory store kept across restarts (nil with Pebble)
	mu    sync.Mutex
	run   *node.Node   // nil while stopped
	netNd *memnet.Node // Memnet: the node's network (nil while stopped)
	host  *libp2p.Host // Libp2p: the node's host (nil while stopped)
}

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
	c := &Cluster{t: t, cfg: cfg, Params: cfg.Params, links: map[[2]int]bool{}, cuts: map[[2]int]bool{}, shapes: map[[2]int]p2p.LinkShape{}}
	switch cfg.Transport {
	case Memnet:
		mn, err := memnet.New(memnet.Config{Seed: cfg.Seed, Link: cfg.Link, Logger: cfg.Logger})
		if err != nil {
			t.Fatalf("testnet: %v", err)
		}
		c.Net = mn
	case Libp2p:
	default:
		t.Fatalf("testnet: unknown transport %v", cfg.Transport)
	}
	root := t.TempDir() // made first so that it is removed after Close
	t.Cleanup(c.Close)
	for i := 0; i < cfg.Nodes; i++ {
		nd := &Node{c: c, Index: i, Key: chaintest.Key(i)}
		if c.Net != nil {
			nd.netNd = c.Net.NewNode()
			nd.ID = nd.netNd.Self()
			nd.Dir = filepath.Join(root, string(nd.ID))
		} else {
			nd.Dir = filepath.Join(root, fmt.Sprintf("n%d", i))
		}
		if err := os.MkdirAll(nd.Dir, 0o700); err != nil {
			t.Fatalf("testnet: %v", err)
		}
		if cfg.Transport == Libp2p {
			h, err := c.newHost(nd)
			if err != nil {
				t.Fatalf("testnet: node %d: %v", i, err)
			}
			nd.host, nd.ID = h, h.Self()
		}
		if err := wallet.SaveDevKey(filepath.Join(nd.Dir, node.DevKeyFile), nd.Key); err != nil {
			t.Fatalf("testnet: %v", err)
		}
		if !cfg.Pebble {
			nd.mem = store.NewMemory()
		}
		c.nodes = append(c.nodes, nd)
	}
	for _, nd := range c.nodes {
		if err := nd.start(); err != nil {
			t.Fatalf("testnet: start %s: %v", nd.ID, err)
		}
	}
	return c
}

// newHost builds node nd's libp2p host (not started) on loopback, with its
// identity key in the node's data directory.
func (c *Cluster) newHost(nd *Node) (*libp2p.Host, error) {
	cfg := libp2p.DefaultConfig(c.Params.GenesisHash().String())
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = nd.Dir
	cfg.DHT, cfg.PeerExchange, cfg.MDNS = false, false, false
	cfg.MaxGossipSize = c.Params.MaxBlockSize + gossipOverhead
	cfg.Logger = c.cfg.Logger.With("node", fmt.Sprintf("n%d", nd.Index))
	return libp2p.NewHost(cfg)
}

// start builds the node on its store and network and starts it.
func (nd *Node) start() error {
	c := nd.c
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.run != nil {
		return fmt.Errorf("%s is running", nd.ID)
	}
	var net p2p.Network
	switch {
	case c.Net != nil:
		if nd.netNd == nil {
			nn, err := c.Net.Reopen(nd.ID)
			if err != nil {
				return err
			}
			nd.netNd = nn
		}
		net = nd.netNd
	default:
		if nd.host == nil {
			h, err := c.newHost(nd)
			if err != nil {
				return err
			}
			if h.Self() != nd.ID {
				_ = h.Close()
				return fmt.Errorf("identity changed across the restart: %s, was %s", h.Self(), nd.ID)
			}
			nd.host = h
		}
		net = nd.host
	}
	if c.cfg.Wrap != nil {
		net = c.cfg.Wrap(nd.Index, net)
	}
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
		nd.closeNet()
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		_ = n.Stop()
		nd.closeNet()
		return err
	}
	nd.run = n
	return nil
}

// closeNet closes the node's network and forgets it; the next start
// builds it again. Called with nd.mu held.
func (nd *Node) closeNet() {
	if nd.netNd != nil {
		_ = nd.netNd.Close()
	}
	if nd.host != nil {
		_ = nd.host.Close()
	}
	nd.netNd, nd.host = nil, nil
}

// stop ends the running node; with crash, its network goes first.
func (nd *Node) stop(crash bool) error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.run == nil {
		return nil
	}
	if crash {
		nd.closeNet()
	}
	err := nd.run.Stop()
	nd.run = nil
	nd.closeNet()
	return err
}

// Close stops every node and the network. Cleanup calls it; calling it
// again does nothing.
func (c *Cluster) Close() {
	for _, nd := range c.nodes {
		if err := nd.stop(false); err != nil {
			c.t.Errorf("testnet: stop %s: %v", nd.ID, err)
		}
		nd.mu.Lock()
		nd.closeNet() // a host built but never started
		nd.mu.Unlock()
	}
	if c.Net != nil {
		c.Net.Close()
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
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.run
}

// Running reports whether the node is running.
func (nd *Node) Running() bool { return nd.Node() != nil }

// Host returns the node's libp2p host (nil on memnet or while stopped).
func (nd *Node) Host() *libp2p.Host {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.run == nil {
		return nil
	}
	return nd.host
}

// Addr returns an address other hosts can dial the node at: its TCP
// loopback multiaddr with /p2p/ on libp2p, "" on memnet or while stopped.
func (nd *Node) Addr() string {
	h := nd.Host()
	if h == nil {
		return ""
	}
	for _, a := range h.ListenAddrs() {
		if strings.Contains(a, "/tcp/") && !strings.Contains(a, "/ws") {
			return a
		}
	}
	return ""
}

// KnowsStatus reports whether the node's syncer has had a status exchange
// with the peer id.
func (nd *Node) KnowsStatus(id p2p.PeerID) bool {
	n := nd.Node()
	if n == nil || n.Sync == nil {
		return false
	}
	for _, ps := range n.Sync.Peers() {
		if ps.ID == id && !ps.LastStatus.IsZero() {
			return true
		}
	}
	return false
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

func (c *Cluster) ids(idx []int) []p2p.PeerID {
	out := make([]p2p.PeerID, len(idx))
	for k, i := range idx {
		out[k] = c.nodes[i].ID
	}
	return out
}

// linkKey is the links map's key of the pair a, b.
func linkKey(a, b int) [2]int {
	if a > b {
		a, b = b, a
	}
	return [2]int{a, b}
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
	var dialled [][2]int
	for _, l := range pairs {
		a, b := l[0], l[1]
		c.links[linkKey(a, b)] = true
		if c.Net != nil {
			if err := c.Net.Link(c.nodes[a].ID, c.nodes[b].ID, c.cfg.Link); err != nil {
				c.t.Fatalf("testnet: connect %d-%d: %v", a, b, err)
			}
			continue
		}
		if _, shaped := c.shapes[linkKey(a, b)]; !shaped && c.cfg.Link != (memnet.LinkParams{}) {
			c.ShapeLink(a, b, c.cfg.Link)
		}
		if c.cuts[linkKey(a, b)] {
			continue // across a partition: Heal dials it
		}
		if err := c.dial(a, b); err != nil {
			c.t.Fatalf("testnet: connect %d-%d: %v", a, b, err)
		}
		dialled = append(dialled, l)
	}
	c.waitMeshed(dialled)
}

// dial connects a's libp2p host to b's and waits for the status exchange
// both ways.
func (c *Cluster) dial(a, b int) error {
	x, y := c.nodes[a], c.nodes[b]
	hx, addr := x.Host(), y.Addr()
	if hx == nil || addr == "" {
		return fmt.Errorf("both nodes must be running (%s: %t, %s: %t)", x.ID.Short(), x.Running(), y.ID.Short(), y.Running())
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if _, err := hx.Connect(ctx, addr); err != nil {
		return err
	}
	if !wait.Until(connectTimeout, func() bool { return x.KnowsStatus(y.ID) && y.KnowsStatus(x.ID) }) {
		return fmt.Errorf("no status exchange within %v", connectTimeout)
	}
	return nil
}

// waitMeshed waits until the two ends of each dialled pair are in each
// other's gossip mesh. Gossipsub grafts a new peer at its next heartbeat;
// until then a transaction one of them relays (rather than publishes)
// does not reach the other, so a test's next send could go nowhere.
func (c *Cluster) waitMeshed(pairs [][2]int) {
	c.t.Helper()
	for _, l := range pairs {
		x, y := c.nodes[l[0]], c.nodes[l[1]]
		meshed := func() bool {
			hx, hy := x.Host(), y.Host()
			return hx != nil && hy != nil && hx.GossipMeshed(y.ID) && hy.GossipMeshed(x.ID)
		}
		if !wait.Until(connectTimeout, meshed) {
			c.t.Fatalf("testnet: connect %d-%d: not in each other's gossip mesh within %v", l[0], l[1], connectTimeout)
		}
	}
}

// Disconnect removes the link between a and b (on libp2p: closes their
// connections, and no restart dials it again).
func (c *Cluster) Disconnect(a, b int) {
	c.t.Helper()
	delete(c.links, linkKey(a, b))
	if c.Net != nil {
		c.Net.Unlink(c.nodes[a].ID, c.nodes[b].ID)
		return
	}
	for _, e := range [][2]int{{a, b}, {b, a}} {
		if h := c.nodes[e[0]].Host(); h != nil {
			if err := h.ClosePeer(c.nodes[e[1]].ID); err != nil {
				c.t.Fatalf("testnet: disconnect %d-%d: %v", a, b, err)
			}
		}
	}
}

// Cutter is what Partition and Heal need of a node's network off memnet:
// cut the link to a peer in both directions until Uncut. The libp2p host
// offers it (p2p.Shaper); a network from Config.Wrap may offer it too.
type Cutter interface {
	Cut(peer p2p.PeerID) error
	Uncut(peer p2p.PeerID) error
}

// cutterOf returns the running node's network as a Cutter, or nil.
func (nd *Node) cutterOf() Cutter {
	n := nd.Node()
	if n == nil {
		return nil
	}
	ct, _ := n.Net.(Cutter)
	return ct
}

// Partition splits the nodes into groups (by index) that cannot reach
// each other; nodes named in no group form one more group. Links across
// groups go down until Heal. On libp2p it needs networks that can cut a
// link (Cut and Uncut, see Config.Wrap); without them it fails the test
// with ErrUnsupported.
func (c *Cluster) Partition(groups ...[]int) {
	c.t.Helper()
	if c.Net != nil {
		ids := make([][]p2p.PeerID, len(groups))
		for i, g := range groups {
			ids[i] = c.ids(g)
		}
		c.Net.Partition(ids...)
		return
	}
	c.canCut("Partition")
	c.healCuts(false)
	side := make([]int, len(c.nodes))
	for i := range side {
		side[i] = len(groups)
	}
	for g, idx := range groups {
		for _, i := range idx {
			side[i] = g
		}
	}
	for a := range c.nodes {
		for b := a + 1; b < len(c.nodes); b++ {
			if side[a] != side[b] {
				c.cuts[[2]int{a, b}] = true
				c.setCut(a, b, true)
			}
		}
	}
}

// canCut fails the test unless every running node's network can cut.
func (c *Cluster) canCut(what string) {
	c.t.Helper()
	for _, nd := range c.Running() {
		if nd.cutterOf() == nil {
			c.t.Fatalf("testnet: %s on %v: %v (node %d's network cannot cut links; give Config.Wrap one that can, or use Memnet)", what, c.cfg.Transport, ErrUnsupported, nd.Index)
		}
	}
}

// setCut cuts (or lets again) the link between a and b at each running
// end.
func (c *Cluster) setCut(a, b int, cut bool) {
	c.t.Helper()
	for _, e := range [][2]int{{a, b}, {b, a}} {
		ct := c.nodes[e[0]].cutterOf()
		if ct == nil {
			continue // stopped: Start cuts it again
		}
		var err error
		if cut {
			err = ct.Cut(c.nodes[e[1]].ID)
		} else {
			err = ct.Uncut(c.nodes[e[1]].ID)
		}
		if err != nil {
			c.t.Fatalf("testnet: cut %d-%d (%t): %v", a, b, cut, err)
		}
	}
}

// healCuts lifts every cut; with redial, the links that were cut are
// dialled again.
func (c *Cluster) healCuts(redial bool) {
	c.t.Helper()
	cut := c.cuts
	c.cuts = map[[2]int]bool{}
	for l := range cut {
		c.setCut(l[0], l[1], false)
	}
	if !redial {
		return
	}
	var dialled [][2]int
	for l := range cut {
		if c.links[l] && c.nodes[l[0]].Running() && c.nodes[l[1]].Running() {
			if err := c.dial(l[0], l[1]); err != nil {
				c.t.Fatalf("testnet: heal %d-%d: %v", l[0], l[1], err)
			}
			dialled = append(dialled, l)
		}
	}
	c.waitMeshed(dialled)
}

// Heal ends a partition (on libp2p: lifts the cuts and dials the links
// they took down again).
func (c *Cluster) Heal() {
	c.t.Helper()
	if c.Net != nil {
		c.Net.Heal()
		return
	}
	c.healCuts(true)
}

// Shape sets the delay, jitter and loss of the link between a and b.
func (c *Cluster) Shape(a, b int, delay, jitter time.Duration, loss float64) {
	c.t.Helper()
	var p memnet.LinkParams
	if c.Net != nil {
		p, _ = c.Net.LinkParams(c.nodes[a].ID, c.nodes[b].ID)
	} else {
		s := c.shapes[linkKey(a, b)]
		p.Bandwidth = s.Bandwidth
	}
	p.Latency, p.Jitter, p.Loss = delay, jitter, loss
	c.ShapeLink(a, b, p)
}

// ShapeLink sets every parameter of the link between a and b, bandwidth
// included. On libp2p it needs networks that shape links (p2p.Shaper: the
// host does; a Config.Wrap network may hide it) and shapes what each end
// sends, so the link is shaped both ways; a node started again gets its
// shapes back. What loss means there is in p2p.LinkShape's doc.
func (c *Cluster) ShapeLink(a, b int, p memnet.LinkParams) {
	c.t.Helper()
	if c.Net != nil {
		if err := c.Net.Shape(c.nodes[a].ID, c.nodes[b].ID, p); err != nil {
			c.t.Fatalf("testnet: shape %d-%d: %v", a, b, err)
		}
		return
	}
	s := p2p.LinkShape{Latency: p.Latency, Jitter: p.Jitter, Loss: p.Loss, Bandwidth: p.Bandwidth}
	if err := s.Check(); err != nil {
		c.t.Fatalf("testnet: shape %d-%d: %v", a, b, err)
	}
	for _, nd := range c.Running() {
		if nd.shaperOf() == nil {
			c.t.Fatalf("testnet: ShapeLink on %v: %v (node %d's network cannot shape links; give Config.Wrap one that can, or use Memnet)", c.cfg.Transport, ErrUnsupported, nd.Index)
		}
	}
	if s.Zero() {
		delete(c.shapes, linkKey(a, b))
	} else {
		c.shapes[linkKey(a, b)] = s
	}
	c.applyShape(a, b, s)
}

// shaperOf returns the running node's network as a p2p.Shaper, or nil.
func (nd *Node) shaperOf() p2p.Shaper {
	n := nd.Node()
	if n == nil {
		return nil
	}
	sh, _ := n.Net.(p2p.Shaper)
	return sh
}

// applyShape shapes the link between a and b at each running end.
func (c *Cluster) applyShape(a, b int, s p2p.LinkShape) {
	c.t.Helper()
	for _, e := range [][2]int{{a, b}, {b, a}} {
		sh := c.nodes[e[0]].shaperOf()
		if sh == nil {
			continue // stopped: Start shapes it again
		}
		if err := sh.ShapeLink(c.nodes[e[1]].ID, s); err != nil {
			c.t.Fatalf("testnet: shape %d-%d: %v", a, b, err)
		}
	}
}

// Stop shuts node i down cleanly. Its store and data directory remain.
func (c *Cluster) Stop(i int) {
	c.t.Helper()
	if err := c.nodes[i].stop(false); err != nil {
		c.t.Fatalf("testnet: stop %s: %v", c.nodes[i].ID, err)
	}
}

// Crash stops node i the abrupt way (see the package doc).
func (c *Cluster) Crash(i int) {
	c.t.Helper()
	if err := c.nodes[i].stop(true); err != nil {
		c.t.Fatalf("testnet: crash %s: %v", c.nodes[i].ID, err)
	}
}

// Start starts a stopped node i again on its store, data directory,
// identity and links (on libp2p it dials its linked running peers).
func (c *Cluster) Start(i int) {
	c.t.Helper()
	if err := c.nodes[i].start(); err != nil {
		c.t.Fatalf("testnet: start %s: %v", c.nodes[i].ID, err)
	}
	if c.Net != nil {
		return
	}
	for l := range c.cuts {
		if l[0] == i || l[1] == i {
			c.canCut("Start")
			c.setCut(l[0], l[1], true)
		}
	}
	for l, s := range c.shapes {
		if l[0] == i || l[1] == i {
			c.applyShape(l[0], l[1], s)
		}
	}
	var dialled [][2]int
	for l := range c.links {
		if j := l[0] + l[1] - i; (l[0] == i || l[1] == i) && !c.cuts[l] && c.nodes[j].Running() {
			if err := c.dial(i, j); err != nil {
				c.t.Fatalf("testnet: start %s: redial %d: %v", c.nodes[i].ID, j, err)
			}
			dialled = append(dialled, [2]int{i, j})
		}
	}
	c.waitMeshed(dialled)
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
