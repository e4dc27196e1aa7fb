package lab

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/netlab"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/miner"
	"github.com/chaind/chaind/netsync"
	"github.com/chaind/chaind/p2p"
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
	*base
	began        time.Time     // the compressed clock's origin
	statusEvery  time.Duration // the nodes' status interval, set by the network's size
	publishQueue int           // the nodes' netsync publish queue (0: netsync's default)
}

// NewMemCluster starts every node of cfg.Network over one memnet.
func NewMemCluster(cfg MemConfig) (*MemCluster, error) {
	n := cfg.Network
	if n == nil || len(n.Nodes) == 0 {
		return nil, fmt.Errorf("%w: no nodes", ErrBadNetwork)
	}
	for _, l := range n.Links {
		if err := l.Shape.Check(); err != nil {
			return nil, fmt.Errorf("%w: link %s: %w", ErrBadNetwork, l.Pair, err)
		}
	}
	b, err := newBase(n, cfg.Observatory, cfg.Logger, "", netlab.Config{Transport: netlab.Memnet, Seed: n.Seed})
	if err != nil {
		return nil, fmt.Errorf("memnet: %w", err)
	}
	c := &MemCluster{base: b, began: time.Now(), statusEvery: statusInterval(len(n.Nodes))}
	if len(n.Nodes) > statusNodes {
		c.publishQueue = largePublishQueue
	}
	b.build = c.build
	if len(n.Links) > 0 {
		b.addShape = n.Links[0].Shape // the file's links share the default shape unless given their own
	}
	if err := b.begin(n.Links, true); err != nil {
		return nil, err
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

// now is the cluster's clock: real time, compressed by the network's
// factor from the cluster's start.
func (c *MemCluster) now() time.Time {
	f := c.network.Compression
	if f <= 1 {
		return time.Now()
	}
	return c.began.Add(time.Duration(float64(time.Since(c.began)) * f))
}

// memRun is a memnet node's running parts.
type memRun struct {
	c    *MemCluster
	net  p2p.Network
	bc   *blockchain.Blockchain
	mp   *mempool.Pool
	sy   *netsync.Syncer
	m    *miner.Miner
	sim  *miner.SimMiner
	self *selfish // a selfish miner's private chain, or nil
}

// build builds a node's parts on its store and starts them (base.build).
func (c *MemCluster) build(nd *labNode, pn p2p.Network) (run, error) {
	name := nd.spec.Name
	log := c.log.With("node", name)
	if nd.st == nil {
		nd.st = store.NewMemory() // kept across the node's restarts
	}
	bc, err := blockchain.New(blockchain.Config{Params: c.params, Store: nd.st, Now: c.now, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	pool := mempool.New(bc, mempool.Config{SigCache: bc.SigCache()})
	bc.Subscribe(pool.OnChainEvent)
	sy, err := netsync.New(netsync.Config{Chain: bc, Pool: pool, Net: pn, Logger: log,
		StatusInterval: c.statusEvery, PublishQueue: c.publishQueue, Now: c.now})
	if err != nil {
		bc.Close()
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	c.observe(nd, bc, pool)
	r := &memRun{c: c, net: pn, bc: bc, mp: pool, sy: sy}
	mineOn := bc // the chain the miner extends
	var txs miner.TxSource = pool
	if nd.spec.Strategy == miner.StrategySelfish {
		if r.self, err = newSelfish(c, nd, bc); err != nil {
			bc.Close()
			return nil, fmt.Errorf("node %s: %w", name, err)
		}
		bc.Subscribe(func(n blockchain.Notification) {
			if n.Type == blockchain.BlockConnected {
				r.self.public(n.Block)
			}
		})
		mineOn, txs = r.self.private, nil // the pool follows the public chain, not the private branch
	}
	r.m = miner.New(mineOn, txs, miner.Config{Address: nd.key.Address(), Threads: 1, Now: c.now, Logger: log,
		OnMined: func(b *chain.Block, _ bool) {
			c.found(name, b) // a selfish miner's find counts when it is mined, not when it is published
			if r.self != nil {
				r.self.mined(b)
			}
		}})
	if c.network.Simulated {
		mean := c.meanInterval(nd.spec.Share)
		if mean <= 0 {
			mean = c.network.BlockTime // not mining until SetShare gives it a share
		}
		if r.sim, err = miner.NewSimMiner(r.m, mean, c.network.Seed*1000+1+uint64(nd.m.Index)); err != nil {
			bc.Close()
			return nil, fmt.Errorf("node %s: %w", name, err)
		}
	} else if err := r.m.SetHashRate(c.network.HashRate * nd.spec.Share); err != nil {
		bc.Close()
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	ctx := context.Background()
	if err := pn.Start(ctx); err != nil {
		bc.Close()
		return nil, fmt.Errorf("node %s: start network: %w", name, err)
	}
	if err := sy.Start(ctx); err != nil {
		bc.Close()
		return nil, fmt.Errorf("node %s: start sync: %w", name, err)
	}
	if r.self != nil {
		r.self.start()
	}
	return r, nil
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

// Stop stops the node's parts, its network after its sync.
func (r *memRun) Stop() error {
	if r.sim != nil {
		r.sim.Stop()
	}
	r.m.Stop()
	if r.self != nil {
		r.self.stop()
	}
	r.sy.Stop()
	_ = r.net.Close()
	r.bc.Close()
	return nil
}

func (r *memRun) Knows(peer p2p.PeerID) bool    { return netlab.SyncKnows(r.sy, peer) }
func (r *memRun) chain() *blockchain.Blockchain { return r.bc }
func (r *memRun) pool() *mempool.Pool           { return r.mp }
func (r *memRun) miner() *miner.Miner           { return r.m }
func (r *memRun) submit(tx *chain.Tx) error     { return r.mp.Add(tx) }
func (r *memRun) mine(ctx context.Context, data string) (*chain.Block, error) {
	return r.m.MineOne(ctx, data)
}

func (r *memRun) setShare(share float64) error {
	if r.sim == nil {
		return r.m.SetHashRate(r.c.network.HashRate * share)
	}
	if share > 0 {
		return r.sim.SetMean(r.c.meanInterval(share))
	}
	return nil
}

func (r *memRun) setMining(on bool) {
	switch {
	case r.sim != nil && on:
		r.sim.Start()
	case r.sim != nil:
		r.sim.Stop()
	case on:
		r.m.Start()
	default:
		r.m.Stop()
	}
}

func (r *memRun) status(s *NodeStatus) {
	if r.self != nil {
		s.Withheld = r.self.strategy.Withheld()
	}
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
