package netsync

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/libp2p"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/store/pebble"
)

// hostConfig is a loopback libp2p configuration with discovery off, so the
// tests choose the topology.
func hostConfig(p *consensus.Params, dataDir string) libp2p.Config {
	cfg := libp2p.DefaultConfig(p.GenesisHash().String())
	cfg.Listen = "127.0.0.1:0"
	cfg.DHT = false
	cfg.PeerExchange = false
	cfg.MDNS = false
	cfg.DataDir = dataDir
	cfg.Logger = testLogger()
	return cfg
}

func newHost(t testing.TB, p *consensus.Params, dataDir string) *libp2p.Host {
	t.Helper()
	h, err := libp2p.NewHost(hostConfig(p, dataDir))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// hostNode is a full node on a real libp2p host, optionally behind a gate.
type hostNode struct {
	*node
	host *libp2p.Host
	gate *gatedNet
}

func newHostNode(t testing.TB, name string, p *consensus.Params, st store.Store, dataDir string, gated bool, o nodeOpts) *hostNode {
	t.Helper()
	h := newHost(t, p, dataDir)
	hn := &hostNode{host: h}
	var net p2p.Network = h
	if gated {
		hn.gate = newGatedNet(h)
		net = hn.gate
	}
	hn.node = newNode(t, name, p, net, st, o)
	hn.start(t)
	return hn
}

func tcpAddr(t testing.TB, h *libp2p.Host) string {
	t.Helper()
	for _, a := range h.ListenAddrs() {
		if strings.Contains(a, "/tcp/") && !strings.Contains(a, "/ws") {
			return a
		}
	}
	t.Fatalf("no TCP address in %v", h.ListenAddrs())
	return ""
}

func hasPeer(n p2p.Network, id p2p.PeerID) bool {
	return slices.ContainsFunc(n.Peers(), func(pi p2p.PeerInfo) bool { return pi.ID == id })
}

// connectHosts dials b from a and waits until both syncers have the
// other's status.
func connectHosts(t testing.TB, a, b *hostNode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.host.Connect(ctx, tcpAddr(t, b.host)); err != nil {
		t.Fatalf("connect %s -> %s: %v", a.name, b.name, err)
	}
	knows := func(x, y *hostNode) bool {
		ps, ok := x.sync.peers.get(y.host.Self())
		return ok && ps.hasStatus
	}
	waitFor(t, 10*time.Second, a.name+" and "+b.name+" exchange status", func() bool { return knows(a, b) && knows(b, a) })
}

func nodesOf(hs []*hostNode) []*node {
	out := make([]*node, len(hs))
	for i, h := range hs {
		out[i] = h.node
	}
	return out
}

// TestLibp2pLateJoinThreePeers: a node joining late syncs a 5,000-block
// chain over real libp2p connections from three peers, and downloads from
// more than one of them.
func TestLibp2pLateJoinThreePeers(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 1000
	}
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	blocks := buildChain(p, 4, n, 0, 11)
	var seeds []*hostNode
	for i := 0; i < 3; i++ {
		h := newHostNode(t, "seed"+string(rune('a'+i)), p, store.NewMemory(), "", false, nodeOpts{})
		h.load(t, blocks)
		seeds = append(seeds, h)
	}
	j := newHostNode(t, "joiner", p, store.NewMemory(), "", false, nodeOpts{})
	start := time.Now()
	for _, s := range seeds {
		connectHosts(t, j, s)
	}
	want := blocks[n-1].Hash()
	waitFor(t, 60*time.Second, "the joiner at the tip", func() bool { return j.tip().Hash == want })
	took := time.Since(start)
	var from int
	var counts []uint64
	for _, ps := range j.sync.Peers() {
		counts = append(counts, ps.BlocksFetched)
		if ps.BlocksFetched > 0 {
			from++
		}
	}
	t.Logf("synced %d blocks in %v (%.0f blocks/s); blocks per peer %v", n, took.Round(time.Millisecond), float64(n)/took.Seconds(), counts)
	if from < 2 {
		t.Fatalf("downloaded from %d peer(s), want more than one: %v", from, counts)
	}
}

// TestLibp2pDuelingMiners: two nodes mine a block at the same height, each
// with its own transaction, while cut off from each other; after they meet
// again the next block decides, every node follows it, and the losing
// block's transaction returns to the mempool and is mined later.
func TestLibp2pDuelingMiners(t *testing.T) {
	keys := chaintest.Keys(4)
	p := chaintest.Params(keys, 1_000_000_000)
	var ns []*hostNode
	for _, name := range []string{"a", "b", "c"} {
		ns = append(ns, newHostNode(t, name, p, store.NewMemory(), "", true, nodeOpts{statusInterval: time.Second}))
	}
	a, b, c := ns[0], ns[1], ns[2]
	connectHosts(t, a, b)
	connectHosts(t, a, c)
	connectHosts(t, b, c)
	a.mine(t, false)
	waitFor(t, 10*time.Second, "a common first block", func() bool { return sameTip(nodesOf(ns)) })

	for _, x := range ns {
		for _, y := range ns {
			if x != y {
				x.gate.block(y.host.Self())
			}
		}
	}
	tx1 := chaintest.Tx(p, keys[1], keys[3].Address(), 1000, 5, 0)
	tx2 := chaintest.Tx(p, keys[2], keys[3].Address(), 2000, 5, 0)
	a1 := a.mine(t, false, tx1)
	b1 := b.mine(t, false, tx2)
	time.Sleep(300 * time.Millisecond) // their gossip is ignored across the cut
	for _, x := range ns {
		x.gate.unblockAll()
	}
	waitFor(t, 10*time.Second, "c takes one of the two blocks", func() bool {
		h := c.tip().Hash
		return h == a1.Hash() || h == b1.Hash()
	})
	if a.tip().Hash != a1.Hash() || b.tip().Hash != b1.Hash() {
		t.Fatalf("a duel needs each miner on its own block: a at %s, b at %s", a.tip().Hash, b.tip().Hash)
	}

	a2 := a.mine(t, false)
	waitFor(t, 10*time.Second, "all nodes on a's branch", func() bool {
		for _, x := range ns {
			if x.tip().Hash != a2.Hash() {
				return false
			}
		}
		return true
	})
	waitFor(t, 10*time.Second, "the losing tx back in every mempool", func() bool {
		for _, x := range ns {
			if !x.pool.Has(tx2.ID()) {
				return false
			}
		}
		return true
	})
	a3 := a.mine(t, true)
	if !slices.ContainsFunc(a3.Txs, func(tx *chain.Tx) bool { return tx.ID() == tx2.ID() }) {
		t.Fatal("the next block does not carry the losing block's transaction")
	}
	waitFor(t, 10*time.Second, "all nodes on the block with the re-mined tx", func() bool { return sameTip(nodesOf(ns)) })
	for _, x := range ns {
		for _, tx := range []*chain.Tx{tx1, tx2} {
			if _, conf, err := x.chain.TxLocation(tx.ID()); err != nil || conf == 0 {
				t.Fatalf("%s: tx %s not on the main chain: %v", x.name, tx.ID(), err)
			}
		}
	}
}

// TestLibp2pPartitionHeal: four nodes split 2|2, both halves mine (one
// more), and after healing all four follow the heavier chain.
func TestLibp2pPartitionHeal(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	var ns []*hostNode
	for _, name := range []string{"a0", "a1", "b0", "b1"} {
		ns = append(ns, newHostNode(t, name, p, store.NewMemory(), "", true, nodeOpts{statusInterval: 2 * time.Second}))
	}
	for i := range ns {
		for j := i + 1; j < len(ns); j++ {
			connectHosts(t, ns[i], ns[j])
		}
	}
	for _, miner := range []*hostNode{ns[0], ns[2]} {
		miner.mine(t, false)
		waitFor(t, 10*time.Second, "a common chain", func() bool { return sameTip(nodesOf(ns)) })
	}

	halfA, halfB := ns[:2], ns[2:]
	for _, x := range halfA {
		for _, y := range halfB {
			x.gate.block(y.host.Self())
			y.gate.block(x.host.Self())
		}
	}
	for i := 0; i < 3; i++ {
		halfA[i%2].mine(t, false)
		if i < 2 {
			halfB[i%2].mine(t, false)
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitFor(t, 10*time.Second, "each half on its own tip", func() bool {
		return sameTip(nodesOf(halfA)) && sameTip(nodesOf(halfB)) && halfA[0].tip().Hash != halfB[0].tip().Hash
	})
	heavy := halfA[0].tip()
	if heavy.Work.Cmp(halfB[0].tip().Work) <= 0 {
		t.Fatal("half A has no more work")
	}
	healed := time.Now()
	for _, x := range ns {
		x.gate.unblockAll()
	}
	waitFor(t, 5*time.Second, "all four on the heavier chain", func() bool {
		for _, x := range ns {
			if x.tip().Hash != heavy.Hash {
				return false
			}
		}
		return true
	})
	t.Logf("converged %v after healing", time.Since(healed).Round(time.Millisecond))
}

// TestLibp2pRestart: a node stopped and restarted on the same data
// directory (Pebble store, persistent identity) rejoins and catches up.
func TestLibp2pRestart(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	dir := t.TempDir()
	open := func() store.Store {
		st, err := pebble.Open(dir+"/chain", p.Name, p.GenesisHash())
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open()
	h := newHostNode(t, "restarts", p, st, dir, false, nodeOpts{statusInterval: time.Second})
	m := newHostNode(t, "miner", p, store.NewMemory(), "", false, nodeOpts{statusInterval: time.Second})
	connectHosts(t, h, m)
	for i := 0; i < 5; i++ {
		m.mine(t, false)
	}
	waitFor(t, 10*time.Second, "in step before the restart", func() bool { return h.tip().Hash == m.tip().Hash })
	before, id := h.tip(), h.host.Self()
	h.stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		m.mine(t, false)
	}
	st = open()
	t.Cleanup(func() { st.Close() })
	h = newHostNode(t, "restarts", p, st, dir, false, nodeOpts{statusInterval: time.Second})
	if h.host.Self() != id {
		t.Fatalf("identity changed across the restart: %s, was %s", h.host.Self(), id)
	}
	if got := h.tip(); got.Hash != before.Hash {
		t.Fatalf("reopened at %d, stopped at %d", got.Height, before.Height)
	}
	connectHosts(t, h, m)
	waitFor(t, 10*time.Second, "caught up after the restart", func() bool { return h.tip().Hash == m.tip().Hash })
	if h.tip().Height != before.Height+20 {
		t.Fatalf("height %d, want %d", h.tip().Height, before.Height+20)
	}
}
