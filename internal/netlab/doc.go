// Package netlab runs members (each a service such as a node.Node on its
// own network endpoint) in one process and owns the network between them:
// links and their shapes, partitions, and the members' stop, crash and
// start. Every control returns an error; internal/testnet (tests, failing
// through testing.TB) and package lab (`chaind devnet`) are built on it.
//
// Two transports:
//
//   - Memnet: one p2p/memnet network. Links, shapes (delay, jitter, loss,
//     bandwidth) and partitions are memnet's own; a member keeps its peer
//     id and its links across restarts (memnet.Net.Reopen).
//   - Libp2p: a libp2p host per member on 127.0.0.1 with a free port,
//     its identity key in the member's directory (so the id survives
//     restarts), discovery off unless Config.Discovery. A link is a dial,
//     after which the lab waits for both services to know each other
//     (Service.Knows) and for each to be in the other's gossip mesh; a
//     partition cuts every pair of members on different sides at both
//     ends (Cutter) and a shape is set at both ends through p2p.Shaper.
//     A member started again gets its cuts and shapes back and dials its
//     linked running peers.
//
// Crash differs from Stop in order: the member's network is closed first
// (its links drop at that instant), then its service stops.
//
// A Lab is safe for concurrent use; its controls run one at a time.
package netlab
