package libp2p

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/chaind/chaind/p2p"
)

// Per-address limits. A peer identity costs nothing to make, so bans and
// connection limits per identity alone let one machine come back at once
// under a new key, or open a slot for each of fifty keys. What an attacker
// cannot make for free is addresses, so the host also bounds, per IP
// address (IPv4) or per /56 (IPv6, the block one customer usually gets):
// how many connections it has open with it, how fast new inbound ones may
// come, and it bans the address of a banned identity for as long as the
// identity's ban lasts.
//
// Addresses are of three kinds:
//
//   - Loopback (127.0.0.0/8, ::1) and the prefixes in IPLimits.Exempt are
//     not limited and never banned. The lab's devnet runs every node on
//     127.0.0.1: they share one address, so any per-address rule would
//     treat a devnet of twenty honest nodes as one peer with twenty keys,
//     and banning one misbehaving test node's address would cut them all.
//     Only the machine's own processes can connect from loopback.
//   - Private networks (RFC 1918, IPv6 unique-local, link-local) get
//     IPLimits.Private, higher than public ones: in a Compose or
//     Kubernetes network of equals each node has its own address, so the
//     limits there only bind several nodes behind one address (a NAT, a
//     proxy publishing ports), for which the higher limit leaves room. Bans
//     do apply: one address is one container there, so an address ban is
//     the identity's ban that a new key cannot shed. An operator who puts
//     many honest nodes behind one private address adds it to Exempt.
//   - Every other address gets IPLimits.Public.
//
// The connection limits are enforced by the resource manager (ipLimitedRM)
// before any handshake; address bans by the gater, on accept, dial and
// after the handshake.

// IPLimit bounds what one address may open with this node.
type IPLimit struct {
	// Conns bounds connections open with the address at once, both
	// directions and all identities together.
	Conns int
	// Rate is how many new inbound connections per second the address may
	// open in the long run, Burst how many at once.
	Rate  float64
	Burst int
}

// IPLimits configures the per-address limits and bans (see above). Zero
// fields take the defaults.
type IPLimits struct {
	// Public applies to public addresses (DefaultPublicIPLimit).
	Public IPLimit
	// Private applies to private-network addresses (DefaultPrivateIPLimit).
	Private IPLimit
	// Exempt lists prefixes, besides loopback, that are neither limited
	// nor banned.
	Exempt []netip.Prefix
	// LimitLoopback treats loopback addresses as public ones: for tests
	// that play an attacker from 127.0.0.1, and for a node that only ever
	// hears peers through a proxy on the same machine.
	LimitLoopback bool
}

// Defaults of IPLimits. Public's are go-libp2p's own per-address defaults
// (8 connections, 0.2 new per second after a burst of 16): enough for a
// peer that restarts or redials, far from fifty identities at once.
var (
	DefaultPublicIPLimit  = IPLimit{Conns: 8, Rate: 0.2, Burst: 16}
	DefaultPrivateIPLimit = IPLimit{Conns: 64, Rate: 2, Burst: 64}
)

// Bounds of the per-address state.
const (
	// MaxIPBans bounds the banned addresses remembered; past it the ban
	// that ends soonest is dropped.
	MaxIPBans = 4096
	// maxRateBuckets bounds the per-address rate buckets; past it full
	// buckets (which hold no history) are dropped, then arbitrary ones.
	maxRateBuckets = 16384
	// ip6PublicPrefix groups public IPv6 addresses.
	ip6PublicPrefix = 56
)

// ErrIPLimit is returned (wrapped) for a connection refused by a
// per-address limit.
var ErrIPLimit = errors.New("p2p: per-address limit")

func (l IPLimit) withDefaults(d IPLimit) IPLimit {
	if l.Conns <= 0 {
		l.Conns = d.Conns
	}
	if l.Rate <= 0 {
		l.Rate = d.Rate
	}
	if l.Burst <= 0 {
		l.Burst = d.Burst
	}
	return l
}

func (c IPLimits) withDefaults() IPLimits {
	c.Public = c.Public.withDefaults(DefaultPublicIPLimit)
	c.Private = c.Private.withDefaults(DefaultPrivateIPLimit)
	return c
}

// addrClass is the kind of an address (see the package comment above).
type addrClass int

const (
	classExempt addrClass = iota
	classPrivate
	classPublic
)

// bucket is a token bucket of new inbound connections.
type bucket struct {
	tokens float64
	at     time.Time
}

// ipGuard keeps the per-address counts, rate buckets and bans. It is safe
// for concurrent use.
type ipGuard struct {
	cfg IPLimits
	now func() time.Time

	mu      sync.Mutex
	conns   map[netip.Prefix]int
	buckets map[netip.Prefix]*bucket
	bans    map[netip.Prefix]time.Time
}

func newIPGuard(cfg IPLimits) *ipGuard {
	return &ipGuard{
		cfg:     cfg.withDefaults(),
		now:     time.Now,
		conns:   make(map[netip.Prefix]int),
		buckets: make(map[netip.Prefix]*bucket),
		bans:    make(map[netip.Prefix]time.Time),
	}
}

// classify returns the kind of ip and the key its limits and bans are kept
// under.
func (g *ipGuard) classify(ip netip.Addr) (addrClass, netip.Prefix) {
	ip = ip.Unmap()
	if ip.IsLoopback() && !g.cfg.LimitLoopback {
		return classExempt, netip.Prefix{}
	}
	for _, p := range g.cfg.Exempt {
		if p.Contains(ip) {
			return classExempt, netip.Prefix{}
		}
	}
	class := classPublic
	if ip.IsPrivate() || ip.IsLinkLocalUnicast() {
		class = classPrivate
	}
	bits := ip.BitLen()
	if ip.Is6() && class == classPublic {
		bits = ip6PublicPrefix
	}
	key, _ := ip.Prefix(bits)
	return class, key
}

func (g *ipGuard) limit(c addrClass) IPLimit {
	if c == classPrivate {
		return g.cfg.Private
	}
	return g.cfg.Public
}

// open accounts for a new connection with ip. It refuses a banned address,
// an inbound connection over the address's rate, and a connection over its
// count; otherwise it returns the function that gives the slot back.
func (g *ipGuard) open(ip netip.Addr, dir network.Direction) (release func(), err error) {
	class, key := g.classify(ip)
	if class == classExempt {
		return func() {}, nil
	}
	lim := g.limit(class)
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if until, ok := g.bans[key]; ok {
		if now.Before(until) {
			return nil, fmt.Errorf("%w: %s is banned until %s", ErrIPLimit, key, until.Format(time.RFC3339))
		}
		delete(g.bans, key)
	}
	if g.conns[key] >= lim.Conns {
		return nil, fmt.Errorf("%w: %s has %d connections open", ErrIPLimit, key, lim.Conns)
	}
	if dir == network.DirInbound && !g.takeLocked(key, lim, now) {
		return nil, fmt.Errorf("%w: %s opens connections faster than %g per second", ErrIPLimit, key, lim.Rate)
	}
	g.conns[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.conns[key]--; g.conns[key] <= 0 {
				delete(g.conns, key)
			}
		})
	}, nil
}

// takeLocked takes a token from key's bucket. Called with g.mu held.
func (g *ipGuard) takeLocked(key netip.Prefix, lim IPLimit, now time.Time) bool {
	b := g.buckets[key]
	if b == nil {
		if len(g.buckets) >= maxRateBuckets {
			g.pruneBucketsLocked(now)
		}
		b = &bucket{tokens: float64(lim.Burst), at: now}
		g.buckets[key] = b
	}
	if dt := now.Sub(b.at); dt > 0 {
		b.tokens = math.Min(float64(lim.Burst), b.tokens+lim.Rate*dt.Seconds())
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// pruneBucketsLocked drops buckets that have filled up again (they hold
// nothing a fresh one would not), then, if still full, arbitrary ones: an
// attacker with more than maxRateBuckets addresses is beyond what
// per-address limits address.
func (g *ipGuard) pruneBucketsLocked(now time.Time) {
	for key, b := range g.buckets {
		class, _ := g.classify(key.Addr())
		lim := g.limit(class)
		if b.tokens+lim.Rate*now.Sub(b.at).Seconds() >= float64(lim.Burst) {
			delete(g.buckets, key)
		}
	}
	for key := range g.buckets {
		if len(g.buckets) < maxRateBuckets {
			return
		}
		delete(g.buckets, key)
	}
}

// ban bans ip until the given time (an existing longer ban stays). It
// reports whether ip is now banned: exempt addresses never are.
func (g *ipGuard) ban(ip netip.Addr, until time.Time) bool {
	class, key := g.classify(ip)
	if class == classExempt {
		return false
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if old, ok := g.bans[key]; ok {
		if old.After(until) {
			until = old
		}
	} else if len(g.bans) >= MaxIPBans {
		g.makeBanRoomLocked(now)
	}
	g.bans[key] = until
	return true
}

// makeBanRoomLocked drops expired bans, then the one that ends soonest.
func (g *ipGuard) makeBanRoomLocked(now time.Time) {
	for key, until := range g.bans {
		if !now.Before(until) {
			delete(g.bans, key)
		}
	}
	if len(g.bans) < MaxIPBans {
		return
	}
	var first netip.Prefix
	var firstUntil time.Time
	for key, until := range g.bans {
		if firstUntil.IsZero() || until.Before(firstUntil) {
			first, firstUntil = key, until
		}
	}
	delete(g.bans, first)
}

// banned reports whether ip is banned now.
func (g *ipGuard) banned(ip netip.Addr) bool {
	class, key := g.classify(ip)
	if class == classExempt {
		return false
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.bans[key]
	if ok && !now.Before(until) {
		delete(g.bans, key)
		return false
	}
	return ok
}

// bannedAddr reports whether the IP of a multiaddr is banned; addresses
// without an IP are not.
func (g *ipGuard) bannedAddr(a ma.Multiaddr) bool {
	ip, ok := addrIP(a)
	return ok && g.banned(ip)
}

// addrIP returns the IP of a multiaddr that has one.
func addrIP(a ma.Multiaddr) (netip.Addr, bool) {
	if a == nil {
		return netip.Addr{}, false
	}
	ip, err := manet.ToIP(a)
	if err != nil {
		return netip.Addr{}, false
	}
	addr, ok := netip.AddrFromSlice(ip)
	return addr.Unmap(), ok
}

// ipLimitedRM is the resource manager with the per-address connection
// limits in front of it (go-libp2p's own per-address limiter and rate
// limiter are turned off in resourceManager, so that one rule applies).
type ipLimitedRM struct {
	network.ResourceManager
	guard *ipGuard
}

// OpenConnection refuses a connection over its address's limits, then asks
// the wrapped manager; the slot is given back when the scope is done.
func (r *ipLimitedRM) OpenConnection(dir network.Direction, usefd bool, endpoint ma.Multiaddr) (network.ConnManagementScope, error) {
	ip, ok := addrIP(endpoint)
	if !ok {
		return r.ResourceManager.OpenConnection(dir, usefd, endpoint)
	}
	release, err := r.guard.open(ip, dir)
	if err != nil {
		return nil, err
	}
	s, err := r.ResourceManager.OpenConnection(dir, usefd, endpoint)
	if err != nil {
		release()
		return nil, err
	}
	return &ipScope{ConnManagementScope: s, release: release}, nil
}

// ipScope gives the address's slot back when the connection's scope ends.
type ipScope struct {
	network.ConnManagementScope
	release func()
}

func (s *ipScope) Done() {
	s.ConnManagementScope.Done()
	s.release()
}

// closeBanned closes every connection with p, bans the addresses p is
// connected from until p's own ban ends, and closes every other
// connection from them (as Bitcoin Core's setban disconnects every node
// of a banned subnet). Called when p has just been banned.
func (h *Host) closeBanned(p peer.ID) {
	banned, until := h.book.Banned(p.String())
	if !banned || !h.started() {
		return
	}
	net := h.h.Network()
	var ips []netip.Addr
	for _, c := range net.ConnsToPeer(p) {
		if ip, ok := addrIP(c.RemoteMultiaddr()); ok && h.gater.ips.ban(ip, until) {
			ips = append(ips, ip)
		}
	}
	_ = net.ClosePeer(p)
	if len(ips) == 0 {
		return
	}
	h.log.Warn("peer's address banned", "peer", p2p.PeerID(p.String()).Short(), "addrs", ips, "until", until.Format(time.RFC3339))
	for _, c := range net.Conns() {
		if h.gater.ips.bannedAddr(c.RemoteMultiaddr()) {
			_ = c.Close()
		}
	}
}
