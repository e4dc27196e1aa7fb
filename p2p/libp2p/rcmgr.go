package libp2p

import (
	"fmt"
	"math"
	"net/netip"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	"github.com/libp2p/go-libp2p/x/rate"
)

// Resource manager limits for the chain's own protocols (requests, peer
// exchange, gossip). libp2p's defaults refuse streams at about 64-128 per
// protocol and peer, which a parallel block download or a request burst
// reaches; these are set on purpose, the rest are libp2p's scaled defaults.
const (
	// ProtocolStreams bounds concurrent streams of one chain protocol.
	ProtocolStreams = 8192
	// ProtocolPeerStreams bounds concurrent streams of one chain protocol with one peer.
	ProtocolPeerStreams = 1024
	// PeerStreams bounds concurrent streams with one peer, all protocols.
	PeerStreams = 4096
	// TransientStreams bounds streams still negotiating their protocol.
	TransientStreams = 2048
	protocolMemory   = 1 << 30
	peerMemory       = 512 << 20
)

func (h *Host) resourceManager() (network.ResourceManager, error) {
	limits := rcmgr.DefaultLimits
	setServiceLimits(&limits)

	pids := []protocol.ID{h.gossipProtocol()}
	for _, p := range h.protocols {
		pids = append(pids, p.pid)
	}
	for _, pid := range pids {
		limits.AddProtocolLimit(pid,
			rcmgr.BaseLimit{Streams: ProtocolStreams, StreamsInbound: ProtocolStreams / 2, StreamsOutbound: ProtocolStreams / 2, Memory: protocolMemory},
			rcmgr.BaseLimitIncrease{})
		limits.AddProtocolPeerLimit(pid,
			rcmgr.BaseLimit{Streams: ProtocolPeerStreams, StreamsInbound: ProtocolPeerStreams / 2, StreamsOutbound: ProtocolPeerStreams / 2, Memory: peerMemory},
			rcmgr.BaseLimitIncrease{})
	}
	raise := func(l *rcmgr.BaseLimit, streams int) {
		l.Streams = max(l.Streams, streams)
		l.StreamsInbound = max(l.StreamsInbound, streams/2)
		l.StreamsOutbound = max(l.StreamsOutbound, streams/2)
	}
	raise(&limits.PeerBaseLimit, PeerStreams)
	raise(&limits.TransientBaseLimit, TransientStreams)
	// Connections: room for the configured peers plus dials in flight.
	conns := 4 * h.cfg.MaxPeers
	limits.SystemBaseLimit.Conns = max(limits.SystemBaseLimit.Conns, conns)
	limits.SystemBaseLimit.ConnsInbound = max(limits.SystemBaseLimit.ConnsInbound, conns)
	limits.SystemBaseLimit.ConnsOutbound = max(limits.SystemBaseLimit.ConnsOutbound, conns)
	limits.SystemBaseLimit.FD = max(limits.SystemBaseLimit.FD, conns)
	raise(&limits.SystemBaseLimit, ProtocolStreams)

	// go-libp2p's own per-address limits (8 connections, a rate, loopback
	// exempt) are lifted: ipLimitedRM applies chaind's, which treat
	// private networks apart and are configurable (see IPLimits).
	everything := []rcmgr.NetworkPrefixLimit{{Network: netip.MustParsePrefix("0.0.0.0/0"), ConnCount: math.MaxInt}}
	everything6 := []rcmgr.NetworkPrefixLimit{{Network: netip.MustParsePrefix("::/0"), ConnCount: math.MaxInt}}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits.AutoScale()),
		rcmgr.WithMetricsDisabled(),
		rcmgr.WithNetworkPrefixLimit(everything, everything6),
		rcmgr.WithConnRateLimiters(&rate.Limiter{}),
	)
	if err != nil {
		return nil, fmt.Errorf("p2p: resource manager: %w", err)
	}
	return &ipLimitedRM{ResourceManager: rm, guard: h.gater.ips}, nil
}

// setServiceLimits gives identify and ping, the services the host runs
// besides the chain's own protocols, the limits go-libp2p's constructor
// gives them (libp2p.SetDefaultServiceLimits, which also covers services
// chaind does not run and would link the transports chaind does not use).
func setServiceLimits(l *rcmgr.ScalingLimitConfig) {
	l.AddServiceLimit(identify.ServiceName,
		rcmgr.BaseLimit{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 4 << 20},
		rcmgr.BaseLimitIncrease{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 4 << 20})
	l.AddServicePeerLimit(identify.ServiceName,
		rcmgr.BaseLimit{StreamsInbound: 16, StreamsOutbound: 16, Streams: 32, Memory: 1 << 20},
		rcmgr.BaseLimitIncrease{})
	for _, id := range [...]protocol.ID{identify.ID, identify.IDPush} {
		l.AddProtocolLimit(id,
			rcmgr.BaseLimit{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 4 << 20},
			rcmgr.BaseLimitIncrease{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 4 << 20})
		l.AddProtocolPeerLimit(id,
			rcmgr.BaseLimit{StreamsInbound: 16, StreamsOutbound: 16, Streams: 32, Memory: 32 * (256<<20 + 16<<10)},
			rcmgr.BaseLimitIncrease{})
	}
	pingLimit := rcmgr.BaseLimit{StreamsInbound: 64, StreamsOutbound: 64, Streams: 64, Memory: 4 << 20}
	pingIncrease := rcmgr.BaseLimitIncrease{StreamsInbound: 64, StreamsOutbound: 64, Streams: 64, Memory: 4 << 20}
	l.AddServiceLimit(ping.ServiceName, pingLimit, pingIncrease)
	l.AddProtocolLimit(ping.ID, pingLimit, pingIncrease)
	pingPeer := rcmgr.BaseLimit{StreamsInbound: 2, StreamsOutbound: 3, Streams: 4, Memory: 32 * (256<<20 + 16<<10)}
	l.AddServicePeerLimit(ping.ServiceName, pingPeer, rcmgr.BaseLimitIncrease{})
	l.AddProtocolPeerLimit(ping.ID, pingPeer, rcmgr.BaseLimitIncrease{})
}
