package node

import (
	"math/big"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/version"
)

// HashRateWindow is how many of the newest blocks the network hash-rate
// estimate spans (chaind_network_hashrate).
const HashRateWindow = 20

// metrics are the node's Prometheus series. The registry is the node's own
// (not the global one) so several nodes can run in one test process.
type metrics struct {
	registry        *prometheus.Registry
	blocksConnected prometheus.Counter
	txsConnected    prometheus.Counter
	reorgs          prometheus.Counter
	txsAccepted     prometheus.Counter
	blockInterval   prometheus.Histogram
	blocksDisconn   prometheus.Counter
	propagation     prometheus.Histogram
}

func newMetrics(n *Node) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		blocksConnected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chaind_blocks_connected_total", Help: "Blocks connected to the main chain."}),
		txsConnected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chaind_txs_connected_total", Help: "Transactions (coinbases included) in connected blocks."}),
		reorgs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chaind_reorgs_total", Help: "Times the main chain switched branch."}),
		txsAccepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chaind_mempool_txs_accepted_total", Help: "Transactions admitted to the mempool."}),
		blockInterval: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chaind_block_interval_seconds",
			Help: "Timestamp difference between each connected block and its parent (0 when the clock went back).",
			// 0.25 s .. 2048 s: devnet's one-second blocks to mainnet's minutes.
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 14),
		}),
		blocksDisconn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chaind_blocks_disconnected_total", Help: "Blocks a reorg took off the main chain (stale blocks this node had connected)."}),
		propagation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chaind_block_propagation_seconds",
			Help: "Time from a gossiped block's header timestamp to its acceptance here: the network's propagation, " +
				"plus what the miner spent after stamping the block, up to a second of timestamp rounding and the clocks' skew " +
				"(0 when the timestamp is ahead). Blocks this node mined or fetched in a sync are not counted.",
			// 50 ms .. 410 s: a LAN's relay to a node that was cut off for minutes.
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}),
	}
	bi := version.Get()
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.blocksConnected, m.txsConnected, m.reorgs, m.txsAccepted, m.blockInterval, m.blocksDisconn, m.propagation,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chaind_build_info", Help: "Always 1; the labels say which build and network this node runs.",
			ConstLabels: prometheus.Labels{"version": bi.Version, "commit": bi.Commit, "goversion": bi.Go, "network": n.cfg.Params.Name},
		}, func() float64 { return 1 }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_height", Help: "Height of the main chain's tip."},
			func() float64 { return float64(n.Chain.Height()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_tip_timestamp_seconds", Help: "Timestamp of the main chain's tip (Unix seconds)."},
			func() float64 { return float64(n.Chain.Tip().Header.Timestamp) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_tip_age_seconds", Help: "Seconds since the main chain's tip's timestamp, by the node's clock."},
			func() float64 { return tipAge(n.Chain.Tip(), n.now()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_difficulty", Help: "Difficulty of the tip: how many times harder its target is than the network's easiest."},
			func() float64 { return consensus.Difficulty(n.Chain.Tip().Header.Bits, n.cfg.Params.PowLimit) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_network_hashrate", Help: "Estimated hashes per second of the whole network: work of the newest blocks over their time span."},
			func() float64 { return networkHashRate(n.Chain, HashRateWindow) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_mempool_txs", Help: "Transactions in the mempool."},
			func() float64 { return float64(n.Pool.Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_miner_hashrate", Help: "Miner hashes per second (recent window)."},
			func() float64 { return n.Miner.HashRate() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_peers", Help: "Connected peers."},
			func() float64 { return float64(n.PeerCount()) }),
	)
	if sc := n.Chain.SigCache(); sc != nil {
		m.registry.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "chaind_sigcache_hits_total",
				Help: "Block transactions whose signatures the signature cache held (verified at mempool admission): not verified again."},
				func() float64 { return float64(sc.Stats().Hits) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "chaind_sigcache_misses_total",
				Help: "Block transactions whose signatures were not cached and were verified."},
				func() float64 { return float64(sc.Stats().Misses) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_sigcache_entries", Help: "Verified signatures the cache holds."},
				func() float64 { return float64(sc.Len()) }),
		)
	}
	if n.Sync != nil {
		m.registry.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_sync_target_height", Help: "Height being synced to, or the best height a peer announced (the chain's height when in step)."},
				func() float64 { return float64(n.Sync.Progress().TargetHeight) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_syncing", Help: "1 while a sync session fetches headers or blocks, else 0."},
				func() float64 {
					if n.Sync.Progress().Syncing {
						return 1
					}
					return 0
				}),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_sync_blocks_per_second", Help: "Blocks connected per second over the sync rate window."},
				func() float64 { return n.Sync.Progress().BlocksPerSec }),
		)
	}
	return m
}

// observeConnected records a block connected to the main chain.
func (m *metrics) observeConnected(bc *blockchain.Blockchain, e blockchain.Notification) {
	m.blocksConnected.Inc()
	m.txsConnected.Add(float64(len(e.Block.Txs)))
	if parent, ok := bc.BlockInfo(e.Block.Header.PrevHash); ok {
		m.blockInterval.Observe(max(0, float64(int64(e.Block.Header.Timestamp)-int64(parent.Header.Timestamp))))
	}
}

// observeAccepted records a block that entered the block index. Only
// gossiped blocks (blockchain.Unrequested) say how fast the network
// spreads blocks: the node's own blocks and sync downloads arrive with
// Requested.
func (m *metrics) observeAccepted(e blockchain.Notification, now time.Time) {
	if e.Flags&blockchain.Requested != 0 {
		return
	}
	m.propagation.Observe(propagationDelay(e.Block.Header.Timestamp, now))
}

// propagationDelay is the time from a header timestamp (whole seconds) to
// now, in seconds; 0 when the timestamp is ahead of now.
func propagationDelay(timestamp uint32, now time.Time) float64 {
	return max(0, now.Sub(time.Unix(int64(timestamp), 0)).Seconds())
}

// tipAge is the time from the tip's timestamp to now, in seconds (negative
// when the tip's clock is ahead of ours).
func tipAge(tip blockchain.Tip, now time.Time) float64 {
	return now.Sub(time.Unix(int64(tip.Header.Timestamp), 0)).Seconds()
}

// networkHashRate estimates the network's hashes per second from the work
// of the newest window blocks and the time they took: (work(tip) -
// work(tip-window)) / (time(tip) - time(tip-window)), over fewer blocks
// near genesis and with a span of at least one second. 0 at genesis.
func networkHashRate(bc *blockchain.Blockchain, window uint32) float64 {
	tip := bc.Tip()
	if tip.Height == 0 || window == 0 {
		return 0
	}
	from := tip.Height - min(window, tip.Height)
	hash, err := bc.HashAt(from)
	if err != nil {
		return 0 // the chain moved under us (a reorg below from); the next scrape tells
	}
	base, ok := bc.BlockInfo(hash)
	if !ok {
		return 0
	}
	work := new(big.Int).Sub(tip.Work, base.Work)
	span := max(1, int64(tip.Header.Timestamp)-int64(base.Header.Timestamp))
	f, _ := new(big.Rat).SetFrac(work, big.NewInt(span)).Float64()
	return f
}

// Registry returns the node's Prometheus registry, for /metrics and for
// layers above (the API adds its request latencies).
func (n *Node) Registry() *prometheus.Registry { return n.metrics.registry }
