package systest

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/internal/testnet"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/netsync"
	"github.com/chaind/chaind/p2p/libp2p"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/store/pebble"
)

// syncNode is the sync path alone on a libp2p host: a chain (with a pool
// wired to it as package node wires them, or none for a seed that only
// serves) and a syncer. The sync benchmarks use it rather than full nodes
// so that their seeds can share one chain of 10,000 blocks and their
// joiner can sit on a store the benchmark wraps.
type syncNode struct {
	host  *libp2p.Host
	chain *blockchain.Blockchain
	sync  *netsync.Syncer
}

// startSyncNode starts a syncer for bc on a new loopback host; withPool
// gives it a mempool as a full node has. Cleanup stops it (not the chain).
func startSyncNode(b *testing.B, p *consensus.Params, bc *blockchain.Blockchain, withPool bool) *syncNode {
	b.Helper()
	h := newHost(b, p, "")
	cfg := netsync.Config{Chain: bc, Net: h, Logger: testLogger()}
	if withPool {
		pool := mempool.New(bc, mempool.Config{})
		bc.Subscribe(pool.OnChainEvent)
		cfg.Pool = pool
	}
	s, err := netsync.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	n := &syncNode{host: h, chain: bc, sync: s}
	if err := h.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(n.stop)
	return n
}

// stop stops the syncer and the host; it may be called more than once.
func (n *syncNode) stop() {
	n.sync.Stop()
	_ = n.host.Close()
}

// connectSync dials b from a and waits until both syncers have the
// other's status.
func connectSync(b *testing.B, a, c *syncNode) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.host.Connect(ctx, tcpAddr(b, c.host)); err != nil {
		b.Fatal(err)
	}
	waitFor(b, 10*time.Second, "status exchanged", func() bool {
		return knowsStatus(a.sync, c.host.Self()) && knowsStatus(c.sync, a.host.Self())
	})
}

// benchData is a prebuilt chain and a seed Blockchain holding it.
type benchData struct {
	p      *consensus.Params
	blocks []*chain.Block
	txs    int // transfers in all blocks

	seedOnce sync.Once
	seed     *blockchain.Blockchain

	directOnce sync.Once
	direct     float64 // blocks/s of ProcessBlock straight into Pebble
}

var benchCache sync.Map // [2]int{blocks, txs} -> *benchData

// benchBlocks returns CHAIND_BENCH_BLOCKS (default 10,000) blocks of txs
// signed transfers each among 200 funded keys, built once per process
// with a fixed seed. Signing runs on all cores.
func benchBlocks(b *testing.B, txs int) *benchData {
	n := 10_000
	if s := os.Getenv("CHAIND_BENCH_BLOCKS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("CHAIND_BENCH_BLOCKS=%q", s)
		}
		n = v
	}
	key := [2]int{n, txs}
	if v, ok := benchCache.Load(key); ok {
		return v.(*benchData)
	}
	start := time.Now()
	keys := chaintest.Keys(200)
	p := chaintest.Params(keys, 1<<50)
	p.MaxBlockTxs = chain.MaxBlockTxs
	p.MaxBlockSize = chain.MaxBlockSize
	br := chaintest.NewBranch(p, keys)
	rng := rand.New(rand.NewSource(1))
	d := &benchData{p: p, blocks: make([]*chain.Block, 0, n)}
	for i := 0; i < n; i++ {
		list := br.RandomTxs(rng, txs)
		d.blocks = append(d.blocks, br.Next(list, chaintest.Spec{}))
		d.txs += len(list)
	}
	b.Logf("built %d blocks of %d transfers in %v", n, txs, time.Since(start).Round(time.Millisecond))
	v, _ := benchCache.LoadOrStore(key, d)
	return v.(*benchData)
}

// seedChain returns a Blockchain on an in-memory store holding the bench
// chain; the seed peers of a benchmark share it (they only serve).
func (d *benchData) seedChain(b *testing.B) *blockchain.Blockchain {
	d.seedOnce.Do(func() {
		start := time.Now()
		bc, err := blockchain.New(blockchain.Config{Params: d.p, Store: store.NewMemory()})
		if err != nil {
			b.Fatal(err)
		}
		for _, blk := range d.blocks {
			if _, err := bc.ProcessBlock(blk, blockchain.Requested); err != nil {
				b.Fatal(err)
			}
		}
		d.seed = bc
		b.Logf("seed chain loaded in %v", time.Since(start).Round(time.Millisecond))
	})
	return d.seed
}

// directRate measures ProcessBlock of the whole chain straight into a
// fresh Pebble store: what BenchmarkPebbleChain measures in package
// blockchain, the ceiling for sync.
func (d *benchData) directRate(b *testing.B) float64 {
	d.directOnce.Do(func() {
		dir, err := os.MkdirTemp("", "netsync-bench-direct")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
		st, err := pebble.Open(dir, d.p.Name, d.p.GenesisHash())
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		bc, err := blockchain.New(blockchain.Config{Params: d.p, Store: st})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for _, blk := range d.blocks {
			if _, err := bc.ProcessBlock(blk, blockchain.Requested); err != nil {
				b.Fatal(err)
			}
		}
		d.direct = float64(len(d.blocks)) / time.Since(start).Seconds()
	})
	return d.direct
}

// BenchmarkConnectDirect connects the bench chain (100 transfers a block)
// with ProcessBlock into a fresh Pebble store, without any network: the
// chain-core rate that sync is compared with.
func BenchmarkConnectDirect(b *testing.B) {
	d := benchBlocks(b, 100)
	for i := 0; i < b.N; i++ {
		d.directOnce = sync.Once{}
		rate := d.directRate(b)
		b.ReportMetric(rate, "blocks/s")
		b.ReportMetric(rate*float64(d.txs)/float64(len(d.blocks)), "tx/s")
	}
}

// BenchmarkInitialSync: a fresh node on a Pebble store syncs the bench
// chain (CHAIND_BENCH_BLOCKS blocks of 100 transfers) over libp2p on
// loopback from one or three peers. It reports blocks/s, tx/s and the
// ratio to ProcessBlock straight into Pebble (vs-connect).
func BenchmarkInitialSync(b *testing.B) {
	for _, peers := range []int{1, 3} {
		b.Run(fmt.Sprintf("peers=%d", peers), func(b *testing.B) {
			d := benchBlocks(b, 100)
			seed := d.seedChain(b)
			direct := d.directRate(b)
			var seeds []*syncNode
			for i := 0; i < peers; i++ {
				seeds = append(seeds, startSyncNode(b, d.p, seed, false))
			}
			want := d.blocks[len(d.blocks)-1].Hash()
			b.ResetTimer()
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dir := b.TempDir()
				st, err := pebble.Open(dir, d.p.Name, d.p.GenesisHash())
				if err != nil {
					b.Fatal(err)
				}
				bc, err := blockchain.New(blockchain.Config{Params: d.p, Store: st})
				if err != nil {
					b.Fatal(err)
				}
				j := startSyncNode(b, d.p, bc, true)
				b.StartTimer()
				start := time.Now()
				for _, s := range seeds {
					connectSync(b, j, s)
				}
				for bc.Tip().Hash != want {
					time.Sleep(5 * time.Millisecond)
				}
				took := time.Since(start)
				elapsed += took
				b.StopTimer()
				var counts []uint64
				for _, ps := range j.sync.Peers() {
					counts = append(counts, ps.BlocksFetched)
				}
				b.Logf("synced %d blocks in %v; blocks per peer %v", len(d.blocks), took.Round(time.Millisecond), counts)
				j.stop()
				_ = bc.Close()
				st.Close()
				b.StartTimer()
			}
			rate := float64(b.N*len(d.blocks)) / elapsed.Seconds()
			b.ReportMetric(rate, "blocks/s")
			b.ReportMetric(float64(b.N*d.txs)/elapsed.Seconds(), "tx/s")
			b.ReportMetric(rate/direct, "vs-connect")
		})
	}
}

// propagation measures how long a block (with txsPerBlock signed
// transfers) mined at one node takes to become the tip of every other
// node, over libp2p nodes on loopback linked as edges says; it reports the
// median and 99th percentile over all (block, node) pairs, from the
// miner's ProcessBlock to the other node's tip change.
func propagation(b *testing.B, edges [][2]int, nodes int, randomMiner bool, txsPerBlock int, pooled bool) {
	keys := chaintest.Keys(20)
	p := chaintest.Params(keys, 1_000_000_000_000)
	nonces := make([]uint64, len(keys))
	transfers := func() []*chain.Tx {
		txs := make([]*chain.Tx, txsPerBlock)
		for i := range txs {
			k := i % len(keys)
			txs[i] = chaintest.Tx(p, keys[k], keys[(k+1)%len(keys)].Address(), 1, 1, nonces[k])
			nonces[k]++
		}
		return txs
	}
	c := libp2pCluster(b, testnet.Config{Nodes: nodes, Params: p,
		StatusInterval: netsync.DefaultStatusInterval, RequestTimeout: netsync.DefaultRequestTimeout})
	var mu sync.Mutex
	arrived := make([]map[chain.Hash]time.Time, nodes)
	for i := 0; i < nodes; i++ {
		arrived[i] = map[chain.Hash]time.Time{}
		c.N(i).Node().Chain.Subscribe(func(n blockchain.Notification) {
			if n.Type == blockchain.TipChanged {
				mu.Lock()
				arrived[i][n.Hash] = time.Now()
				mu.Unlock()
			}
		})
	}
	for _, e := range edges {
		c.Connect(e[0], e[1])
	}
	all := c.Nodes()
	mineAndWait := func(miner *testnet.Node) (chain.Hash, time.Time) {
		txs := transfers()
		if pooled {
			// Every pool holds the transactions before the block comes,
			// as after their gossip; the untimed pause lets the pools'
			// relays of them die down.
			for _, nd := range all {
				for i, err := range nd.Node().Pool.AddBatch(txs) {
					if err != nil && !errors.Is(err, mempool.ErrDuplicate) {
						b.Fatalf("pool of %s: tx %d: %v", nd.ID.Short(), i, err)
					}
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		blk, start, err := mineTimed(miner, false, txs...)
		if err != nil {
			b.Fatal(err)
		}
		h := blk.Hash()
		// Wait for the TipChanged listeners (they run just after the tip
		// moves), not only for the tips.
		arrivedAll := func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, a := range arrived {
				if _, ok := a[h]; !ok {
					return false
				}
			}
			return true
		}
		deadline := time.Now().Add(10 * time.Second)
		for !testnet.SameTip(all...) || all[0].Tip().Hash != h || !arrivedAll() {
			if time.Now().After(deadline) {
				b.Fatalf("block did not reach every node: %s", testnet.TipSummary(all...))
			}
			time.Sleep(time.Millisecond)
		}
		return h, start
	}
	// Warm up until gossipsub has built its mesh (a heartbeat) and a
	// block crosses the whole graph by gossip alone in well under the
	// status interval.
	for i := 0; i < 20; i++ {
		_, start := mineAndWait(c.N(0))
		if time.Since(start) < 500*time.Millisecond && i >= 3 {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	var lat []time.Duration
	rng := rand.New(rand.NewSource(3))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		miner := 0
		if randomMiner {
			miner = rng.Intn(nodes)
		}
		h, start := mineAndWait(c.N(miner))
		mu.Lock()
		for k := range all {
			if k != miner {
				lat = append(lat, arrived[k][h].Sub(start))
			}
		}
		mu.Unlock()
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(q float64) float64 {
		return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	if lat[0] <= 0 {
		b.Fatalf("a node has the block before it was mined: %v", lat[0])
	}
}

// BenchmarkPropagation: ten nodes in a line (the first mines) and in a
// random connected graph of degree about 3.5 (a random node mines each
// block), with empty blocks and with blocks of 100 transfers; the pooled
// runs put the 100 transfers in every node's pool first, as their gossip
// does ahead of a block, so validation finds their signatures verified.
func BenchmarkPropagation(b *testing.B) {
	for _, txs := range []int{0, 100} {
		b.Run(fmt.Sprintf("line10/txs=%d", txs), func(b *testing.B) { propagation(b, lineEdges(10), 10, false, txs, false) })
		b.Run(fmt.Sprintf("mesh10/txs=%d", txs), func(b *testing.B) { propagation(b, meshEdges(10, 17), 10, true, txs, false) })
	}
	b.Run("line10/txs=100/pooled", func(b *testing.B) { propagation(b, lineEdges(10), 10, false, 100, true) })
	b.Run("mesh10/txs=100/pooled", func(b *testing.B) { propagation(b, meshEdges(10, 17), 10, true, 100, true) })
}

func lineEdges(n int) [][2]int {
	var edges [][2]int
	for i := 0; i+1 < n; i++ {
		edges = append(edges, [2]int{i, i + 1})
	}
	return edges
}

// meshEdges returns a random connected graph of n nodes and m edges.
func meshEdges(n, m int) [][2]int {
	rng := rand.New(rand.NewSource(5))
	seen := map[[2]int]bool{}
	var edges [][2]int
	add := func(a, c int) {
		if a == c || seen[[2]int{a, c}] || seen[[2]int{c, a}] {
			return
		}
		seen[[2]int{a, c}] = true
		edges = append(edges, [2]int{a, c})
	}
	for i := 1; i < n; i++ {
		add(i, rng.Intn(i))
	}
	for len(edges) < m {
		add(rng.Intn(n), rng.Intn(n))
	}
	return edges
}
