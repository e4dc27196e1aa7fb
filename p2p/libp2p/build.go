package libp2p

import (
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/sec"
	bhost "github.com/libp2p/go-libp2p/p2p/host/basic"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	"github.com/libp2p/go-libp2p/p2p/host/observedaddrs"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	tptu "github.com/libp2p/go-libp2p/p2p/net/upgrader"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ws "github.com/libp2p/go-libp2p/p2p/transport/websocket"
)

// The host is assembled from go-libp2p's parts (peerstore, swarm, upgrader,
// basic host) instead of through the top-level go-libp2p package: that
// package's constructor links every default transport (QUIC, WebTransport,
// WebRTC, with quic-go and pion) and the fx dependency injector whether or
// not they are used. chaind speaks TCP and WebSocket only, with Noise and
// yamux, so only those are compiled in. Relay, hole punching, AutoNAT and
// NAT port mapping are left out, as they were before (relay disabled, the
// others opt-in).

// hostParts is what newLibp2pHost needs from the Host.
type hostParts struct {
	key       crypto.PrivKey
	userAgent string
	gater     connmgr.ConnectionGater
	// links shapes every secured connection (shape.go).
	links     *linkControl
	connMgr   connmgr.ConnManager
	resources network.ResourceManager
	// handlers are set before the host starts, so identify announces
	// every protocol from the first connection on (a peer identifying us
	// early must not see a node without this network's protocols).
	handlers map[protocol.ID]network.StreamHandler
}

// basicHost is a libp2p host with the observed-address manager it owns.
type basicHost struct {
	*bhost.BasicHost
	observed *observedaddrs.Manager
}

// Close stops the observed-address manager, then the host (which closes
// the swarm, the peerstore and the resource manager).
func (b *basicHost) Close() error {
	err := b.observed.Close()
	return errors.Join(err, b.BasicHost.Close())
}

// newLibp2pHost builds a libp2p host with TCP and WebSocket transports,
// Noise and yamux, listening nowhere yet. On error everything it opened,
// including p.resources and p.connMgr, is closed.
func newLibp2pHost(p hostParts) (_ host.Host, err error) {
	var closers []func() error
	defer func() {
		if err != nil {
			for i := len(closers) - 1; i >= 0; i-- {
				_ = closers[i]()
			}
		}
	}()
	closers = append(closers, p.resources.Close, p.connMgr.Close)

	self, err := peer.IDFromPrivateKey(p.key)
	if err != nil {
		return nil, fmt.Errorf("peer id: %w", err)
	}
	ps, err := pstoremem.NewPeerstore()
	if err != nil {
		return nil, fmt.Errorf("peerstore: %w", err)
	}
	closers = append(closers, ps.Close)
	if err := ps.AddPrivKey(self, p.key); err != nil {
		return nil, fmt.Errorf("peerstore: %w", err)
	}
	if err := ps.AddPubKey(self, p.key.GetPublic()); err != nil {
		return nil, fmt.Errorf("peerstore: %w", err)
	}

	bus := eventbus.NewBus()
	sw, err := swarm.NewSwarm(self, ps, bus,
		swarm.WithConnectionGater(p.gater),
		swarm.WithResourceManager(p.resources),
	)
	if err != nil {
		return nil, fmt.Errorf("swarm: %w", err)
	}
	closers = append(closers, sw.Close)

	muxers := []tptu.StreamMuxer{{ID: yamux.ID, Muxer: yamux.DefaultTransport}}
	nt, err := noise.New(noise.ID, p.key, muxers)
	if err != nil {
		return nil, fmt.Errorf("noise: %w", err)
	}
	var st sec.SecureTransport = nt
	if p.links != nil {
		st = shapingTransport{SecureTransport: nt, links: p.links}
	}
	up, err := tptu.New([]sec.SecureTransport{st}, muxers, nil, p.resources, p.gater)
	if err != nil {
		return nil, fmt.Errorf("upgrader: %w", err)
	}
	tcpT, err := tcp.NewTCPTransport(up, p.resources, nil,
		// No SO_REUSEPORT: a second node on the same port must fail to
		// listen, not silently share it.
		tcp.DisableReuseport())
	if err != nil {
		return nil, fmt.Errorf("tcp transport: %w", err)
	}
	wsT, err := ws.New(up, p.resources, nil)
	if err != nil {
		return nil, fmt.Errorf("websocket transport: %w", err)
	}
	if err := sw.AddTransport(tcpT); err != nil {
		return nil, fmt.Errorf("add tcp transport: %w", err)
	}
	if err := sw.AddTransport(wsT); err != nil {
		return nil, fmt.Errorf("add websocket transport: %w", err)
	}

	observed, err := observedaddrs.NewManager(bus, sw)
	if err != nil {
		return nil, fmt.Errorf("observed addresses: %w", err)
	}
	closers = append(closers, observed.Close)
	bh, err := bhost.NewHost(sw, &bhost.HostOpts{
		EventBus:             bus,
		ConnManager:          p.connMgr,
		EnablePing:           true,
		UserAgent:            p.userAgent,
		ObservedAddrsManager: observed,
	})
	if err != nil {
		return nil, fmt.Errorf("basic host: %w", err)
	}
	closers = append(closers, bh.Close)
	for pid, handler := range p.handlers {
		bh.SetStreamHandler(pid, handler)
	}
	observed.Start(sw)
	bh.Start()
	return &basicHost{BasicHost: bh, observed: observed}, nil
}
