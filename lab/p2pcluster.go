package lab

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chaind/chaind/api"
	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/netlab"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/miner"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/store"
)

// P2PConfig configures a P2PCluster.
type P2PConfig struct {
	Network *Network
	// Dir holds one data directory per node (Pebble store, peer key).
	Dir string
	// Ephemeral keeps each node's chain in a memory store instead of
	// Pebble under Dir (kept across the node's restarts, gone with the
	// cluster); Dir still holds the peer keys.
	Ephemeral   bool
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
	*base
	ephemeral bool
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
	b, err := newBase(n, cfg.Observatory, cfg.Logger, cfg.Dir, netlab.Config{Transport: netlab.Libp2p, Discovery: true})
	if err != nil {
		return nil, err
	}
	c := &P2PCluster{base: b, ephemeral: cfg.Ephemeral}
	b.build = c.build
	if err := b.begin(n.Links, false); err != nil {
		return nil, err
	}
	// Mining starts once every node runs, so the first blocks find the
	// whole network.
	for _, name := range b.order {
		if nd := b.nodes[name]; nd.spec.Mining && nd.spec.Share > 0 {
			nd.run().setMining(true)
		}
	}
	return c, nil
}

// p2pRun is a running node.Node with its HTTP API.
type p2pRun struct {
	c   *P2PCluster
	n   *node.Node
	api *api.Server // on a free loopback port
}

// build starts a node on its directory and network (base.build).
func (c *P2PCluster) build(nd *labNode, net p2p.Network) (run, error) {
	name := nd.spec.Name
	cfg := node.Config{Params: c.params, DataDir: nd.m.Dir, Threads: 1, Network: net,
		MinerAddress: chain.FormatAddress(c.params.AddressPrefix, nd.key.Address()),
		Logger:       c.log.With("node", name),
		OnMined:      func(b *chain.Block, _ bool) { c.found(name, b) }}
	if c.ephemeral {
		if nd.st == nil {
			nd.st = store.NewMemory() // kept across the node's restarts
		}
		cfg.Store = nd.st
	}
	n, err := node.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	c.observe(nd, n.Chain, n.Pool)
	if err := n.Miner.SetHashRate(c.network.HashRate * nd.spec.Share); err != nil {
		n.Stop()
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	srv := api.New(n, api.Config{Addr: "127.0.0.1:0", Logger: c.log.With("node", name, "sys", "api")})
	if err := srv.Start(context.Background()); err != nil {
		n.Stop()
		return nil, fmt.Errorf("node %s: API: %w", name, err)
	}
	if err := n.Start(context.Background()); err != nil {
		stopAPI(srv)
		n.Stop()
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	return &p2pRun{c: c, n: n, api: srv}, nil
}

// Stop stops the node's API, then the node.
func (r *p2pRun) Stop() error {
	stopAPI(r.api)
	return r.n.Stop()
}

func (r *p2pRun) Knows(peer p2p.PeerID) bool    { return netlab.SyncKnows(r.n.Sync, peer) }
func (r *p2pRun) chain() *blockchain.Blockchain { return r.n.Chain }
func (r *p2pRun) pool() *mempool.Pool           { return r.n.Pool }
func (r *p2pRun) miner() *miner.Miner           { return r.n.Miner }
func (r *p2pRun) mine(ctx context.Context, data string) (*chain.Block, error) {
	return r.n.Mine(ctx, data)
}
func (r *p2pRun) status(s *NodeStatus) { s.API = "http://" + r.api.Addr() }

func (r *p2pRun) submit(tx *chain.Tx) error {
	if errs := r.n.SubmitTxs([]*chain.Tx{tx}); len(errs) > 0 && errs[0] != nil {
		return errs[0]
	}
	return nil
}

func (r *p2pRun) setShare(share float64) error {
	return r.n.Miner.SetHashRate(r.c.network.HashRate * share)
}

func (r *p2pRun) setMining(on bool) {
	if on {
		r.n.Miner.Start()
	} else {
		r.n.Miner.Stop()
	}
}

// stopAPI shuts a node's API down, waiting a little for requests in flight.
func stopAPI(srv *api.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}
