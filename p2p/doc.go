// Package p2p is chaind's peer-to-peer transport. It carries opaque byte
// messages between nodes and knows nothing of blocks or chain rules: the
// sync and relay logic (package netsync) sits on top of the small Network
// interface defined here.
//
// A Network offers three things:
//
//   - Gossip: named topics (e.g. "blocks", "txs"). Publish floods a message
//     to every connected peer; each receiver runs the topic's GossipHandler
//     as a validator before relaying: Accept relays, Ignore drops silently,
//     Reject drops and penalises the peer that sent it.
//   - Request/response: named, versioned protocols (e.g. "status/1"). One
//     exchange per request, size caps enforced by both sides, deadline
//     from the caller's context.
//   - Peers: connect/disconnect events, a peer list, and Penalize, which
//     adds misbehaviour points that decay over time; at BanThreshold the
//     peer is disconnected and its connections are refused for a while.
//
// Two implementations exist: package p2p/libp2p runs on go-libp2p (the
// production network), and package p2p/memnet is an in-memory network with
// latency, loss and partitions for tests of many nodes in one process. Both
// also implement the optional interfaces Addressed, Keeper and Shaper (link
// shapes and cuts, for the lab's slow links and partitions). This
// package imports neither, so the packages below node depend on the
// interface alone.
package p2p
