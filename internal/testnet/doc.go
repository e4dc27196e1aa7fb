// Package testnet starts N full chaind nodes (the same node.Node that
// `chaind run` runs) in one process for tests, over one in-memory network
// (p2p/memnet, the default) or over libp2p hosts on loopback
// (Config.Transport = Libp2p), and gives the test the controls of a
// network lab:
//
//   - topology: Connect, ConnectAll, Line, Disconnect (links are made by
//     the cluster, not dialled by the nodes' own discovery);
//   - failures: Partition into groups and Heal; Shape one link's delay,
//     jitter, loss and bandwidth. On libp2p they go through the nodes'
//     networks: the host's p2p.Shaper (Cut, Uncut, ShapeLink at both
//     ends), or a Config.Wrap network that cuts; a network that can
//     neither fails the test with ErrUnsupported. Config.Wrap puts a
//     test's gate or fault injector above any transport;
//   - lifecycle: Stop (clean shutdown), Crash (see below) and Start (the
//     node is built again on the same store and data directory, keeps its
//     identity and its links);
//   - waiting: WaitFor one condition, WaitForTip, WaitForHeight,
//     WaitForConvergence; predicates SameTip and TipSummary for messages.
//
// Every node i holds the deterministic key chaintest.Key(i) as its
// development key, and the default network funds every such key, so a
// test can Send from node i at once.
//
// Crash, in one process, means: the node's network goes first (its links
// drop at that instant; messages in flight to or from it are lost and its
// peers see a disconnect, with nothing the node was about to publish leaving
// it), then the node's goroutines are stopped and the block being connected,
// if any, finishes (a connect is one atomic store batch, so there is no
// half-written block to model). The mempool is lost, as it is on any
// restart. Stop differs in order: the miner and sync stop first and the
// network closes last. With a memory store both keep every block the node
// had connected; the Pebble store (Config.Pebble) is closed and reopened.
// On libp2p the node's host closes first on Crash, and a restarted node
// gets a new host with the same identity (its key is in the data
// directory) that dials the node's links again.
//
// A Cluster is driven from the test's goroutine; its methods fail the test
// (t.Fatalf) on errors. Cleanup stops every node and the network. The
// network and the nodes' lifecycle are internal/netlab's, which returns
// errors instead and which package lab (`chaind devnet`) shares.
//
// Model: hashicorp/raft's test cluster (Partition, Disconnect, WaitFor...)
// running the same node code on an in-memory transport.
package testnet
