package systest

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/internal/testnet"
	"github.com/chaind/chaind/internal/testnet/wait"
	"github.com/chaind/chaind/netsync"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/libp2p"
)

// libp2pCluster starts cfg.Nodes full nodes on libp2p over loopback (see
// internal/testnet), logging as testLogger does.
func libp2pCluster(t testing.TB, cfg testnet.Config) *testnet.Cluster {
	t.Helper()
	cfg.Transport = testnet.Libp2p
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	return testnet.New(t, cfg)
}

// waitFor polls cond until it holds or the timeout passes (wait.For).
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	wait.For(t, timeout, what, cond)
}

// minedCount makes the memo of every hand-mined block unique.
var minedCount atomic.Int64

// mine builds a block on the node's tip with txs (and, if fromPool, the
// pool's pending transactions), solves it and processes it: a hand miner,
// so that the test decides what each block carries.
func mine(t testing.TB, nd *testnet.Node, fromPool bool, txs ...*chain.Tx) *chain.Block {
	t.Helper()
	b, err := tryMine(nd, fromPool, txs...)
	if err != nil {
		t.Fatalf("%s: mine: %v", nd.ID.Short(), err)
	}
	return b
}

func tryMine(nd *testnet.Node, fromPool bool, txs ...*chain.Tx) (*chain.Block, error) {
	b, _, err := mineTimed(nd, fromPool, txs...)
	return b, err
}

// mineTimed is tryMine that also returns when the block was handed to
// ProcessBlock (after any wait for the clock).
func mineTimed(nd *testnet.Node, fromPool bool, txs ...*chain.Tx) (*chain.Block, time.Time, error) {
	n := nd.Node()
	if n == nil {
		return nil, time.Time{}, fmt.Errorf("%s is stopped", nd.ID.Short())
	}
	p := n.Chain.Params()
	for attempt := 0; ; attempt++ {
		tmpl := n.Chain.NextTemplate()
		info, ok := n.Chain.BlockInfo(tmpl.PrevHash)
		if !ok {
			return nil, time.Time{}, fmt.Errorf("template parent %s unknown", tmpl.PrevHash)
		}
		// Blocks faster than the median-time rule allows: wait for the
		// clock rather than run past MaxFutureTime.
		now := time.Now().Unix()
		ts := max(now, int64(tmpl.MinTime)+1)
		if ahead := ts - (now + p.MaxFutureTime - 1); ahead > 0 {
			time.Sleep(time.Duration(ahead) * time.Second)
			continue
		}
		all := txs
		if fromPool {
			all = append(append([]*chain.Tx(nil), txs...), n.Pool.Template(p.MaxBlockTxs-1-len(txs), p.MaxBlockSize/2)...)
		}
		b := chaintest.Block(chaintest.Spec{Parent: &info.Header, Bits: tmpl.Bits, Time: uint32(ts), Miner: nd.Address(),
			Reward: tmpl.Reward, Txs: all, Memo: fmt.Sprintf("%s/%d", nd.ID.Short(), minedCount.Add(1))})
		start := time.Now()
		_, err := n.Chain.ProcessBlock(b, blockchain.Requested)
		if err == nil {
			return b, start, nil
		}
		// The tip may have moved between the template and processing.
		if attempt >= 3 {
			return nil, start, err
		}
	}
}

// load processes blocks into the node's chain.
func load(t testing.TB, nd *testnet.Node, blocks []*chain.Block) {
	t.Helper()
	bc := nd.Node().Chain
	for _, b := range blocks {
		if _, err := bc.ProcessBlock(b, blockchain.Requested); err != nil {
			t.Fatalf("%s: load block %d: %v", nd.ID.Short(), b.Header.Height, err)
		}
	}
}

// buildChain returns n blocks on p's genesis, each with txs transfers.
func buildChain(p *consensus.Params, keys int, n, txs int, seed int64) []*chain.Block {
	br := chaintest.NewBranch(p, chaintest.Keys(keys))
	rng := newRand(seed)
	out := make([]*chain.Block, 0, n)
	for i := 0; i < n; i++ {
		var ts []*chain.Tx
		if txs > 0 {
			ts = br.RandomTxs(rng, txs)
		}
		out = append(out, br.Next(ts, chaintest.Spec{}))
	}
	return out
}

func newRand(seed int64) *rand.Rand { return rand.New(rand.NewSource(seed)) }

func hasPeer(n p2p.Network, id p2p.PeerID) bool {
	return slices.ContainsFunc(n.Peers(), func(pi p2p.PeerInfo) bool { return pi.ID == id })
}

// syncPeer returns what the syncer knows of the peer id.
func syncPeer(s *netsync.Syncer, id p2p.PeerID) (netsync.PeerState, bool) {
	for _, ps := range s.Peers() {
		if ps.ID == id {
			return ps, true
		}
	}
	return netsync.PeerState{}, false
}

// knowsStatus reports whether the syncer has exchanged status with id.
func knowsStatus(s *netsync.Syncer, id p2p.PeerID) bool {
	ps, ok := syncPeer(s, id)
	return ok && !ps.LastStatus.IsZero()
}

// hostConfig is a loopback libp2p configuration with discovery off, so the
// tests choose the topology (the hand-driven attackers' and the
// benchmarks' hosts; testnet builds its nodes' own).
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

// dial connects host h to the node.
func dial(t testing.TB, h *libp2p.Host, nd *testnet.Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.Connect(ctx, nd.Addr()); err != nil {
		t.Fatalf("connect to %s: %v", nd.ID.Short(), err)
	}
}

// mineEvery mines a block at nd every interval (with tryMine) until the
// test ends, reporting the first failure.
func mineEvery(t *testing.T, nd *testnet.Node, interval time.Duration) {
	t.Helper()
	stop := make(chan struct{})
	var mining sync.WaitGroup
	mining.Go(func() {
		tk := time.NewTicker(interval)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if _, err := tryMine(nd, false); err != nil {
					t.Errorf("honest miner: %v", err)
					return
				}
			}
		}
	})
	t.Cleanup(func() { close(stop); mining.Wait() })
}
