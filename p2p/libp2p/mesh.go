package libp2p

import (
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/chaind/chaind/p2p"
)

// meshTracer follows which peers are in this host's gossipsub mesh of
// each topic (Graft and Prune), forgetting a peer when the pubsub stream
// to it closes. A newly connected peer is a topic peer at once but joins
// the mesh only at a heartbeat; until then what this node relays (rather
// than publishes) does not reach it directly.
type meshTracer struct {
	mu   sync.Mutex
	mesh map[peer.ID]map[string]bool
}

var _ pubsub.RawTracer = (*meshTracer)(nil)

func newMeshTracer() *meshTracer { return &meshTracer{mesh: map[peer.ID]map[string]bool{}} }

func (m *meshTracer) Graft(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mesh[p] == nil {
		m.mesh[p] = map[string]bool{}
	}
	m.mesh[p][topic] = true
}

func (m *meshTracer) Prune(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mesh[p], topic)
}

func (m *meshTracer) OnClosedOutboundStream(p peer.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mesh, p)
}

// inMesh reports whether p is in the mesh of every topic in topics.
func (m *meshTracer) inMesh(p peer.ID, topics []string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range topics {
		if !m.mesh[p][t] {
			return false
		}
	}
	return true
}

func (m *meshTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (m *meshTracer) Join(string)                                          {}
func (m *meshTracer) Leave(string)                                         {}
func (m *meshTracer) ValidateMessage(*pubsub.Message)                      {}
func (m *meshTracer) DeliverMessage(*pubsub.Message)                       {}
func (m *meshTracer) RejectMessage(*pubsub.Message, string)                {}
func (m *meshTracer) DuplicateMessage(*pubsub.Message)                     {}
func (m *meshTracer) ThrottlePeer(peer.ID)                                 {}
func (m *meshTracer) RecvRPC(*pubsub.RPC)                                  {}
func (m *meshTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (m *meshTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (m *meshTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (m *meshTracer) UndeliverableMessage(*pubsub.Message)                 {}

// GossipMeshed reports whether peer id is in this host's gossip mesh of
// every registered topic, so that what this node relays reaches it
// directly. Tests wait for it after connecting; false before Start.
func (h *Host) GossipMeshed(id p2p.PeerID) bool {
	pid, err := peer.Decode(string(id))
	if err != nil || !h.started() {
		return false
	}
	topics := make([]string, 0, len(h.topics))
	for _, t := range h.topics {
		topics = append(topics, t.full)
	}
	return h.mesh.inMesh(pid, topics)
}
