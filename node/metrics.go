package node

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the node's Prometheus series. The registry is the node's own
// (not the global one) so several nodes can run in one test process.
type metrics struct {
	registry        *prometheus.Registry
	blocksConnected prometheus.Counter
	txsConnected    prometheus.Counter
	reorgs          prometheus.Counter
	txsAccepted     prometheus.Counter
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
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.blocksConnected, m.txsConnected, m.reorgs, m.txsAccepted,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_height", Help: "Height of the main chain's tip."},
			func() float64 { return float64(n.Chain.Height()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_mempool_txs", Help: "Transactions in the mempool."},
			func() float64 { return float64(n.Pool.Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_miner_hashrate", Help: "Miner hashes per second (recent window)."},
			func() float64 { return n.Miner.HashRate() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chaind_peers", Help: "Connected peers."},
			func() float64 { return float64(n.PeerCount()) }),
	)
	return m
}

// Registry returns the node's Prometheus registry, for /metrics and for
// layers above (the API adds its request latencies).
func (n *Node) Registry() *prometheus.Registry { return n.metrics.registry }
