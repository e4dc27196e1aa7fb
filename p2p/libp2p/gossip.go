package libp2p

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/chaind/chaind/p2p"
)

// Gossipsub queue sizes. The library's defaults (32 each) silently drop
// about 40% of a 2,000-message burst; these hold a burst of thousands.
const (
	// GossipPeerQueue is the per-peer outbound message queue.
	GossipPeerQueue = 4096
	// GossipValidateQueue is the queue of messages awaiting validation.
	GossipValidateQueue = 4096
	// GossipValidateConcurrency bounds concurrent validations per topic.
	GossipValidateConcurrency = 4096
	// GossipSubscriptionBuffer is each topic subscription's buffer.
	GossipSubscriptionBuffer = 4096
	// gossipFrameOverhead is added to MaxGossipSize for the RPC framing.
	gossipFrameOverhead = 64 << 10
)

// Gossipsub peer-score tuning. Scores here only decide gossip routing
// (mesh membership, who gets gossip); disconnecting and banning is the
// penalty book's job. The aim is that nothing fires in small networks or
// when every node shares one IP:
//   - IP colocation is off: loopback tests and one Compose network put every
//     node on one IP, and bans are per peer id anyway.
//   - Invalid messages are not counted again by gossipsub (no topic P4): a
//     Reject already charges penalty points, and a single negative score
//     would prune the only mesh link of a node in a 2-3 node line.
//   - The app-specific score is minus the penalty points above half the ban
//     threshold, so only a peer well on its way to a ban loses gossip.
//   - Behaviour penalties (broken IWANT promises, early re-grafts) are
//     tolerated up to a generous threshold so a burst does not trip them.
const (
	scoreGossipThreshold   = -10
	scorePublishThreshold  = -30
	scoreGraylistThreshold = -45
	scoreAcceptPXThreshold = 1000 // PX is off; never accept it
	scoreBehaviourWeight   = -1
	scoreBehaviourLimit    = 50
	scoreBehaviourDecay    = 10 * time.Minute
	scoreRetain            = 10 * time.Minute
)

// messageID is the gossip message id: SHA-256 of the content, so the same
// block or transaction published by two nodes is one message.
func messageID(m *pb.Message) string {
	sum := sha256.Sum256(m.Data)
	return string(sum[:])
}

// peerID returns p's textual id, from the peer set when p is connected:
// gossipsub asks appScore for every peer each time it scores one, and
// base58-encoding the id each time cost about 4% of a 10-node devnet's CPU.
func (h *Host) peerID(p peer.ID) p2p.PeerID {
	h.peers.mu.RLock()
	e := h.peers.m[p]
	h.peers.mu.RUnlock()
	if e != nil {
		return e.pid
	}
	return p2p.PeerID(p.String())
}

func (h *Host) appScore(p peer.ID) float64 {
	excess := h.book.Points(string(h.peerID(p))) - p2p.BanThreshold/2
	if excess <= 0 {
		return 0
	}
	return -float64(excess)
}

// startGossip creates the gossipsub router and joins every registered topic.
func (h *Host) startGossip() error {
	gproto := h.gossipProtocol()
	params := &pubsub.PeerScoreParams{
		AppSpecificScore:          h.appScore,
		AppSpecificWeight:         1,
		IPColocationFactorWeight:  0,
		BehaviourPenaltyWeight:    scoreBehaviourWeight,
		BehaviourPenaltyThreshold: scoreBehaviourLimit,
		BehaviourPenaltyDecay:     pubsub.ScoreParameterDecay(scoreBehaviourDecay),
		DecayInterval:             pubsub.DefaultDecayInterval,
		DecayToZero:               pubsub.DefaultDecayToZero,
		RetainScore:               scoreRetain,
	}
	thresholds := &pubsub.PeerScoreThresholds{
		GossipThreshold:   scoreGossipThreshold,
		PublishThreshold:  scorePublishThreshold,
		GraylistThreshold: scoreGraylistThreshold,
		AcceptPXThreshold: scoreAcceptPXThreshold,
	}
	// Gossip rides on the connections the host made; it never dials. Its
	// stream to a new peer is opened a moment after the connection, and
	// a dial there would undo a disconnect made in that moment (ClosePeer,
	// a penalty, the lab stopping a link).
	ps, err := pubsub.NewGossipSub(network.WithNoDial(h.ctx, "gossip uses existing connections"), h.h,
		pubsub.WithGossipSubProtocols([]protocol.ID{gproto}, func(f pubsub.GossipSubFeature, p protocol.ID) bool {
			return p == gproto && (f == pubsub.GossipSubFeatureMesh || f == pubsub.GossipSubFeatureIdontwant)
		}),
		pubsub.WithFloodPublish(true),
		pubsub.WithPeerExchange(false),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithPeerOutboundQueueSize(GossipPeerQueue),
		pubsub.WithValidateQueueSize(GossipValidateQueue),
		pubsub.WithMaxMessageSize(h.cfg.MaxGossipSize+gossipFrameOverhead),
		pubsub.WithPeerScore(params, thresholds),
		pubsub.WithRawTracer(h.mesh),
	)
	if err != nil {
		return fmt.Errorf("p2p: start gossipsub: %w", err)
	}
	h.ps = ps
	for _, t := range h.topics {
		if err := h.joinTopic(t); err != nil {
			return err
		}
	}
	return nil
}

func (h *Host) joinTopic(t *topicState) error {
	if err := h.ps.RegisterTopicValidator(t.full, h.validator(t),
		pubsub.WithValidatorConcurrency(GossipValidateConcurrency)); err != nil {
		return fmt.Errorf("p2p: topic %s: register validator: %w", t.name, err)
	}
	topic, err := h.ps.Join(t.full)
	if err != nil {
		return fmt.Errorf("p2p: join topic %s: %w", t.name, err)
	}
	sub, err := topic.Subscribe(pubsub.WithBufferSize(GossipSubscriptionBuffer))
	if err != nil {
		return fmt.Errorf("p2p: subscribe to topic %s: %w", t.name, err)
	}
	t.topic, t.sub = topic, sub
	// The handler already saw each message as its validator; the
	// subscription only keeps this node in the topic's mesh. Drain it.
	h.spawn(func() {
		for {
			if _, err := sub.Next(h.ctx); err != nil {
				return
			}
		}
	})
	return nil
}

// validator adapts a GossipHandler to a pubsub topic validator. The node's
// own publications are accepted without calling the handler.
func (h *Host) validator(t *topicState) pubsub.ValidatorEx {
	return func(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		if from == h.self {
			return pubsub.ValidationAccept
		}
		id := h.peerID(from)
		if len(msg.Data) > h.cfg.MaxGossipSize {
			h.Penalize(id, p2p.PenaltyOversized, "oversized gossip on "+t.name)
			return pubsub.ValidationReject
		}
		switch t.handler(id, msg.Data) {
		case p2p.Accept:
			return pubsub.ValidationAccept
		case p2p.Reject:
			h.Penalize(id, p2p.PenaltyInvalidMessage, "invalid gossip on "+t.name)
			return pubsub.ValidationReject
		default:
			return pubsub.ValidationIgnore
		}
	}
}

// Publish sends data to every peer subscribed to the topic. See Network.
func (h *Host) Publish(topic string, data []byte) error {
	if !h.started() {
		if h.state.Load() == stateClosed {
			return p2p.ErrClosed
		}
		return p2p.ErrNotStarted
	}
	t, ok := h.topics[topic]
	if !ok {
		return fmt.Errorf("%w: %q", p2p.ErrUnknownTopic, topic)
	}
	if len(data) > h.cfg.MaxGossipSize {
		return fmt.Errorf("p2p: publish on %s: %d bytes, limit %d", topic, len(data), h.cfg.MaxGossipSize)
	}
	ctx, cancel := context.WithTimeout(h.ctx, PublishTimeout)
	defer cancel()
	// pubsub keeps the slice it is given: hand it a private copy.
	if err := t.topic.Publish(ctx, bytes.Clone(data)); err != nil {
		return fmt.Errorf("p2p: publish on %s: %w", topic, err)
	}
	return nil
}

// topicPeers lists the peers known to be subscribed to a topic (for tests
// and diagnostics).
func (h *Host) topicPeers(topic string) []peer.ID {
	t, ok := h.topics[topic]
	if !ok || t.topic == nil {
		return nil
	}
	return t.topic.ListPeers()
}
