package p2p

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// PeerID identifies a peer. For the libp2p Host it is the textual (base58)
// libp2p peer id; for memnet it is the node's name.
type PeerID string

// String returns the id as text.
func (p PeerID) String() string { return string(p) }

// Short returns an abbreviated id for logs.
func (p PeerID) Short() string {
	const keep = 12
	if len(p) <= keep {
		return string(p)
	}
	return "…" + string(p[len(p)-keep:])
}

// Verdict is a gossip handler's decision about one message.
type Verdict int

const (
	// Accept marks the message valid: it is delivered and relayed.
	Accept Verdict = iota
	// Ignore drops the message without relaying it and without blame (a
	// duplicate, something already known, something not useful right now).
	Ignore
	// Reject drops the message and penalises the peer that sent it
	// (PenaltyInvalidMessage): use it only for messages that are invalid by
	// rule, never for ones that are merely unwanted.
	Reject
)

// String names the verdict.
func (v Verdict) String() string {
	switch v {
	case Accept:
		return "accept"
	case Ignore:
		return "ignore"
	case Reject:
		return "reject"
	default:
		return fmt.Sprintf("verdict(%d)", int(v))
	}
}

// GossipHandler validates a gossip message received from a peer. It runs as
// the topic's validator, before the message is relayed: Accept relays it,
// Ignore drops it silently, Reject drops it and penalises from. It is called
// concurrently from many goroutines and must not keep data after returning
// (copy what it needs). It is not called for the node's own publications.
type GossipHandler func(from PeerID, data []byte) Verdict

// RequestHandler answers one request of a request/response protocol. The
// context carries the deadline of the exchange. Returning an error sends the
// error's text to the requester (as a RemoteError); it does not penalise
// anyone (call Penalize for that). It is called concurrently.
type RequestHandler func(ctx context.Context, from PeerID, req []byte) ([]byte, error)

// Direction says who opened the connection to a peer.
type Direction int

const (
	// Inbound: the peer dialled us.
	Inbound Direction = iota
	// Outbound: we dialled the peer.
	Outbound
)

// String names the direction.
func (d Direction) String() string {
	if d == Outbound {
		return "outbound"
	}
	return "inbound"
}

// MarshalText implements encoding.TextMarshaler, for the API's JSON.
func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// PeerInfo describes one connected peer.
type PeerInfo struct {
	ID PeerID `json:"id"`
	// Addrs are the addresses the peer can be dialled at, as multiaddrs
	// ending in /p2p/<id> (usable with Connect).
	Addrs []string `json:"addrs"`
	// HostPorts are the same addresses as "host:port" where they have one.
	HostPorts []string `json:"host_ports,omitempty"`
	// Remote is the "host:port" (or transport address) of the live connection.
	Remote    string    `json:"remote"`
	Direction Direction `json:"direction"`
	// Penalty is the misbehaviour points currently held against the peer
	// (0 is clean; the peer is banned at BanThreshold).
	Penalty     int       `json:"penalty"`
	ConnectedAt time.Time `json:"connected_at"`
}

// PeerEvent reports that a peer of this network connected or disconnected.
// A Connected event is sent only once the peer is known to speak this
// network's protocols, so a consumer can start its handshake right away.
type PeerEvent struct {
	Peer      PeerID
	Connected bool
	// Addr is the remote "host:port" (or transport address) of the connection.
	Addr string
}

// Network is the node's view of the peer-to-peer network: gossip topics,
// request/response protocols, peer events and peer discipline. It carries
// opaque bytes; what they mean is the caller's business.
//
// Handlers are registered before Start. All other methods are safe for
// concurrent use after Start.
type Network interface {
	// Self returns this node's peer id.
	Self() PeerID
	// Peers lists the connected peers of this network.
	Peers() []PeerInfo

	// HandleGossip registers the validator of a topic (a short name such as
	// "blocks"; the implementation namespaces it per network). Only
	// registered topics can be published to. Must be called before Start.
	HandleGossip(topic string, h GossipHandler) error
	// HandleRequest registers a request/response protocol (a short name with
	// a version, such as "status/1"). maxReq and maxResp cap the request and
	// response sizes, both when serving and when this node asks. Must be
	// called before Start.
	HandleRequest(protocol string, maxReq, maxResp int, h RequestHandler) error

	// Start joins the network: listens, runs discovery and connects to the
	// configured peers. It returns once the node is reachable.
	Start(ctx context.Context) error
	// Close leaves the network and stops every goroutine it started.
	Close() error

	// Publish sends data on a registered topic to all connected peers
	// (flood-publish); they relay it to theirs after validation. The data
	// slice is copied.
	Publish(topic string, data []byte) error
	// Request sends req to a connected peer and waits for the response. The
	// deadline comes from ctx (DefaultRequestTimeout if it has none); the
	// sizes are capped by the protocol's registered limits, or by
	// DefaultMaxRequestSize/DefaultMaxResponseSize if it is not registered.
	Request(ctx context.Context, peer PeerID, protocol string, req []byte) ([]byte, error)

	// Penalize adds misbehaviour points to a peer. Points add up and decay
	// with PenaltyHalfLife; at BanThreshold the peer is disconnected and
	// banned for the configured ban duration.
	Penalize(peer PeerID, points int, reason string)
	// Connect dials a peer by address (for the Host a multiaddr ending in
	// /p2p/<id>) and returns its id once it is known to be of this network.
	Connect(ctx context.Context, addr string) (PeerID, error)
	// Subscribe returns a channel of peer connect/disconnect events and a
	// function that cancels the subscription. The channel is buffered
	// (EventBuffer); events that do not fit are dropped and logged, so a
	// consumer that falls behind should reconcile with Peers().
	Subscribe() (<-chan PeerEvent, func())
}

// Bounds and defaults shared by every implementation.
const (
	// DefaultRequestTimeout bounds a request whose context has no deadline,
	// and a served request's whole exchange.
	DefaultRequestTimeout = 15 * time.Second
	// DefaultMaxRequestSize caps a request on a protocol this node has not registered.
	DefaultMaxRequestSize = 64 << 10
	// DefaultMaxResponseSize caps a response on a protocol this node has not registered.
	DefaultMaxResponseSize = 16 << 20
	// MaxRemoteErrorSize caps the error text a server sends back.
	MaxRemoteErrorSize = 512
	// EventBuffer is the capacity of a Subscribe channel.
	EventBuffer = 256
	// MaxNameLength bounds a topic or protocol short name.
	MaxNameLength = 64
)

// Peer discipline. Points are per peer id, add up, and halve every
// PenaltyHalfLife, so rare harmless slips never add up to a ban while a
// burst of invalid data does.
const (
	// BanThreshold is the number of points at which a peer is banned.
	BanThreshold = 100
	// DefaultBanDuration is how long a banned peer's connections are refused.
	DefaultBanDuration = time.Hour
	// PenaltyHalfLife is the time in which a peer's points halve.
	PenaltyHalfLife = 10 * time.Minute
	// PenaltyInvalidMessage is charged for a gossip message rejected by its
	// handler (Reject): five invalid messages in a short time ban a peer.
	PenaltyInvalidMessage = 20
	// PenaltyOversized is charged for a request or response over its cap.
	PenaltyOversized = 25
	// PenaltyProtocol is charged for a malformed frame or protocol message.
	PenaltyProtocol = 10
)

// Errors returned by Network implementations.
var (
	// ErrNotStarted is returned by methods that need a started network.
	ErrNotStarted = errors.New("p2p: network not started")
	// ErrStarted is returned when registering a handler after Start, or
	// when Start is called twice.
	ErrStarted = errors.New("p2p: network already started")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("p2p: network closed")
	// ErrUnknownTopic is returned by Publish for a topic without a handler.
	ErrUnknownTopic = errors.New("p2p: unknown topic")
	// ErrDuplicateHandler is returned when a topic or protocol is registered twice.
	ErrDuplicateHandler = errors.New("p2p: handler already registered")
	// ErrBadName is returned for a malformed topic or protocol name.
	ErrBadName = errors.New("p2p: bad topic or protocol name")
	// ErrNotConnected is returned by Request for a peer that is not connected.
	ErrNotConnected = errors.New("p2p: peer not connected")
	// ErrBanned is returned when dialling or asking a banned peer.
	ErrBanned = errors.New("p2p: peer is banned")
	// ErrSelf is returned when connecting to oneself.
	ErrSelf = errors.New("p2p: cannot connect to self")
	// ErrWrongNetwork is returned by Connect when the peer does not speak
	// this network's protocols (another network id, or not a chaind node).
	ErrWrongNetwork = errors.New("p2p: peer is not on this network")
	// ErrRequestTooLarge is returned when a request exceeds its cap, whether
	// this node refused to send it or the server refused it.
	ErrRequestTooLarge = errors.New("p2p: request too large")
	// ErrResponseTooLarge is returned when a response exceeds its cap,
	// whether the server refused to send it or this node refused to read it.
	ErrResponseTooLarge = errors.New("p2p: response too large")
	// ErrRemote is matched (errors.Is) by every RemoteError.
	ErrRemote = errors.New("p2p: remote error")
	// ErrBadAddress is returned by Connect for an address it cannot use.
	ErrBadAddress = errors.New("p2p: bad peer address")
)

// RemoteCode classifies a RemoteError.
type RemoteCode uint8

// Codes a server sends with a refused request.
const (
	// CodeHandler: the handler returned an error.
	CodeHandler RemoteCode = 1
	// CodeRequestTooLarge: the request exceeded the server's cap.
	CodeRequestTooLarge RemoteCode = 2
	// CodeResponseTooLarge: the handler's response exceeded the server's cap.
	CodeResponseTooLarge RemoteCode = 3
	// CodeBadRequest: the request was not a well-formed frame.
	CodeBadRequest RemoteCode = 4
)

// RemoteError is a refusal sent back by the peer that served a request.
// errors.Is matches ErrRemote, and also ErrRequestTooLarge or
// ErrResponseTooLarge for those codes.
type RemoteError struct {
	Peer     PeerID
	Protocol string
	Code     RemoteCode
	Msg      string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("p2p: %s from peer %s: remote error: %s", e.Protocol, e.Peer.Short(), e.Msg)
}

// Is makes errors.Is match the sentinel for the error's code.
func (e *RemoteError) Is(target error) bool {
	switch target {
	case ErrRemote:
		return true
	case ErrRequestTooLarge:
		return e.Code == CodeRequestTooLarge
	case ErrResponseTooLarge:
		return e.Code == CodeResponseTooLarge
	}
	return false
}

// CheckName reports whether s is a valid topic or protocol short name:
// 1..MaxNameLength characters from [a-z0-9._-/], not starting or ending with '/'.
func CheckName(s string) error {
	if len(s) == 0 || len(s) > MaxNameLength {
		return fmt.Errorf("%w: %q: length must be 1..%d", ErrBadName, s, MaxNameLength)
	}
	if s[0] == '/' || s[len(s)-1] == '/' {
		return fmt.Errorf("%w: %q: must not start or end with '/'", ErrBadName, s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '/'
		if !ok {
			return fmt.Errorf("%w: %q: character %q not allowed", ErrBadName, s, c)
		}
	}
	return nil
}

// CheckCaps validates the size caps given to HandleRequest.
func CheckCaps(maxReq, maxResp int) error {
	if maxReq < 0 || maxResp < 0 || maxReq > MaxFrameSize || maxResp > MaxFrameSize {
		return fmt.Errorf("p2p: size caps must be within 0..%d (got request %d, response %d)", MaxFrameSize, maxReq, maxResp)
	}
	return nil
}

// MaxFrameSize is the largest cap a protocol may set for one message.
const MaxFrameSize = 64 << 20

// Addressed is implemented by networks whose nodes have addresses other
// nodes can dial (the libp2p Host's multiaddrs, memnet's "memnet/<id>").
// It is optional: a Network without it is reached only by links made from
// outside (a test's topology).
type Addressed interface {
	// ListenAddrs returns the addresses Connect accepts for this node.
	ListenAddrs() []string
}

// Keeper is implemented by networks that keep chosen peers connected (the
// libp2p Host, memnet): the node hands them the peers its user configured.
type Keeper interface {
	// KeepPeer dials the peer at addrs (addresses of one peer) now, and
	// from then on redials it with backoff whenever it is not connected
	// and protects its connection from trimming. It returns the peer's id
	// and the error of the first dial, if any; a peer whose first dial
	// failed is kept all the same. Bans still apply.
	KeepPeer(ctx context.Context, addrs []string) (PeerID, error)
}
