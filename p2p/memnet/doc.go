// Package memnet is an in-memory implementation of p2p.Network for tests
// that run many nodes in one process.
//
// A Net creates nodes and the links between them. Each link has a latency
// (plus optional jitter) and a loss probability for gossip. Partition splits
// the nodes into groups that cannot reach each other; Heal joins them again.
// A node sees a link as a connected peer only while both ends are started,
// in the same partition group and not banning each other, and it gets a
// PeerEvent whenever that changes, as it would when real connections drop
// and are redialled.
//
// Gossip behaves like gossipsub with flood publish: Publish sends to every
// neighbour; a receiver drops messages it has seen (by SHA-256 of the
// content), runs the topic's handler as validator, and relays accepted
// messages to its other neighbours; Reject penalises the sender. As in
// gossipsub, "seen" means accepted by the validator or published by this
// node, not merely arrived: a copy that was ignored is validated again when
// it comes again, and a node that publishes something it received (a block
// it connected by another path meanwhile) sends it out. Each message is
// delivered to a node's validator at most once after it is seen, and sent
// on by the node at most once, whether by relay or by its own Publish. Requests
// travel over the link with its latency in each direction and obey the
// same size caps and error values as the libp2p Host. Loss applies to
// gossip only: requests model a reliable stream that fails only when its
// link goes down.
//
// Timing is real (a scheduler goroutine delivers each message when its
// latency has passed). Loss and jitter are drawn from a hash of the seed,
// the link and the message, so which messages are lost does not depend on
// goroutine scheduling: the same seed loses the same messages.
//
// Each node handles its incoming gossip in one goroutine, in arrival order;
// requests are served concurrently. Net.Close stops every node and the
// scheduler.
package memnet
