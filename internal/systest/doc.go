// Package systest holds whole-system tests and benchmarks: chaind's
// packages together on the real heavy implementations, which the packages'
// own unit tests leave out (they run on the memory store and memnet, so
// `go test ./netsync ./blockchain` compiles neither libp2p nor Pebble).
//
//   - sync over libp2p on loopback (late join from three peers, dueling
//     miners, partition and heal, restart on Pebble, misbehaving and
//     hostile peers), on internal/testnet's libp2p clusters;
//   - the chain on Pebble under SIGKILL (a writer killed mid-connect,
//     mid-reorg and mid-catch-up reopens consistent);
//   - the benchmarks of docs/benchmarks.md that need both: initial sync,
//     late join, propagation, connect into Pebble.
//
// The package has no non-test code. Long variants run with CHAIND_LONG=1;
// CHAIND_NETSYNC_LOG=debug|info shows the nodes' and hosts' logs.
package systest
