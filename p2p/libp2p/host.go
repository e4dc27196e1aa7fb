package libp2p

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/internal/feed"
	"github.com/chaind/chaind/p2p/internal/penalty"
)

// Timeouts and bounds of the Host.
const (
	// ConnectTimeout bounds Connect when its context has no deadline.
	ConnectTimeout = 20 * time.Second
	// ConnGracePeriod protects a new connection from the connection manager's trimming.
	ConnGracePeriod = 30 * time.Second
	// PublishTimeout bounds handing one message to gossipsub.
	PublishTimeout = 10 * time.Second
	// UserAgent is announced through identify.
	UserAgent = "chaind"
)

// Lifecycle states of a Host.
const (
	stateNew = iota
	stateStarted
	stateClosed
)

// topicState is one registered gossip topic.
type topicState struct {
	name    string // short name
	full    string // namespaced name
	handler p2p.GossipHandler
	topic   *pubsub.Topic
	sub     *pubsub.Subscription
}

// protoState is one registered request/response protocol.
type protoState struct {
	name    string
	pid     protocol.ID
	maxReq  int
	maxResp int
	handler p2p.RequestHandler
}

// Host is the libp2p implementation of Network: TCP and WebSocket
// transports, Noise, yamux, gossipsub, one stream per request, peer
// exchange, an optional private DHT and mDNS, bans enforced by a connection
// gater. Create it with NewHost, register handlers, then Start.
type Host struct {
	cfg    Config
	log    *slog.Logger
	key    crypto.PrivKey
	self   peer.ID
	selfID p2p.PeerID
	book   *penalty.Book
	gater  *gater
	links  *linkControl // shapes and cuts (shape.go)
	events *feed.Feed[p2p.PeerEvent]

	bootstrap []peer.AddrInfo

	keptMu sync.Mutex
	kept   map[peer.ID]peer.AddrInfo // redialled and protected

	mu        sync.Mutex   // serialises registration, Start and Close
	state     atomic.Int32 // stateNew, stateStarted, stateClosed
	topics    map[string]*topicState
	mesh      *meshTracer // who is in the gossip mesh (GossipMeshed)
	protocols map[string]*protoState

	// Set by Start, read-only afterwards.
	h      host.Host
	ps     *pubsub.PubSub
	kad    *dht.IpfsDHT
	mdns   mdns.Service
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// spawnMu guards stopping; once stopping, spawn starts nothing, so
	// wg.Wait in shutdown cannot race with wg.Add.
	spawnMu  sync.Mutex
	stopping bool

	peers      *peerSet
	candidates chan peer.AddrInfo // addresses to dial, from peer exchange and mDNS
	redialKick chan struct{}
	dialSem    chan struct{}
}

var (
	_ p2p.Network   = (*Host)(nil)
	_ p2p.Keeper    = (*Host)(nil)
	_ p2p.Addressed = (*Host)(nil)
)

// NewHost validates cfg and loads (or creates) the node identity. Nothing
// is opened until Start.
func NewHost(cfg Config) (*Host, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var key crypto.PrivKey
	if cfg.DataDir != "" {
		key, err = LoadOrCreateIdentity(cfg.DataDir)
	} else {
		key, _, err = crypto.GenerateEd25519Key(rand.Reader)
	}
	if err != nil {
		return nil, err
	}
	self, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("p2p: peer id from key: %w", err)
	}
	var boot []peer.AddrInfo
	for _, s := range cfg.Bootstrap {
		ai, err := peer.AddrInfoFromString(s)
		if err != nil {
			return nil, fmt.Errorf("p2p config: bootstrap peer %q: %w", s, err)
		}
		if ai.ID == self {
			continue
		}
		boot = append(boot, *ai)
	}
	book := penalty.New(penalty.Config{
		Threshold:   p2p.BanThreshold,
		HalfLife:    p2p.PenaltyHalfLife,
		BanDuration: cfg.BanDuration,
	})
	h := &Host{
		cfg:        cfg,
		log:        cfg.Logger.With("sys", "p2p"),
		key:        key,
		self:       self,
		selfID:     p2p.PeerID(self.String()),
		book:       book,
		gater:      newGater(book, cfg.IPLimits),
		links:      newLinkControl(),
		events:     feed.New[p2p.PeerEvent](p2p.EventBuffer),
		bootstrap:  boot,
		kept:       make(map[peer.ID]peer.AddrInfo),
		topics:     make(map[string]*topicState),
		mesh:       newMeshTracer(),
		protocols:  make(map[string]*protoState),
		peers:      newPeerSet(),
		candidates: make(chan peer.AddrInfo, maxCandidates),
		redialKick: make(chan struct{}, 1),
		dialSem:    make(chan struct{}, maxConcurrentDials),
	}
	h.protocols[pexName] = &protoState{
		name: pexName, pid: h.protocolID(pexName),
		maxReq: pexMaxRequest, maxResp: pexMaxResponse,
		handler: h.servePex,
	}
	return h, nil
}

// protocolID namespaces a protocol short name: /chaind/<netid>/<name>.
func (h *Host) protocolID(name string) protocol.ID {
	return protocol.ID("/chaind/" + h.cfg.NetworkID + "/" + name)
}

// topicName namespaces a topic short name: chaind/<netid>/<name>.
func (h *Host) topicName(name string) string {
	return "chaind/" + h.cfg.NetworkID + "/" + name
}

// gossipProtocol is the gossipsub protocol id, namespaced per network so
// that nodes of different networks do not even share a gossip router.
func (h *Host) gossipProtocol() protocol.ID {
	return protocol.ID("/chaind/" + h.cfg.NetworkID + "/meshsub/1.2.0")
}

// dhtPrefix is the DHT's private protocol prefix.
func (h *Host) dhtPrefix() protocol.ID {
	return protocol.ID("/chaind/" + h.cfg.NetworkID)
}

// Self returns this node's peer id.
func (h *Host) Self() p2p.PeerID { return h.selfID }

// HandleGossip registers the validator of a topic. See Network.
func (h *Host) HandleGossip(topic string, handler p2p.GossipHandler) error {
	if err := p2p.CheckName(topic); err != nil {
		return err
	}
	if handler == nil {
		return fmt.Errorf("p2p: topic %q: nil handler", topic)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state.Load() != stateNew {
		return fmt.Errorf("p2p: register topic %q: %w", topic, p2p.ErrStarted)
	}
	if _, ok := h.topics[topic]; ok {
		return fmt.Errorf("p2p: topic %q: %w", topic, p2p.ErrDuplicateHandler)
	}
	h.topics[topic] = &topicState{name: topic, full: h.topicName(topic), handler: handler}
	return nil
}

// HandleRequest registers a request/response protocol. See Network.
func (h *Host) HandleRequest(name string, maxReq, maxResp int, handler p2p.RequestHandler) error {
	if err := p2p.CheckName(name); err != nil {
		return err
	}
	if err := p2p.CheckCaps(maxReq, maxResp); err != nil {
		return fmt.Errorf("p2p: protocol %q: %w", name, err)
	}
	if handler == nil {
		return fmt.Errorf("p2p: protocol %q: nil handler", name)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state.Load() != stateNew {
		return fmt.Errorf("p2p: register protocol %q: %w", name, p2p.ErrStarted)
	}
	if _, ok := h.protocols[name]; ok {
		return fmt.Errorf("p2p: protocol %q: %w", name, p2p.ErrDuplicateHandler)
	}
	h.protocols[name] = &protoState{name: name, pid: h.protocolID(name), maxReq: maxReq, maxResp: maxResp, handler: handler}
	return nil
}

// Start opens the host: it registers the protocols, joins the topics,
// starts listening, then starts discovery and dials the bootstrap peers in
// the background. ctx bounds only the start-up; the host runs until Close.
func (h *Host) Start(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch h.state.Load() {
	case stateStarted:
		return p2p.ErrStarted
	case stateClosed:
		return p2p.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	if err := h.start(ctx); err != nil {
		h.cancel()
		_ = h.shutdown()
		h.state.Store(stateClosed)
		return err
	}
	return nil
}

func (h *Host) start(ctx context.Context) error {
	rm, err := h.resourceManager()
	if err != nil {
		return err
	}
	cm, err := connmgr.NewConnManager(lowWatermark(h.cfg.MaxPeers), h.cfg.MaxPeers, connmgr.WithGracePeriod(ConnGracePeriod))
	if err != nil {
		_ = rm.Close()
		return fmt.Errorf("p2p: connection manager: %w", err)
	}
	handlers := make(map[protocol.ID]network.StreamHandler, len(h.protocols))
	for _, p := range h.protocols {
		handlers[p.pid] = h.serveStream(p)
	}
	lh, err := newLibp2pHost(hostParts{
		key:       h.key,
		userAgent: UserAgent,
		gater:     cutGater{ConnectionGater: h.gater, links: h.links},
		links:     h.links,
		connMgr:   cm,
		resources: rm,
		handlers:  handlers,
	})
	if err != nil {
		return fmt.Errorf("p2p: create host: %w", err)
	}
	h.h = lh
	if err := h.startGossip(); err != nil {
		return err
	}
	if err := h.startPeerEvents(); err != nil {
		return err
	}
	listen, err := h.listenAddrs()
	if err != nil {
		return err
	}
	// Everything is wired: from here on the host serves and may be used.
	h.state.Store(stateStarted)
	// One address at a time: the swarm's Listen succeeds when any one
	// does, and a node must not start with its WebSocket port taken.
	for _, a := range listen {
		if err := lh.Network().Listen(a); err != nil {
			return fmt.Errorf("p2p: listen on %s: %w", a, err)
		}
	}
	if h.cfg.DHT {
		kad, err := dht.New(lh,
			dht.Mode(dht.ModeServer),
			dht.ProtocolPrefix(h.dhtPrefix()),
			dht.DisableValues(),
			dht.DisableProviders(),
		)
		if err != nil {
			return fmt.Errorf("p2p: start DHT: %w", err)
		}
		h.kad = kad
		if err := kad.Bootstrap(ctx); err != nil {
			return fmt.Errorf("p2p: bootstrap DHT: %w", err)
		}
	}
	if h.cfg.MDNS {
		svc := mdns.NewMdnsService(lh, mdnsServiceName(h.cfg.NetworkID), mdnsNotifee{h})
		if err := svc.Start(); err != nil {
			return fmt.Errorf("p2p: start mDNS: %w", err)
		}
		h.mdns = svc
	}
	for _, ai := range h.bootstrap {
		if h.cfg.RedialBootstrap {
			if err := h.keep(ai); err != nil {
				return err
			}
		} else {
			lh.Peerstore().AddAddrs(ai.ID, ai.Addrs, keptAddrTTL)
			lh.ConnManager().Protect(ai.ID, protectKept)
		}
	}
	h.spawn(h.keepLoop)
	h.spawn(h.dialLoop)
	h.spawn(h.discoveryLoop)
	h.log.Info("p2p host started", "id", h.selfID, "addrs", h.fullAddrs())
	return nil
}

// listenAddrs turns Config.Listen into a TCP and a WebSocket multiaddr.
func (h *Host) listenAddrs() ([]ma.Multiaddr, error) {
	ip, port, err := listenIPPort(h.cfg.Listen)
	if err != nil {
		return nil, err
	}
	family := "ip4"
	if ip.To4() == nil {
		family = "ip6"
	}
	wsPort := 0
	if port != 0 {
		wsPort = port + 1
	}
	tcpA, err := ma.NewMultiaddr(fmt.Sprintf("/%s/%s/tcp/%d", family, ip, port))
	if err != nil {
		return nil, fmt.Errorf("p2p: listen address: %w", err)
	}
	wsA, err := ma.NewMultiaddr(fmt.Sprintf("/%s/%s/tcp/%d/ws", family, ip, wsPort))
	if err != nil {
		return nil, fmt.Errorf("p2p: listen address: %w", err)
	}
	return []ma.Multiaddr{tcpA, wsA}, nil
}

// ListenAddrs returns the addresses this node can be dialled at, each
// ending in /p2p/<id> (nil before Start). Wildcard listen addresses are
// expanded to the machine's interface addresses.
func (h *Host) ListenAddrs() []string {
	if !h.started() {
		return nil
	}
	return h.fullAddrs()
}

func (h *Host) fullAddrs() []string {
	var out []string
	for _, a := range h.h.Addrs() {
		out = append(out, a.String()+"/p2p/"+h.self.String())
	}
	return out
}

func (h *Host) started() bool { return h.state.Load() == stateStarted }

// Close stops discovery, leaves the network and waits for every goroutine
// of the host. It is safe to call more than once.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state.Load() == stateClosed {
		return nil
	}
	wasStarted := h.state.Load() == stateStarted
	h.state.Store(stateClosed)
	if !wasStarted {
		h.events.Close()
		return nil
	}
	h.cancel()
	return h.shutdown()
}

// shutdown releases what start opened; h.ctx must already be cancelled.
func (h *Host) shutdown() error {
	h.spawnMu.Lock()
	h.stopping = true
	h.spawnMu.Unlock()
	var errs []error
	if h.mdns != nil {
		errs = append(errs, h.mdns.Close())
	}
	if h.kad != nil {
		errs = append(errs, h.kad.Close())
	}
	for _, t := range h.topics {
		if t.sub != nil {
			t.sub.Cancel()
		}
	}
	if h.h != nil {
		errs = append(errs, h.h.Close())
	}
	h.wg.Wait()
	h.events.Close()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("p2p: close: %w", err)
	}
	return nil
}

// spawn runs f in a goroutine owned by the host: Close waits for it. After
// Close has begun it runs nothing and returns false.
func (h *Host) spawn(f func()) bool {
	h.spawnMu.Lock()
	defer h.spawnMu.Unlock()
	if h.stopping {
		return false
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		f()
	}()
	return true
}

// Subscribe returns peer connect/disconnect events. See Network.
func (h *Host) Subscribe() (<-chan p2p.PeerEvent, func()) { return h.events.Subscribe() }

// Penalize charges points to a peer; at BanThreshold it is disconnected and
// banned. See Network.
func (h *Host) Penalize(id p2p.PeerID, points int, reason string) {
	if id == h.selfID || points <= 0 {
		return
	}
	p, err := peer.Decode(string(id))
	if err != nil {
		h.log.Debug("penalize: bad peer id", "peer", id, "err", err)
		return
	}
	banned, total := h.book.Add(string(id), points)
	h.log.Debug("peer penalised", "peer", id.Short(), "points", points, "total", total, "reason", reason)
	if !banned {
		return
	}
	h.log.Warn("peer banned", "peer", id.Short(), "points", total, "reason", reason, "for", h.cfg.BanDuration)
	if h.started() {
		h.spawn(func() { h.closeBanned(p) })
	}
}

// banned reports whether p is banned.
func (h *Host) banned(p peer.ID) bool {
	b, _ := h.book.Banned(p.String())
	return b
}
