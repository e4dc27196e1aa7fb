package node

import (
	"context"
	"math"
	"math/big"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/internal/version"
)

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func gather(t *testing.T, n *Node) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := n.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func gauge(t *testing.T, mfs map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	mf, ok := mfs[name]
	if !ok || len(mf.Metric) != 1 || mf.Metric[0].Gauge == nil {
		t.Fatalf("no single gauge %s", name)
	}
	return mf.Metric[0].Gauge.GetValue()
}

// TestChainMetrics mines blocks at known times and checks the series a
// dashboard reads: height, tip timestamp and age, difficulty, the block
// interval histogram, the network hash-rate estimate, sync progress and the
// build information.
func TestChainMetrics(t *testing.T) {
	params := consensus.Regtest()
	genesis := time.Unix(int64(params.GenesisTime), 0)
	clock := &fakeClock{t: genesis.Add(1000 * time.Second)}
	n := startNode(t, Config{Params: params, Now: clock.now})
	ctx := context.Background()

	mfs := gather(t, n)
	if got := gauge(t, mfs, "chaind_network_hashrate"); got != 0 {
		t.Fatalf("hash rate at genesis = %v, want 0", got)
	}
	// Five blocks, the first 1,000 s after genesis, then every 2 s.
	const blocks = 5
	for i := range blocks {
		clock.set(genesis.Add(time.Duration(1000+2*i) * time.Second))
		b, err := n.Mine(ctx, "")
		if err != nil {
			t.Fatalf("mine block %d: %v", i+1, err)
		}
		if want := uint32(params.GenesisTime) + 1000 + 2*uint32(i); b.Header.Timestamp != want {
			t.Fatalf("block %d timestamp %d, want %d", i+1, b.Header.Timestamp, want)
		}
	}
	tipTime := genesis.Add(1008 * time.Second)
	clock.set(tipTime.Add(7 * time.Second))

	mfs = gather(t, n)
	if got := gauge(t, mfs, "chaind_height"); got != blocks {
		t.Fatalf("height %v, want %d", got, blocks)
	}
	if got := gauge(t, mfs, "chaind_tip_timestamp_seconds"); got != float64(tipTime.Unix()) {
		t.Fatalf("tip timestamp %v, want %d", got, tipTime.Unix())
	}
	if got := gauge(t, mfs, "chaind_tip_age_seconds"); got != 7 {
		t.Fatalf("tip age %v, want 7", got)
	}
	if got := gauge(t, mfs, "chaind_difficulty"); got != 1 {
		t.Fatalf("regtest difficulty %v, want 1", got)
	}
	// Work of five blocks at the easiest target over 1,008 s.
	w, _ := new(big.Float).SetInt(consensus.Work(params.PowLimit)).Float64()
	if got, want := gauge(t, mfs, "chaind_network_hashrate"), blocks*w/1008; math.Abs(got-want) > want*1e-9 {
		t.Fatalf("network hash rate %v, want %v", got, want)
	}
	h := mfs["chaind_block_interval_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != blocks || h.GetSampleSum() != 1000+2*(blocks-1) {
		t.Fatalf("block interval histogram: count %d sum %v, want %d and %d", h.GetSampleCount(), h.GetSampleSum(), blocks, 1000+2*(blocks-1))
	}
	for _, b := range h.GetBucket() {
		want := uint64(0)
		if b.GetUpperBound() >= 2 {
			want = blocks - 1
		}
		if b.GetUpperBound() >= 1000 {
			want = blocks
		}
		if b.GetCumulativeCount() != want {
			t.Fatalf("bucket le=%v holds %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	if got := gauge(t, mfs, "chaind_sync_target_height"); got != blocks {
		t.Fatalf("sync target %v, want %d (in step, no peers)", got, blocks)
	}
	if got := gauge(t, mfs, "chaind_syncing"); got != 0 {
		t.Fatalf("syncing %v with no peers", got)
	}
	// The node's own blocks say nothing of propagation; a gossiped one
	// counts from its timestamp.
	prop := func() *dto.Histogram {
		return gather(t, n)["chaind_block_propagation_seconds"].GetMetric()[0].GetHistogram()
	}
	if got := prop().GetSampleCount(); got != 0 {
		t.Fatalf("propagation histogram counted %d of the node's own blocks", got)
	}
	tip := n.Chain.Tip()
	gossiped := chaintest.Block(chaintest.Spec{Parent: &tip.Header, Time: tip.Header.Timestamp + 2,
		Miner: chain.Address{7}, Reward: params.Reward(tip.Height + 1)})
	clock.set(time.Unix(int64(gossiped.Header.Timestamp), 0).Add(1500 * time.Millisecond))
	if _, err := n.Chain.ProcessBlock(gossiped, blockchain.Unrequested); err != nil {
		t.Fatal(err)
	}
	if h := prop(); h.GetSampleCount() != 1 || h.GetSampleSum() != 1.5 {
		t.Fatalf("propagation histogram: count %d sum %v, want 1 and 1.5", h.GetSampleCount(), h.GetSampleSum())
	}
	if got := propagationDelay(gossiped.Header.Timestamp, time.Unix(int64(gossiped.Header.Timestamp)-3, 0)); got != 0 {
		t.Fatalf("delay of a block stamped ahead of the clock = %v, want 0", got)
	}

	labels := map[string]string{}
	for _, l := range mfs["chaind_build_info"].GetMetric()[0].GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	if bi := version.Get(); labels["version"] != bi.Version || labels["goversion"] != bi.Go || labels["network"] != "regtest" {
		t.Fatalf("build info labels %v", labels)
	}
}

// TestNetworkHashRateWindow checks that the estimate spans only the newest
// HashRateWindow blocks once the chain is longer.
func TestNetworkHashRateWindow(t *testing.T) {
	params := consensus.Regtest()
	genesis := time.Unix(int64(params.GenesisTime), 0)
	clock := &fakeClock{t: genesis}
	n, err := New(Config{Params: params, DataDir: t.TempDir(), Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	// HashRateWindow+5 blocks: the first five 100 s apart, the rest 1 s apart.
	ts := params.GenesisTime
	for i := range HashRateWindow + 5 {
		if i < 5 {
			ts += 100
		} else {
			ts++
		}
		clock.set(time.Unix(int64(ts), 0))
		if _, err := n.Mine(context.Background(), ""); err != nil {
			t.Fatal(err)
		}
	}
	w, _ := new(big.Float).SetInt(consensus.Work(params.PowLimit)).Float64()
	// The window starts at height 5 (the fifth slow block): 20 blocks in 20 s.
	if got, want := networkHashRate(n.Chain, HashRateWindow), HashRateWindow*w/HashRateWindow; math.Abs(got-want) > want*1e-9 {
		t.Fatalf("hash rate over the window %v, want %v", got, want)
	}
	if got := networkHashRate(n.Chain, 0); got != 0 {
		t.Fatalf("empty window: %v", got)
	}
}

// TestMinedBlockSkipsPoolVerifiedSigs mines a block of transactions the
// pool admitted: the chain finds every signature in the shared cache and
// verifies none, which the sigcache series report.
func TestMinedBlockSkipsPoolVerifiedSigs(t *testing.T) {
	keys := chaintest.Keys(2)
	params := chaintest.Params(keys, 1_000_000)
	n := startNode(t, Config{Params: params})
	ctx := context.Background()
	const txs = 5
	for i := range txs {
		if err := n.Pool.Add(chaintest.Tx(params, keys[0], keys[1].Address(), 10, 1, uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	b, err := n.Mine(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Txs) != txs+1 {
		t.Fatalf("mined %d transactions, want the coinbase and %d", len(b.Txs), txs)
	}
	mfs := gather(t, n)
	counter := func(name string) float64 {
		mf, ok := mfs[name]
		if !ok || len(mf.Metric) != 1 || mf.Metric[0].Counter == nil {
			t.Fatalf("no single counter %s", name)
		}
		return mf.Metric[0].Counter.GetValue()
	}
	if hits, misses := counter("chaind_sigcache_hits_total"), counter("chaind_sigcache_misses_total"); hits != txs || misses != 0 {
		t.Fatalf("sigcache hits %v misses %v, want %d and 0", hits, misses, txs)
	}
	if got := gauge(t, mfs, "chaind_sigcache_entries"); got != txs {
		t.Fatalf("sigcache holds %v entries, want %d (the block is the tip, not yet %d deep)", got, txs, blockchain.SigCacheKeepDepth)
	}
}
