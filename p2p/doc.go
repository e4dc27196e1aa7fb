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
// Two implementations exist. Host runs on go-libp2p: TCP and WebSocket
// (port+1) transports, Noise, yamux, gossipsub with flood publish and
// content-hash message ids, a connection manager with watermarks, a
// resource manager with explicit limits for the chain's protocols, peer
// exchange, an optional private Kademlia DHT and optional mDNS. Package
// memnet is an in-memory network with latency, loss and partitions for
// tests of many nodes in one process.
//
// Every protocol id and topic carries the network id, so nodes of
// different networks never mix:
//
//	request protocol  /chaind/<netid>/<name>       e.g. /chaind/<netid>/status/1
//	gossip topic      chaind/<netid>/<topic>       e.g. chaind/<netid>/blocks
//	gossip router     /chaind/<netid>/meshsub/1.2.0
//	peer exchange     /chaind/<netid>/pex/1
//	DHT               /chaind/<netid>/kad/1.0.0
//
// A peer whose identify does not list this network's peer-exchange
// protocol is disconnected and not redialled for ForeignBackoff, and only
// peers of this network appear in Peers and PeerEvents.
package p2p
