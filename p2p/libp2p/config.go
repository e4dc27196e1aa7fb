package libp2p

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/chaind/chaind/p2p"
)

// Defaults of Config.
const (
	// DefaultPort is the TCP port of the default listen address; WebSocket
	// listens on the next port.
	DefaultPort = 9333
	// DefaultListen is the default listen address.
	DefaultListen = "0.0.0.0:9333"
	// DefaultMaxPeers is the default connection manager high watermark.
	DefaultMaxPeers = 50
	// DefaultRedialInterval is the longest wait between redials of a lost
	// bootstrap peer (the first retry comes after RedialMinBackoff).
	DefaultRedialInterval = 30 * time.Second
	// DefaultMaxGossipSize caps one gossip message (and one gossip RPC
	// frame). Blocks are the largest messages; the node sets this from the
	// consensus block size limit.
	DefaultMaxGossipSize = 10 << 20
	// DefaultDiscoveryInterval is how often discovery (peer exchange, DHT)
	// looks for more peers while the node is below its low watermark.
	DefaultDiscoveryInterval = time.Minute
)

// Config configures a Host. Start from DefaultConfig: the zero value turns
// off the DHT and peer exchange.
type Config struct {
	// NetworkID namespaces every protocol id and topic name so that
	// different networks never mix; the node passes its genesis hash in hex.
	// Required; 1..MaxNetworkIDLength characters from [A-Za-z0-9._-].
	NetworkID string
	// DataDir holds the identity key file (IdentityKeyFile), created 0600 on
	// first start. Empty means a fresh identity on every start.
	DataDir string
	// Listen is the "host:port" to listen on with TCP; WebSocket listens on
	// the same host at port+1 (both random when the port is 0). The host must
	// be an IP address.
	Listen string
	// Bootstrap lists peers to connect to on start, as multiaddrs ending in
	// /p2p/<id>.
	Bootstrap []string
	// RedialBootstrap keeps redialling bootstrap peers whenever they are not
	// connected, with backoff from RedialMinBackoff up to RedialInterval.
	RedialBootstrap bool
	// RedialInterval is the longest wait between redials (DefaultRedialInterval if 0).
	RedialInterval time.Duration
	// MaxPeers is the connection manager's high watermark; the low
	// watermark, below which discovery dials more peers, is 3/4 of it.
	MaxPeers int
	// PeerExchange asks each new peer for the addresses it knows and dials
	// them while below the low watermark.
	PeerExchange bool
	// DHT runs a Kademlia DHT under the private prefix /chaind/<netid> to
	// find peers on larger networks.
	DHT bool
	// MDNS finds peers of the same network on the local link.
	MDNS bool
	// DiscoveryInterval is how often discovery runs while below the low
	// watermark (DefaultDiscoveryInterval if 0).
	DiscoveryInterval time.Duration
	// MaxGossipSize caps one gossip message (DefaultMaxGossipSize if 0).
	MaxGossipSize int
	// BanDuration is how long a banned peer is refused (DefaultBanDuration if 0).
	BanDuration time.Duration
	// IPLimits bounds connections and bans per address (see IPLimits;
	// zero fields take the defaults).
	IPLimits IPLimits
	// Logger receives the host's logs (slog.Default() if nil).
	Logger *slog.Logger
}

// MaxNetworkIDLength bounds Config.NetworkID.
const MaxNetworkIDLength = 128

// DefaultConfig returns a configuration with the given network id and
// every default: listen on DefaultListen, 50 peers, peer exchange and DHT on,
// mDNS off, no bootstrap peers.
func DefaultConfig(networkID string) Config {
	return Config{
		NetworkID:         networkID,
		Listen:            DefaultListen,
		MaxPeers:          DefaultMaxPeers,
		RedialInterval:    DefaultRedialInterval,
		PeerExchange:      true,
		DHT:               true,
		DiscoveryInterval: DefaultDiscoveryInterval,
		MaxGossipSize:     DefaultMaxGossipSize,
		BanDuration:       p2p.DefaultBanDuration,
	}
}

// withDefaults fills zero durations and sizes and validates the rest.
func (c Config) withDefaults() (Config, error) {
	if err := checkNetworkID(c.NetworkID); err != nil {
		return c, err
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if _, _, err := listenIPPort(c.Listen); err != nil {
		return c, err
	}
	if c.MaxPeers == 0 {
		c.MaxPeers = DefaultMaxPeers
	}
	if c.MaxPeers < 1 || c.MaxPeers > MaxMaxPeers {
		return c, fmt.Errorf("p2p config: MaxPeers %d out of range 1..%d", c.MaxPeers, MaxMaxPeers)
	}
	if c.RedialInterval <= 0 {
		c.RedialInterval = DefaultRedialInterval
	}
	if c.DiscoveryInterval <= 0 {
		c.DiscoveryInterval = DefaultDiscoveryInterval
	}
	if c.MaxGossipSize == 0 {
		c.MaxGossipSize = DefaultMaxGossipSize
	}
	if c.MaxGossipSize < 0 || c.MaxGossipSize > p2p.MaxFrameSize {
		return c, fmt.Errorf("p2p config: MaxGossipSize %d out of range 1..%d", c.MaxGossipSize, p2p.MaxFrameSize)
	}
	if c.BanDuration <= 0 {
		c.BanDuration = p2p.DefaultBanDuration
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// MaxMaxPeers bounds Config.MaxPeers.
const MaxMaxPeers = 10000

// lowWatermark is the peer count below which discovery dials more peers.
func lowWatermark(maxPeers int) int {
	return max(1, maxPeers*3/4)
}

func checkNetworkID(id string) error {
	if len(id) == 0 || len(id) > MaxNetworkIDLength {
		return fmt.Errorf("p2p config: network id must be 1..%d characters", MaxNetworkIDLength)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("p2p config: network id %q: character %q not allowed", id, c)
		}
	}
	return nil
}

// listenIPPort parses a "host:port" listen address whose host is an IP.
func listenIPPort(hostport string) (net.IP, int, error) {
	h, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, 0, fmt.Errorf("p2p config: listen address %q: %w", hostport, err)
	}
	ip := net.ParseIP(h)
	if ip == nil {
		return nil, 0, fmt.Errorf("p2p config: listen address %q: host must be an IP address", hostport)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65534 {
		return nil, 0, fmt.Errorf("p2p config: listen address %q: port must be 0..65534 (WebSocket uses port+1)", hostport)
	}
	return ip, port, nil
}
