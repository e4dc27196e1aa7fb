package libp2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/p2ptest"
)

const testNet = "testnet0"

// testLogger is silent unless CHAIND_P2P_LOG=debug.
func testLogger() *slog.Logger {
	if os.Getenv("CHAIND_P2P_LOG") == "debug" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testConfig is a loopback configuration with discovery off, so that tests
// control the topology.
func testConfig(netID string) Config {
	cfg := DefaultConfig(netID)
	cfg.Listen = "127.0.0.1:0"
	cfg.DHT = false
	cfg.PeerExchange = false
	cfg.Logger = testLogger()
	return cfg
}

// recorder is a gossip handler that records what it sees.
type recorder struct {
	mu      sync.Mutex
	got     map[string]p2p.PeerID // data -> sender
	arrived map[string]time.Time
	verdict func(data []byte) p2p.Verdict
}

func newRecorder() *recorder {
	return &recorder{got: make(map[string]p2p.PeerID), arrived: make(map[string]time.Time)}
}

func (r *recorder) handle(from p2p.PeerID, data []byte) p2p.Verdict {
	r.mu.Lock()
	if _, dup := r.got[string(data)]; !dup {
		r.got[string(data)] = from
		r.arrived[string(data)] = time.Now()
	}
	verdict := r.verdict
	r.mu.Unlock()
	if verdict != nil {
		return verdict(data)
	}
	return p2p.Accept
}

func (r *recorder) has(data string) (p2p.PeerID, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	from, ok := r.got[data]
	return from, ok
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func (r *recorder) arrival(data string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.arrived[data]
	return t, ok
}

// startHost creates, configures and starts a host, closing it at cleanup.
func startHost(t *testing.T, cfg Config, setup func(*Host)) *Host {
	t.Helper()
	h, err := NewHost(cfg)
	if err != nil {
		t.Fatalf("NewHost: %v", err)
	}
	if setup != nil {
		setup(h)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// tcpAddr returns h's TCP listen address with /p2p/.
func tcpAddr(t *testing.T, h *Host) string {
	t.Helper()
	for _, a := range h.ListenAddrs() {
		if strings.Contains(a, "/tcp/") && !strings.Contains(a, "/ws") {
			return a
		}
	}
	t.Fatalf("no TCP address in %v", h.ListenAddrs())
	return ""
}

func connect(t *testing.T, from, to *Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := from.Connect(ctx, tcpAddr(t, to))
	if err != nil {
		t.Fatalf("connect %s -> %s: %v", from.Self().Short(), to.Self().Short(), err)
	}
	if id != to.Self() {
		t.Fatalf("Connect returned %s, want %s", id, to.Self())
	}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func hasPeer(h *Host, id p2p.PeerID) bool {
	return slices.ContainsFunc(h.Peers(), func(p p2p.PeerInfo) bool { return p.ID == id })
}

func peerInfo(h *Host, id p2p.PeerID) (p2p.PeerInfo, bool) {
	for _, p := range h.Peers() {
		if p.ID == id {
			return p, true
		}
	}
	return p2p.PeerInfo{}, false
}

// line starts three hosts connected A-B-C, each with a recording "blocks"
// topic, and waits until a message from A reaches C through B.
func line(t *testing.T) (a, b, c *Host, ra, rb, rc *recorder) {
	t.Helper()
	ra, rb, rc = newRecorder(), newRecorder(), newRecorder()
	mk := func(r *recorder) *Host {
		return startHost(t, testConfig(testNet), func(h *Host) {
			if err := h.HandleGossip("blocks", r.handle); err != nil {
				t.Fatal(err)
			}
		})
	}
	a, b, c = mk(ra), mk(rb), mk(rc)
	connect(t, a, b)
	connect(t, c, b)
	// The relay at B needs C in B's mesh, which gossipsub builds at its
	// heartbeat: probe until a message gets through.
	for i := 0; ; i++ {
		probe := fmt.Sprintf("probe-%d", i)
		if err := a.Publish("blocks", []byte(probe)); err != nil {
			t.Fatalf("publish: %v", err)
		}
		ok := false
		for range 20 {
			if _, ok = rc.has(probe); ok {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if ok {
			break
		}
		if i == 100 {
			t.Fatal("no probe reached C through B")
		}
	}
	return a, b, c, ra, rb, rc
}

func TestGossipRelaysOverTwoHops(t *testing.T) {
	a, b, c, ra, rb, rc := line(t)

	if hasPeer(a, c.Self()) || hasPeer(c, a.Self()) {
		t.Fatal("A and C are directly connected; the line topology is broken")
	}
	const msg = "block-1"
	if err := a.Publish("blocks", []byte(msg)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "message at C", func() bool { _, ok := rc.has(msg); return ok })
	if from, _ := rc.has(msg); from != b.Self() {
		t.Errorf("C got the message from %s, want the relay B %s", from, b.Self())
	}
	if from, _ := rb.has(msg); from != a.Self() {
		t.Errorf("B got the message from %s, want A %s", from, a.Self())
	}
	if _, ok := ra.has(msg); ok {
		t.Error("A's handler ran for A's own publication")
	}

	t.Run("ignored messages are not relayed", func(t *testing.T) {
		const ignored = "ignore-me"
		rbVerdict := func(data []byte) p2p.Verdict {
			if string(data) == ignored {
				return p2p.Ignore
			}
			return p2p.Accept
		}
		rb.mu.Lock()
		rb.verdict = rbVerdict
		rb.mu.Unlock()
		if err := a.Publish("blocks", []byte(ignored)); err != nil {
			t.Fatal(err)
		}
		const after = "after-ignored"
		if err := a.Publish("blocks", []byte(after)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "follow-up message at C", func() bool { _, ok := rc.has(after); return ok })
		time.Sleep(50 * time.Millisecond)
		if _, ok := rc.has(ignored); ok {
			t.Error("B relayed a message its handler ignored")
		}
		if p, ok := peerInfo(b, a.Self()); !ok || p.Penalty != 0 {
			t.Errorf("Ignore penalised A: %+v", p)
		}
	})

	t.Run("latency", func(t *testing.T) {
		const rounds = 100
		lat := make([]time.Duration, 0, rounds)
		for i := range rounds {
			m := fmt.Sprintf("lat-%d", i)
			t0 := time.Now()
			if err := a.Publish("blocks", []byte(m)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "latency probe at C", func() bool { _, ok := rc.has(m); return ok })
			at, _ := rc.arrival(m)
			lat = append(lat, at.Sub(t0))
		}
		slices.Sort(lat)
		t.Logf("gossip A->B->C over loopback, %d messages: median %v, p90 %v, max %v",
			rounds, lat[rounds/2], lat[rounds*9/10], lat[rounds-1])
	})
}

func TestGossipBurstArrivesWhole(t *testing.T) {
	a, _, _, _, _, rc := line(t)
	const n = 2000
	base := rc.count()
	payload := bytes.Repeat([]byte{'x'}, 200)
	for i := range n {
		msg := append([]byte("burst-"+strconv.Itoa(i)+"-"), payload...)
		if err := a.Publish("blocks", msg); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	waitFor(t, 30*time.Second, fmt.Sprintf("%d burst messages at C", n), func() bool { return rc.count()-base >= n })
	if got := rc.count() - base; got != n {
		t.Errorf("C got %d of %d burst messages", got, n)
	}
}

func TestPublishChecks(t *testing.T) {
	cfg := testConfig(testNet)
	cfg.MaxGossipSize = 1000
	h, err := NewHost(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.HandleGossip("Bad Name", func(p2p.PeerID, []byte) p2p.Verdict { return p2p.Accept }); !errors.Is(err, p2p.ErrBadName) {
		t.Errorf("bad topic name: %v, want ErrBadName", err)
	}
	if err := h.HandleGossip("blocks", func(p2p.PeerID, []byte) p2p.Verdict { return p2p.Accept }); err != nil {
		t.Fatal(err)
	}
	if err := h.HandleGossip("blocks", func(p2p.PeerID, []byte) p2p.Verdict { return p2p.Accept }); !errors.Is(err, p2p.ErrDuplicateHandler) {
		t.Errorf("duplicate topic: %v, want ErrDuplicateHandler", err)
	}
	if err := h.HandleRequest("pex/1", 1, 1, func(context.Context, p2p.PeerID, []byte) ([]byte, error) { return nil, nil }); !errors.Is(err, p2p.ErrDuplicateHandler) {
		t.Errorf("reserved protocol: %v, want ErrDuplicateHandler", err)
	}
	if err := h.Publish("blocks", []byte("x")); !errors.Is(err, p2p.ErrNotStarted) {
		t.Errorf("publish before start: %v, want ErrNotStarted", err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.HandleGossip("txs", func(p2p.PeerID, []byte) p2p.Verdict { return p2p.Accept }); !errors.Is(err, p2p.ErrStarted) {
		t.Errorf("register after start: %v, want ErrStarted", err)
	}
	if err := h.Publish("txs", []byte("x")); !errors.Is(err, p2p.ErrUnknownTopic) {
		t.Errorf("publish on unknown topic: %v, want ErrUnknownTopic", err)
	}
	if err := h.Publish("blocks", make([]byte, 1001)); err == nil {
		t.Error("oversized publish accepted")
	}
	if err := h.Publish("blocks", []byte("alone")); err != nil {
		t.Errorf("publish with no peers: %v", err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Publish("blocks", []byte("x")); !errors.Is(err, p2p.ErrClosed) {
		t.Errorf("publish after close: %v, want ErrClosed", err)
	}
}

// echoServer registers protocols on h:
//   - "echo/1" (caps reqCap, respCap): answers "size:N" with N bytes, "fail"
//     with an error, "sleep" after a second, anything else with itself.
func echoServer(reqCap, respCap int) func(*Host) {
	return func(h *Host) {
		err := h.HandleRequest("echo/1", reqCap, respCap, func(ctx context.Context, from p2p.PeerID, req []byte) ([]byte, error) {
			s := string(req)
			switch {
			case strings.HasPrefix(s, "size:"):
				n, err := strconv.Atoi(s[5:])
				if err != nil {
					return nil, err
				}
				return bytes.Repeat([]byte{'r'}, n), nil
			case s == "fail":
				return nil, errors.New("no such block")
			case s == "sleep":
				select {
				case <-time.After(time.Second):
				case <-ctx.Done():
				}
				return []byte("late"), nil
			case s == "hold":
				time.Sleep(100 * time.Millisecond)
				return []byte("held"), nil
			}
			return req, nil
		})
		if err != nil {
			panic(err) // test setup
		}
	}
}

func TestRequestResponse(t *testing.T) {
	// B serves with tight caps; A registers the same protocol with loose
	// caps, so A's own checks let oversized requests through to B.
	b := startHost(t, testConfig(testNet), echoServer(1024, 4096))
	a := startHost(t, testConfig(testNet), echoServer(1<<20, 1<<20))
	connect(t, a, b)
	ctx := context.Background()

	resp, err := a.Request(ctx, b.Self(), "echo/1", []byte("hello"))
	if err != nil || string(resp) != "hello" {
		t.Fatalf("echo: %q, %v", resp, err)
	}
	resp, err = a.Request(ctx, b.Self(), "echo/1", nil)
	if err != nil || len(resp) != 0 {
		t.Fatalf("empty echo: %q, %v", resp, err)
	}

	t.Run("request over the server's cap", func(t *testing.T) {
		_, err := a.Request(ctx, b.Self(), "echo/1", make([]byte, 2000))
		if !errors.Is(err, p2p.ErrRequestTooLarge) || !errors.Is(err, p2p.ErrRemote) {
			t.Fatalf("err = %v, want a remote ErrRequestTooLarge", err)
		}
		if !strings.Contains(err.Error(), "2000 bytes, limit 1024") {
			t.Errorf("error does not say the sizes: %v", err)
		}
		waitFor(t, 2*time.Second, "penalty for the oversized request", func() bool {
			p, ok := peerInfo(b, a.Self())
			return ok && p.Penalty == p2p.PenaltyOversized
		})
	})
	t.Run("response over the server's cap", func(t *testing.T) {
		_, err := a.Request(ctx, b.Self(), "echo/1", []byte("size:5000"))
		if !errors.Is(err, p2p.ErrResponseTooLarge) || !errors.Is(err, p2p.ErrRemote) {
			t.Fatalf("err = %v, want a remote ErrResponseTooLarge", err)
		}
		resp, err := a.Request(ctx, b.Self(), "echo/1", []byte("size:4096"))
		if err != nil || len(resp) != 4096 {
			t.Fatalf("response at the cap: %d bytes, %v", len(resp), err)
		}
	})
	t.Run("request over the client's cap", func(t *testing.T) {
		_, err := b.Request(ctx, a.Self(), "echo/1", make([]byte, 1025))
		if !errors.Is(err, p2p.ErrRequestTooLarge) || errors.Is(err, p2p.ErrRemote) {
			t.Fatalf("err = %v, want a local ErrRequestTooLarge", err)
		}
	})
	t.Run("response over the client's cap", func(t *testing.T) {
		_, err := b.Request(ctx, a.Self(), "echo/1", []byte("size:5000"))
		if !errors.Is(err, p2p.ErrResponseTooLarge) || errors.Is(err, p2p.ErrRemote) {
			t.Fatalf("err = %v, want a local ErrResponseTooLarge", err)
		}
		waitFor(t, 2*time.Second, "penalty for the oversized response", func() bool {
			p, ok := peerInfo(b, a.Self())
			return ok && p.Penalty >= p2p.PenaltyOversized
		})
	})
	t.Run("handler error", func(t *testing.T) {
		_, err := a.Request(ctx, b.Self(), "echo/1", []byte("fail"))
		var re *p2p.RemoteError
		if !errors.As(err, &re) || re.Code != p2p.CodeHandler || re.Msg != "no such block" {
			t.Fatalf("err = %v, want RemoteError with the handler's text", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
		defer cancel()
		t0 := time.Now()
		_, err := a.Request(ctx, b.Self(), "echo/1", []byte("sleep"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(t0); d > 900*time.Millisecond {
			t.Errorf("request returned after %v, deadline was 150ms", d)
		}
	})
	t.Run("unserved protocol", func(t *testing.T) {
		_, err := a.Request(ctx, b.Self(), "nothing/1", []byte("x"))
		if err == nil {
			t.Fatal("request on a protocol B does not serve succeeded")
		}
	})
	t.Run("not connected", func(t *testing.T) {
		c := startHost(t, testConfig(testNet), nil)
		_, err := a.Request(ctx, c.Self(), "echo/1", []byte("x"))
		if !errors.Is(err, p2p.ErrNotConnected) {
			t.Fatalf("err = %v, want ErrNotConnected", err)
		}
	})
	t.Run("300 concurrent requests", func(t *testing.T) {
		// More than libp2p's default per-protocol-per-peer stream limit.
		const n = 300
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				resp, err := a.Request(ctx, b.Self(), "echo/1", []byte("hold"))
				if err == nil && string(resp) != "held" {
					err = fmt.Errorf("bad response %q", resp)
				}
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent request: %v", err)
		}
	})
}

func TestRejectPenalisesAndBans(t *testing.T) {
	bcfg := testConfig(testNet)
	bcfg.BanDuration = 5 * time.Second
	rb := newRecorder()
	rb.verdict = func(data []byte) p2p.Verdict {
		if bytes.HasPrefix(data, []byte("bad")) {
			return p2p.Reject
		}
		return p2p.Accept
	}
	b := startHost(t, bcfg, func(h *Host) {
		if err := h.HandleGossip("blocks", rb.handle); err != nil {
			t.Fatal(err)
		}
	})
	a := startHost(t, testConfig(testNet), func(h *Host) {
		if err := h.HandleGossip("blocks", func(p2p.PeerID, []byte) p2p.Verdict { return p2p.Accept }); err != nil {
			t.Fatal(err)
		}
	})
	events, cancel := b.Subscribe()
	defer cancel()
	connect(t, a, b)
	select {
	case ev := <-events:
		if ev.Peer != a.Self() || !ev.Connected || !strings.HasPrefix(ev.Addr, "127.0.0.1:") {
			t.Fatalf("first event %+v, want A connected from 127.0.0.1", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no connect event")
	}
	waitFor(t, 5*time.Second, "B in A's topic peers", func() bool {
		id, _ := peer.Decode(string(b.Self()))
		return slices.Contains(a.topicPeers("blocks"), id)
	})

	if err := a.Publish("blocks", []byte("bad-0")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "first penalty", func() bool {
		p, ok := peerInfo(b, a.Self())
		return ok && p.Penalty == p2p.PenaltyInvalidMessage
	})
	for i := 1; i < p2p.BanThreshold/p2p.PenaltyInvalidMessage; i++ {
		if err := a.Publish("blocks", []byte(fmt.Sprintf("bad-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "disconnect event", func() bool {
		select {
		case ev := <-events:
			return ev.Peer == a.Self() && !ev.Connected
		default:
			return false
		}
	})
	if hasPeer(b, a.Self()) {
		t.Fatal("banned peer still listed")
	}
	// B refuses to dial A itself, at once. A's dial fails when B drops it
	// after the handshake, which under load can take a while: its deadline
	// (3 s) is well inside the ban (5 s), so the ban cannot expire under it.
	ctx, cancelCtx := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancelCtx()
	if _, err := b.Connect(ctx, tcpAddr(t, a)); !errors.Is(err, p2p.ErrBanned) {
		t.Fatalf("dialling a banned peer: %v, want ErrBanned", err)
	}
	if _, err := a.Connect(ctx, tcpAddr(t, b)); err == nil {
		t.Fatal("banned peer reconnected")
	}
	time.Sleep(200 * time.Millisecond)
	if hasPeer(b, a.Self()) || hasPeer(a, b.Self()) {
		t.Fatal("banned peer connected")
	}

	// The ban expires.
	waitFor(t, 10*time.Second, "reconnect after the ban", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := a.Connect(ctx, tcpAddr(t, b))
		return err == nil
	})
}

func TestNetworkIDsDoNotMix(t *testing.T) {
	a := startHost(t, testConfig("net-a"), nil)
	b := startHost(t, testConfig("net-b"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.Connect(ctx, tcpAddr(t, b)); !errors.Is(err, p2p.ErrWrongNetwork) {
		t.Fatalf("connect across networks: %v, want ErrWrongNetwork", err)
	}
	if _, err := b.Connect(ctx, tcpAddr(t, a)); err == nil {
		t.Fatal("connect back across networks succeeded")
	}
	if len(a.Peers()) != 0 || len(b.Peers()) != 0 {
		t.Fatalf("peers across networks: %v / %v", a.Peers(), b.Peers())
	}
	waitFor(t, 5*time.Second, "hosts of different networks disconnect", func() bool {
		return a.h.Network().Connectedness(b.h.ID()) != network.Connected
	})
}

func TestPeerExchangeFindsTheRest(t *testing.T) {
	cfg := testConfig(testNet)
	cfg.PeerExchange = true
	a := startHost(t, cfg, nil)
	b := startHost(t, cfg, nil)
	c := startHost(t, cfg, nil)
	connect(t, a, b)
	connect(t, c, b)
	waitFor(t, 10*time.Second, "C connected to A via peer exchange", func() bool {
		return hasPeer(c, a.Self()) && hasPeer(a, c.Self())
	})
	info, _ := peerInfo(c, a.Self())
	if len(info.Addrs) == 0 || len(info.HostPorts) == 0 {
		t.Errorf("peer info without addresses: %+v", info)
	}
	for _, hp := range info.HostPorts {
		if !strings.HasPrefix(hp, "127.0.0.1:") {
			t.Errorf("host:port %q", hp)
		}
	}
}

func TestDHTFindsPeers(t *testing.T) {
	cfg := testConfig(testNet)
	cfg.DHT = true
	cfg.DiscoveryInterval = 500 * time.Millisecond
	a := startHost(t, cfg, nil)
	b := startHost(t, cfg, nil)
	c := startHost(t, cfg, nil)
	d := startHost(t, cfg, nil)
	connect(t, b, a)
	connect(t, c, a)
	connect(t, d, c)
	// D knows only C; without peer exchange, only the DHT can lead it to B.
	waitFor(t, 20*time.Second, "D connected to B via the DHT", func() bool { return hasPeer(d, b.Self()) })
}

func TestWebSocketTransport(t *testing.T) {
	a := startHost(t, testConfig(testNet), nil)
	b := startHost(t, testConfig(testNet), echoServer(100, 100))
	var wsAddr string
	for _, s := range b.ListenAddrs() {
		if strings.Contains(s, "/ws/") {
			wsAddr = s
		}
	}
	if wsAddr == "" {
		t.Fatalf("no WebSocket address in %v", b.ListenAddrs())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.Connect(ctx, wsAddr); err != nil {
		t.Fatalf("connect over WebSocket: %v", err)
	}
	resp, err := a.Request(ctx, b.Self(), "echo/1", []byte("ws"))
	if err != nil || string(resp) != "ws" {
		t.Fatalf("request over WebSocket: %q, %v", resp, err)
	}
}

func TestListenPortPlusOneForWebSocket(t *testing.T) {
	h, err := NewHost(testConfig(testNet))
	if err != nil {
		t.Fatal(err)
	}
	h.cfg.Listen = "127.0.0.1:4100"
	addrs, err := h.listenAddrs()
	if err != nil {
		t.Fatal(err)
	}
	got := []string{addrs[0].String(), addrs[1].String()}
	want := []string{"/ip4/127.0.0.1/tcp/4100", "/ip4/127.0.0.1/tcp/4101/ws"}
	if !slices.Equal(got, want) {
		t.Errorf("listen addrs %v, want %v", got, want)
	}
	h.cfg.Listen = "[::1]:0"
	addrs, err = h.listenAddrs()
	if err != nil || addrs[0].String() != "/ip6/::1/tcp/0" || addrs[1].String() != "/ip6/::1/tcp/0/ws" {
		t.Errorf("ipv6 listen addrs %v, %v", addrs, err)
	}
}

func TestBootstrapRedial(t *testing.T) {
	b := startHost(t, testConfig(testNet), nil)
	cfg := testConfig(testNet)
	cfg.Bootstrap = []string{tcpAddr(t, b)}
	cfg.RedialBootstrap = true
	cfg.RedialInterval = 300 * time.Millisecond
	a := startHost(t, cfg, nil)
	waitFor(t, 10*time.Second, "A connected to its bootstrap peer", func() bool { return hasPeer(b, a.Self()) })

	// B hangs up; A must dial again. The proof is a new connection from A
	// at B: libp2p's connectedness events may coalesce a quick
	// disconnect and reconnect into none, so the peer events cannot tell.
	aID, _ := peer.Decode(string(a.Self()))
	old := map[string]bool{}
	for _, c := range b.h.Network().ConnsToPeer(aID) {
		old[c.ID()] = true
	}
	if err := b.h.Network().ClosePeer(aID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "A redialled its bootstrap peer", func() bool {
		for _, c := range b.h.Network().ConnsToPeer(aID) {
			if !old[c.ID()] && c.Stat().Direction == network.DirInbound {
				return hasPeer(b, a.Self())
			}
		}
		return false
	})
}

func TestIdentityPersists(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	cfg := testConfig(testNet)
	cfg.DataDir = dir
	h1 := startHost(t, cfg, nil)
	id1 := h1.Self()
	if err := h1.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, IdentityKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	h2 := startHost(t, cfg, nil)
	if h2.Self() != id1 {
		t.Fatalf("identity changed across restart: %s -> %s", id1, h2.Self())
	}
	for _, a := range h2.ListenAddrs() {
		if !strings.HasSuffix(a, "/p2p/"+string(id1)) {
			t.Errorf("listen addr %q does not end in /p2p/<id>", a)
		}
	}
	cfg.DataDir = t.TempDir()
	h3, err := NewHost(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if h3.Self() == id1 {
		t.Fatal("two data dirs share an identity")
	}
	// A corrupt key file is an error, not a new identity.
	if err := os.WriteFile(filepath.Join(cfg.DataDir, IdentityKeyFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewHost(cfg); err == nil {
		t.Fatal("corrupt identity key accepted")
	}
}

func TestConfigValidation(t *testing.T) {
	bad := []func(*Config){
		func(c *Config) { c.NetworkID = "" },
		func(c *Config) { c.NetworkID = "a/b" },
		func(c *Config) { c.Listen = "localhost:1" },
		func(c *Config) { c.Listen = "127.0.0.1:65535" },
		func(c *Config) { c.MaxPeers = -1 },
		func(c *Config) { c.Bootstrap = []string{"/ip4/127.0.0.1/tcp/1"} },
	}
	for i, mod := range bad {
		cfg := testConfig(testNet)
		mod(&cfg)
		if _, err := NewHost(cfg); err == nil {
			t.Errorf("bad config %d accepted", i)
		}
	}
}

// freePortPair finds a port p on loopback such that p and p+1 are free.
func freePortPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p+1))
		l.Close()
		if err == nil {
			l2.Close()
			return p
		}
	}
	t.Fatal("no free port pair")
	return 0
}

// TestListenPortTaken checks that a host whose TCP or WebSocket port is
// taken fails to start with an error naming the address, rather than
// sharing the port (SO_REUSEPORT) or starting without WebSocket.
func TestListenPortTaken(t *testing.T) {
	port := freePortPair(t)
	cfg := testConfig(testNet)
	cfg.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	startHost(t, cfg, nil)

	second, err := NewHost(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = second.Start(context.Background())
	if err == nil {
		second.Close()
		t.Fatal("a second host started on a port in use")
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("tcp/%d", port)) || !strings.Contains(err.Error(), "in use") {
		t.Errorf("error does not name the taken address: %v", err)
	}

	// Only the WebSocket port (TCP port + 1) taken.
	port = freePortPair(t)
	l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port+1))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	third, err := NewHost(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = third.Start(context.Background())
	if err == nil {
		third.Close()
		t.Fatal("a host started without its WebSocket listener")
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("tcp/%d/ws", port+1)) {
		t.Errorf("error does not name the WebSocket address: %v", err)
	}
}

// TestKeepPeer: a peer handed to KeepPeer is protected from the connection
// manager and redialled after its connection drops; bad addresses and
// oneself are refused.
func TestKeepPeer(t *testing.T) {
	b := startHost(t, testConfig(testNet), nil)
	cfg := testConfig(testNet)
	cfg.RedialInterval = 300 * time.Millisecond
	a := startHost(t, cfg, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := a.KeepPeer(ctx, []string{tcpAddr(t, b)})
	if err != nil || id != b.Self() {
		t.Fatalf("KeepPeer = %s, %v", id, err)
	}
	bID, _ := peer.Decode(string(b.Self()))
	if !a.h.ConnManager().IsProtected(bID, protectKept) {
		t.Fatal("a kept peer is not protected from the connection manager")
	}
	if err := a.h.Network().ClosePeer(bID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the kept peer dropped and redialled", func() bool {
		return hasPeer(a, b.Self()) && hasPeer(b, a.Self())
	})
	if _, err := a.KeepPeer(ctx, []string{tcpAddr(t, a)}); !errors.Is(err, p2p.ErrSelf) {
		t.Errorf("keeping oneself: %v", err)
	}
	if _, err := a.KeepPeer(ctx, []string{"/ip4/127.0.0.1/tcp/1"}); !errors.Is(err, p2p.ErrBadAddress) {
		t.Errorf("address without a peer id: %v", err)
	}
	if _, err := a.KeepPeer(ctx, []string{tcpAddr(t, b), tcpAddr(t, a)}); !errors.Is(err, p2p.ErrBadAddress) {
		t.Errorf("addresses of two peers: %v", err)
	}
}

// TestConformance runs the p2p.Network conformance suite on libp2p hosts
// over loopback.
func TestConformance(t *testing.T) {
	p2ptest.Run(t, p2ptest.Harness{
		New: func(t *testing.T) p2p.Network {
			h, err := NewHost(testConfig(testNet))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = h.Close() })
			return h
		},
		Link: func(t *testing.T, a, b p2p.Network) {
			connect(t, a.(*Host), b.(*Host))
		},
		Settle: 500 * time.Millisecond,
	})
}
