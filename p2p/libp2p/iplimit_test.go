package libp2p

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/chaind/chaind/p2p"
)

// fixedClock is a settable clock for the guard.
type fixedClock struct{ t time.Time }

func (c *fixedClock) now() time.Time { return c.t }

func testGuard(cfg IPLimits) (*ipGuard, *fixedClock) {
	g := newIPGuard(cfg)
	c := &fixedClock{t: time.Unix(1_000_000, 0)}
	g.now = c.now
	return g, c
}

// openN opens n connections from ip and returns the releases of those
// allowed and the count refused with ErrIPLimit.
func openN(t *testing.T, g *ipGuard, ip string, dir network.Direction, n int) (releases []func(), refused int) {
	t.Helper()
	addr := netip.MustParseAddr(ip)
	for range n {
		release, err := g.open(addr, dir)
		if err != nil {
			if !errors.Is(err, ErrIPLimit) {
				t.Fatalf("open %s: %v, want ErrIPLimit", ip, err)
			}
			refused++
			continue
		}
		releases = append(releases, release)
	}
	return releases, refused
}

func releaseAll(rs []func()) {
	for _, r := range rs {
		r()
	}
}

func TestIPGuardLimitsOneAddress(t *testing.T) {
	g, clock := testGuard(IPLimits{})
	pub := DefaultPublicIPLimit

	// Fifty identities at once from one public address: Conns of them.
	rs, refused := openN(t, g, "203.0.113.7", network.DirInbound, 50)
	if len(rs) != pub.Conns || refused != 50-pub.Conns {
		t.Fatalf("50 at once: %d open, %d refused; want %d open", len(rs), refused, pub.Conns)
	}
	// Another public address is not affected.
	other, _ := openN(t, g, "198.51.100.1", network.DirInbound, 1)
	if len(other) != 1 {
		t.Fatal("another address was refused")
	}
	releaseAll(other)
	releaseAll(rs)
	releaseAll(rs) // a second release of the same slot gives nothing back

	// One after another, each closed at once: the rest of the burst, then
	// the rate.
	allowed := 0
	for range 50 {
		r, _ := openN(t, g, "203.0.113.7", network.DirInbound, 1)
		allowed += len(r)
		releaseAll(r)
	}
	if want := pub.Burst - pub.Conns; allowed != want {
		t.Fatalf("50 in a row after the burst's start: %d allowed, want %d", allowed, want)
	}
	clock.t = clock.t.Add(time.Duration(float64(time.Second) * 3 / pub.Rate))
	allowed = 0
	for range 10 {
		r, _ := openN(t, g, "203.0.113.7", network.DirInbound, 1)
		allowed += len(r)
		releaseAll(r)
	}
	if allowed != 3 {
		t.Fatalf("after 3 tokens' time: %d allowed, want 3", allowed)
	}
	// Our own dials are counted but not rate limited.
	out, refused := openN(t, g, "203.0.113.7", network.DirOutbound, 20)
	if len(out) != pub.Conns || refused != 20-pub.Conns {
		t.Fatalf("outbound: %d open, %d refused", len(out), refused)
	}
	releaseAll(out)
	if n := len(g.conns); n != 0 {
		t.Fatalf("%d addresses still counted after every release", n)
	}
}

func TestIPGuardClasses(t *testing.T) {
	g, _ := testGuard(IPLimits{})
	// Loopback: the lab's devnet of many nodes on 127.0.0.1.
	rs, refused := openN(t, g, "127.0.0.1", network.DirInbound, 500)
	if refused != 0 {
		t.Fatalf("loopback: %d refused", refused)
	}
	releaseAll(rs)
	if rs, refused = openN(t, g, "::1", network.DirInbound, 100); refused != 0 {
		t.Fatalf("::1: %d refused", refused)
	}
	releaseAll(rs)
	// A private address (a Compose network) gets the private limit.
	priv := DefaultPrivateIPLimit
	rs, refused = openN(t, g, "172.18.0.5", network.DirInbound, priv.Conns+5)
	if len(rs) != priv.Conns || refused != 5 {
		t.Fatalf("private: %d open, %d refused; want %d open", len(rs), refused, priv.Conns)
	}
	releaseAll(rs)
	// Public IPv6 addresses of one /56 share a limit; another /56 does not.
	rs, _ = openN(t, g, "2001:db8:1:200::1", network.DirInbound, 4)
	rs2, _ := openN(t, g, "2001:db8:1:2ff::9", network.DirInbound, 10)
	if len(rs)+len(rs2) != DefaultPublicIPLimit.Conns {
		t.Fatalf("one /56: %d+%d open, want %d together", len(rs), len(rs2), DefaultPublicIPLimit.Conns)
	}
	if rs3, _ := openN(t, g, "2001:db8:1:300::1", network.DirInbound, 1); len(rs3) != 1 {
		t.Fatal("another /56 was refused")
	}
	// IPv4-mapped IPv6 is the IPv4 address.
	g2, _ := testGuard(IPLimits{})
	a, _ := openN(t, g2, "203.0.113.9", network.DirInbound, 4)
	b, _ := openN(t, g2, "::ffff:203.0.113.9", network.DirInbound, 10)
	if len(a)+len(b) != DefaultPublicIPLimit.Conns {
		t.Fatalf("mapped: %d+%d open", len(a), len(b))
	}
	// LimitLoopback and Exempt.
	g3, _ := testGuard(IPLimits{LimitLoopback: true, Exempt: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}})
	if _, refused := openN(t, g3, "127.0.0.1", network.DirInbound, 20); refused != 20-DefaultPublicIPLimit.Conns {
		t.Fatalf("LimitLoopback: %d refused", refused)
	}
	if _, refused := openN(t, g3, "10.1.2.3", network.DirInbound, 200); refused != 0 {
		t.Fatalf("exempt prefix: %d refused", refused)
	}
}

func TestIPGuardBans(t *testing.T) {
	g, clock := testGuard(IPLimits{})
	ip := netip.MustParseAddr("203.0.113.7")
	if !g.ban(ip, clock.t.Add(time.Hour)) {
		t.Fatal("a public address was not banned")
	}
	if _, err := g.open(ip, network.DirInbound); !errors.Is(err, ErrIPLimit) {
		t.Fatalf("open from a banned address: %v", err)
	}
	if _, err := g.open(ip, network.DirOutbound); !errors.Is(err, ErrIPLimit) {
		t.Fatalf("dial to a banned address: %v", err)
	}
	// A shorter ban does not shorten it.
	g.ban(ip, clock.t.Add(time.Minute))
	clock.t = clock.t.Add(30 * time.Minute)
	if !g.banned(ip) {
		t.Fatal("a shorter second ban shortened the first")
	}
	if g.banned(netip.MustParseAddr("203.0.113.8")) {
		t.Fatal("the neighbouring address is banned")
	}
	if g.ban(netip.MustParseAddr("127.0.0.1"), clock.t.Add(time.Hour)) || g.banned(netip.MustParseAddr("127.0.0.1")) {
		t.Fatal("loopback was banned")
	}
	if !g.ban(netip.MustParseAddr("10.0.0.3"), clock.t.Add(time.Hour)) {
		t.Fatal("a private address was not banned")
	}
	clock.t = clock.t.Add(31 * time.Minute)
	if g.banned(ip) {
		t.Fatal("the ban did not expire")
	}
	if _, err := g.open(ip, network.DirInbound); err != nil {
		t.Fatalf("open after the ban: %v", err)
	}

	// Bounded: the ban that ends soonest goes first.
	g, clock = testGuard(IPLimits{})
	nth := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i & 0xff)}) }
	for i := range MaxIPBans + 10 {
		g.ban(nth(i), clock.t.Add(time.Hour+time.Duration(i)*time.Second))
	}
	if n := len(g.bans); n > MaxIPBans {
		t.Fatalf("%d bans kept, bound %d", n, MaxIPBans)
	}
	if !g.banned(nth(MaxIPBans + 9)) {
		t.Fatal("the newest ban was dropped")
	}
	if g.banned(nth(0)) {
		t.Fatal("the ban ending soonest was kept over the bound")
	}
}

// bareHost is a libp2p host with a fresh identity that announces the given
// protocol (so a chaind host takes it for a peer of its network) and does
// nothing else: one of an attacker's throwaway identities.
func bareHost(t *testing.T, pid protocol.ID) host.Host {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h, err := newLibp2pHost(hostParts{
		key:       key,
		userAgent: "attacker",
		connMgr:   &connmgr.NullConnMgr{},
		resources: &network.NullResourceManager{},
		handlers:  map[protocol.ID]network.StreamHandler{pid: func(s network.Stream) { _ = s.Reset() }},
	})
	if err != nil {
		t.Fatalf("bare host: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func addrInfo(t *testing.T, h *Host) peer.AddrInfo {
	t.Helper()
	ai, err := peer.AddrInfoFromString(tcpAddr(t, h))
	if err != nil {
		t.Fatal(err)
	}
	return *ai
}

// dialAll has each host dial target at once and returns how many succeeded.
func dialAll(hosts []host.Host, target peer.AddrInfo) int {
	var ok atomic.Int32
	var wg sync.WaitGroup
	for _, a := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if a.Connect(ctx, target) == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(ok.Load())
}

// TestFiftyIdentitiesFromOneAddress: 50 fresh identities from one address
// treated as public reach at most the per-address limit, over real libp2p;
// with the default configuration (loopback exempt), the same 50 on
// loopback all connect, as the lab's devnet needs.
func TestFiftyIdentitiesFromOneAddress(t *testing.T) {
	const conns = 4
	cfg := testConfig(testNet)
	cfg.IPLimits = IPLimits{LimitLoopback: true, Public: IPLimit{Conns: conns, Rate: 0.001, Burst: 6}}
	a := startHost(t, cfg, nil)
	b := startHost(t, testConfig(testNet), nil)
	pid := a.protocolID(pexName)

	attackers := make([]host.Host, 50)
	for i := range attackers {
		attackers[i] = bareHost(t, pid)
	}
	if got := dialAll(attackers, addrInfo(t, a)); got > conns || got == 0 {
		t.Fatalf("limited node: %d of 50 identities connected, want 1..%d", got, conns)
	}
	if n := len(a.h.Network().Conns()); n > conns {
		t.Fatalf("limited node holds %d connections, limit %d", n, conns)
	}
	waitFor(t, 10*time.Second, "the admitted attackers listed as peers", func() bool { return len(a.Peers()) > 0 })
	if n := len(a.Peers()); n > conns {
		t.Fatalf("limited node lists %d peers", n)
	}
	// Hung up, they come back one at a time: the burst's rest, then the
	// rate (one per 1,000 s) refuses them.
	for _, x := range attackers {
		for _, c := range x.Network().Conns() {
			_ = c.Close()
		}
	}
	waitFor(t, 10*time.Second, "the attackers' connections closed", func() bool { return len(a.h.Network().Conns()) == 0 })
	again := 0
	for _, x := range attackers[:10] {
		again += dialAll([]host.Host{x}, addrInfo(t, a))
		for _, c := range x.Network().Conns() {
			_ = c.Close()
		}
	}
	if max := 6 - conns; again > max {
		t.Fatalf("after the burst: %d of 10 reconnected, want at most %d", again, max)
	}

	if got := dialAll(attackers, addrInfo(t, b)); got != len(attackers) {
		t.Fatalf("default node (loopback exempt): %d of 50 identities connected, want all", got)
	}
}

// TestBannedIdentityBansItsAddress: banning an identity bans its address,
// so a fresh identity from it is refused (both ways) until the ban ends;
// loopback, exempt by default, is not banned.
func TestBannedIdentityBansItsAddress(t *testing.T) {
	cfg := testConfig(testNet)
	cfg.BanDuration = 3 * time.Second
	cfg.IPLimits.LimitLoopback = true
	a := startHost(t, cfg, nil)
	pid := a.protocolID(pexName)

	x := bareHost(t, pid)
	if dialAll([]host.Host{x}, addrInfo(t, a)) != 1 {
		t.Fatal("first identity refused")
	}
	xid := p2p.PeerID(x.ID().String())
	waitFor(t, 10*time.Second, "x listed", func() bool { return len(a.Peers()) == 1 })
	a.Penalize(xid, p2p.BanThreshold, "test")
	waitFor(t, 10*time.Second, "x disconnected", func() bool { return len(a.h.Network().Conns()) == 0 })

	y := bareHost(t, pid)
	if dialAll([]host.Host{y}, addrInfo(t, a)) != 0 {
		t.Fatal("a fresh identity from the banned address connected")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := y.Network().Listen(ma.StringCast("/ip4/127.0.0.1/tcp/0")); err != nil {
		t.Fatalf("listen: %v", err)
	}
	yAddr := fmt.Sprintf("%s/p2p/%s", y.Network().ListenAddresses()[0], y.ID())
	if _, err := a.Connect(ctx, yAddr); err == nil {
		t.Fatal("dialled an identity at the banned address")
	}
	// The ban ends with the identity's.
	waitFor(t, 15*time.Second, "a fresh identity accepted after the ban", func() bool {
		z := bareHost(t, pid)
		return dialAll([]host.Host{z}, addrInfo(t, a)) == 1
	})

	// Default configuration: loopback is not banned with the identity.
	d := startHost(t, testConfig(testNet), nil)
	x2 := bareHost(t, pid)
	if dialAll([]host.Host{x2}, addrInfo(t, d)) != 1 {
		t.Fatal("first identity refused by the default node")
	}
	waitFor(t, 10*time.Second, "x2 listed", func() bool { return len(d.Peers()) == 1 })
	d.Penalize(p2p.PeerID(x2.ID().String()), p2p.BanThreshold, "test")
	waitFor(t, 10*time.Second, "x2 disconnected", func() bool { return len(d.Peers()) == 0 })
	if dialAll([]host.Host{bareHost(t, pid)}, addrInfo(t, d)) != 1 {
		t.Fatal("default node refused a fresh loopback identity after a ban (would cut a loopback devnet)")
	}
}
