package netsync

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/internal/testnet/wait"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/store"
)

// testLogger is silent unless CHAIND_NETSYNC_LOG is "debug" or "info".
func testLogger() *slog.Logger {
	switch os.Getenv("CHAIND_NETSYNC_LOG") {
	case "debug":
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	case "info":
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// node is one full test node: chain, pool (wired to the chain's
// notifications as package node does), syncer, and its network.
type node struct {
	name  string
	net   p2p.Network
	st    store.Store
	chain *blockchain.Blockchain
	pool  *mempool.Pool
	sync  *Syncer
	miner chain.Address
	mined int

	stopOnce sync.Once
}

type nodeOpts struct {
	statusInterval time.Duration
	requestTimeout time.Duration
}

// newNode builds a node on net and st; start it with start.
func newNode(t testing.TB, name string, p *consensus.Params, net p2p.Network, st store.Store, o nodeOpts) *node {
	t.Helper()
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: st})
	if err != nil {
		t.Fatalf("%s: blockchain: %v", name, err)
	}
	pool := mempool.New(bc, mempool.Config{})
	bc.Subscribe(pool.OnChainEvent)
	s, err := New(Config{Chain: bc, Pool: pool, Net: net, Logger: testLogger().With("node", name),
		StatusInterval: o.statusInterval, RequestTimeout: o.requestTimeout})
	if err != nil {
		t.Fatalf("%s: netsync: %v", name, err)
	}
	n := &node{name: name, net: net, st: st, chain: bc, pool: pool, sync: s,
		miner: chain.AddressOf(chain.PublicKey(chain.HashBytes([]byte(name))))}
	t.Cleanup(n.stop)
	return n
}

func (n *node) start(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	if err := n.net.Start(ctx); err != nil {
		t.Fatalf("%s: start network: %v", n.name, err)
	}
	if err := n.sync.Start(ctx); err != nil {
		t.Fatalf("%s: start syncer: %v", n.name, err)
	}
}

// stop stops the syncer, the network and the chain (not the store).
func (n *node) stop() {
	n.stopOnce.Do(func() {
		n.sync.Stop()
		_ = n.net.Close()
		_ = n.chain.Close()
	})
}

func (n *node) tip() blockchain.Tip { return n.chain.Tip() }

// mine builds a block on the node's tip with txs (and, if fromPool, the
// pool's pending transactions), solves it and processes it.
func (n *node) mine(t testing.TB, fromPool bool, txs ...*chain.Tx) *chain.Block {
	t.Helper()
	b, err := n.tryMine(fromPool, txs...)
	if err != nil {
		t.Fatalf("%s: mine: %v", n.name, err)
	}
	return b
}

func (n *node) tryMine(fromPool bool, txs ...*chain.Tx) (*chain.Block, error) {
	b, _, err := n.mineTimed(fromPool, txs...)
	return b, err
}

// mineTimed is tryMine that also returns when the block was handed to
// ProcessBlock (after any wait for the clock).
func (n *node) mineTimed(fromPool bool, txs ...*chain.Tx) (*chain.Block, time.Time, error) {
	p := n.chain.Params()
	for attempt := 0; ; attempt++ {
		tmpl := n.chain.NextTemplate()
		info, ok := n.chain.BlockInfo(tmpl.PrevHash)
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
			all = append(append([]*chain.Tx(nil), txs...), n.pool.Template(p.MaxBlockTxs-1-len(txs), p.MaxBlockSize/2)...)
		}
		n.mined++
		b := chaintest.Block(chaintest.Spec{Parent: &info.Header, Bits: tmpl.Bits, Time: uint32(ts), Miner: n.miner,
			Reward: tmpl.Reward, Txs: all, Memo: fmt.Sprintf("%s/%d", n.name, n.mined)})
		start := time.Now()
		_, err := n.chain.ProcessBlock(b, blockchain.Requested)
		if err == nil {
			return b, start, nil
		}
		// The tip may have moved between the template and processing.
		if attempt >= 3 {
			return nil, start, err
		}
	}
}

// waitFor polls cond until it holds or the timeout passes (wait.For).
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	wait.For(t, timeout, what, cond)
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

func hasPeer(n p2p.Network, id p2p.PeerID) bool {
	return slices.ContainsFunc(n.Peers(), func(pi p2p.PeerInfo) bool { return pi.ID == id })
}

// load processes blocks into a node's chain.
func (n *node) load(t testing.TB, blocks []*chain.Block) {
	t.Helper()
	for _, b := range blocks {
		if _, err := n.chain.ProcessBlock(b, blockchain.Requested); err != nil {
			t.Fatalf("%s: load block %d: %v", n.name, b.Header.Height, err)
		}
	}
}

func newRand(seed int64) *rand.Rand { return rand.New(rand.NewSource(seed)) }
