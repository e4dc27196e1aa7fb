// Package libp2p implements p2p.Network on go-libp2p. The Host runs TCP and
// WebSocket (port+1) transports, Noise, yamux, gossipsub with flood publish and
// content-hash message ids, a connection manager with watermarks, a
// resource manager with explicit limits for the chain's protocols, peer
// exchange, an optional private Kademlia DHT and optional mDNS.
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
//
// The Host is a p2p.Shaper without root or tc (shape.go): every secured
// connection is wrapped below yamux in a writer that delays what this node
// sends to a shaped peer (latency, jitter, bandwidth, and loss modelled as
// TCP retransmission delay), and a gater refuses cut peers both ways.
package libp2p
