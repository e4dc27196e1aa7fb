// Package lab is the devnet: a whole proof-of-work network that a class can
// steer and measure.
//
// A network file (YAML, in the spirit of Warnet's network.yaml) names the
// nodes (hash-rate share, mining or not, miner strategy) and the links
// between them (latency, jitter, loss, bandwidth in bits per second);
// topology flags give the common shapes (line, ring, mesh, random:k). Both
// clusters shape links: memnet natively (a limited link queues each
// message behind the one before it; in a simulation compressed by K, delays
// are divided by K and bandwidths multiplied by K, so transmit times scale
// like latencies), libp2p through the hosts' shapers. A scenario file is a
// list of timed steps (partition, heal, shape, stop, crash, start, add,
// mine, hashrate, send, remember, and load to start and stop a transaction
// load) and expectations checked at their time (every node on one tip, a
// height reached, a transaction or every transaction of the load mined, a
// remembered block kept, a reorg seen, a miner's share); it passes when
// every expectation held. A broken step is refused, with its number and
// line, before the network starts.
//
// The observatory takes the events of the network (a block found, a node
// seeing a block or a transaction first, a reorg, a partition, a shape) and
// computes per-block propagation (from the find to 50%, 90% and 100% of the
// nodes), the stale-block and fork rates against the textbook 1 - e^(-d/T)
// (d measured as the estimate means it: the hash-weighted delay to the
// miners, over the blocks no fork disturbed), reorg depths and each
// miner's share of the main chain against its hash-rate share. The
// session's events are recorded as JSON lines, so a report can be
// recomputed from a recording.
//
// The controller serves the controls and the report over HTTP for a
// running devnet (the CLI's `chaind devnet partition ...` and the
// explorer's network view call it); the network itself is behind the
// Cluster interface, so the same controller runs over memnet and libp2p
// (partitions and link shapes included: see P2PCluster). Both clusters
// keep their nodes, links, partitions and shapes in internal/netlab, the
// core internal/testnet is built on too. The controller
// also runs a transaction load (Load): signed transfers at a steady rate
// through the nodes, for blocks that carry transactions.
package lab
