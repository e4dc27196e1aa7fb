package memnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/p2ptest"
)

// sink records gossip arrivals per node.
type sink struct {
	mu      sync.Mutex
	got     map[string]time.Time
	calls   map[string]int
	from    map[string]p2p.PeerID
	verdict func([]byte) p2p.Verdict
}

func newSink() *sink {
	return &sink{got: make(map[string]time.Time), calls: make(map[string]int), from: make(map[string]p2p.PeerID)}
}

func (s *sink) handle(from p2p.PeerID, data []byte) p2p.Verdict {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := string(data)
	if _, ok := s.got[k]; !ok {
		s.got[k] = time.Now()
		s.from[k] = from
	}
	s.calls[k]++
	if s.verdict != nil {
		return s.verdict(data)
	}
	return p2p.Accept
}

func (s *sink) arrival(k string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.got[k]
	return t, ok
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newNet(t *testing.T, cfg Config) *Net {
	t.Helper()
	cfg.Logger = quiet()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n
}

// nodes adds k started nodes, each with a "blocks" topic recorded by a sink
// and an "echo/1" protocol with the given caps.
func nodes(t *testing.T, n *Net, k, maxReq, maxResp int) ([]*Node, []*sink) {
	t.Helper()
	var ns []*Node
	var ss []*sink
	for range k {
		nd := n.NewNode()
		s := newSink()
		if err := nd.HandleGossip("blocks", s.handle); err != nil {
			t.Fatal(err)
		}
		if err := nd.HandleRequest("echo/1", maxReq, maxResp, echo); err != nil {
			t.Fatal(err)
		}
		if err := nd.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		ns = append(ns, nd)
		ss = append(ss, s)
	}
	return ns, ss
}

// echo answers "size:N" with N bytes, "fail" with an error, "sleep" after
// a second, and anything else with itself.
func echo(ctx context.Context, _ p2p.PeerID, req []byte) ([]byte, error) {
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
	}
	return req, nil
}

func mustLink(t *testing.T, n *Net, a, b *Node, p LinkParams) {
	t.Helper()
	if err := n.Link(a.Self(), b.Self(), p); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLatencyIsRespected(t *testing.T) {
	n := newNet(t, Config{Seed: 1})
	ns, ss := nodes(t, n, 3, 1024, 1024)
	const lat = 40 * time.Millisecond
	mustLink(t, n, ns[0], ns[1], LinkParams{Latency: lat})
	mustLink(t, n, ns[1], ns[2], LinkParams{Latency: lat})

	t0 := time.Now()
	if err := ns[0].Publish("blocks", []byte("b1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "two hops", func() bool { _, ok := ss[2].arrival("b1"); return ok })
	at1, _ := ss[1].arrival("b1")
	at2, _ := ss[2].arrival("b1")
	if d := at1.Sub(t0); d < lat || d > lat+100*time.Millisecond {
		t.Errorf("one hop took %v, latency %v", d, lat)
	}
	if d := at2.Sub(t0); d < 2*lat || d > 2*lat+150*time.Millisecond {
		t.Errorf("two hops took %v, latency %v per hop", d, lat)
	}

	t0 = time.Now()
	resp, err := ns[0].Request(context.Background(), ns[1].Self(), "echo/1", []byte("ping"))
	if err != nil || string(resp) != "ping" {
		t.Fatalf("request: %q, %v", resp, err)
	}
	if d := time.Since(t0); d < 2*lat || d > 2*lat+100*time.Millisecond {
		t.Errorf("round trip took %v, latency %v each way", d, lat)
	}
	if _, err := ns[0].Request(context.Background(), ns[2].Self(), "echo/1", []byte("x")); !errors.Is(err, p2p.ErrNotConnected) {
		t.Errorf("request to a non-neighbour: %v, want ErrNotConnected", err)
	}
}

func TestPartitionAndHeal(t *testing.T) {
	n := newNet(t, Config{Seed: 2})
	ns, ss := nodes(t, n, 4, 1024, 1024)
	// Full mesh with 2 ms links.
	for i := range ns {
		for j := i + 1; j < len(ns); j++ {
			mustLink(t, n, ns[i], ns[j], LinkParams{Latency: 2 * time.Millisecond})
		}
	}
	events, cancel := ns[0].Subscribe()
	defer cancel()

	n.Partition([]p2p.PeerID{ns[0].Self(), ns[1].Self()}, []p2p.PeerID{ns[2].Self(), ns[3].Self()})
	down := map[p2p.PeerID]bool{}
	for len(down) < 2 {
		select {
		case ev := <-events:
			if ev.Connected {
				t.Fatalf("connect event during partition: %+v", ev)
			}
			down[ev.Peer] = true
		case <-time.After(time.Second):
			t.Fatalf("disconnect events: got %v", down)
		}
	}
	if !down[ns[2].Self()] || !down[ns[3].Self()] {
		t.Fatalf("disconnected from %v, want n002 and n003", down)
	}
	if got := len(ns[0].Peers()); got != 1 {
		t.Errorf("n000 has %d peers in a partition of two", got)
	}

	if err := ns[0].Publish("blocks", []byte("split")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "delivery inside the group", func() bool { _, ok := ss[1].arrival("split"); return ok })
	time.Sleep(50 * time.Millisecond)
	for _, i := range []int{2, 3} {
		if _, ok := ss[i].arrival("split"); ok {
			t.Errorf("node %d got a message across the partition", i)
		}
	}
	if _, err := ns[0].Request(context.Background(), ns[2].Self(), "echo/1", []byte("x")); !errors.Is(err, p2p.ErrNotConnected) {
		t.Errorf("request across the partition: %v, want ErrNotConnected", err)
	}

	n.Heal()
	for up := map[p2p.PeerID]bool{}; len(up) < 2; {
		select {
		case ev := <-events:
			if !ev.Connected {
				t.Fatalf("disconnect event on heal: %+v", ev)
			}
			up[ev.Peer] = true
		case <-time.After(time.Second):
			t.Fatal("no connect events on heal")
		}
	}
	if err := ns[3].Publish("blocks", []byte("healed")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "delivery after heal", func() bool {
		for i := range 3 {
			if _, ok := ss[i].arrival("healed"); !ok {
				return false
			}
		}
		return true
	})
	if _, err := ns[0].Request(context.Background(), ns[2].Self(), "echo/1", []byte("x")); err != nil {
		t.Errorf("request after heal: %v", err)
	}
}

func TestHundredNodesFlood(t *testing.T) {
	const k, degree = 100, 4
	n := newNet(t, Config{Seed: 3})
	ns, ss := nodes(t, n, k, 1024, 1024)
	rng := rand.New(rand.NewPCG(3, 3))
	params := LinkParams{Latency: 5 * time.Millisecond, Jitter: 5 * time.Millisecond}
	// A ring keeps the graph connected; random chords make it small-world.
	for i := range ns {
		mustLink(t, n, ns[i], ns[(i+1)%k], params)
		for range degree - 2 {
			j := rng.IntN(k)
			if j != i {
				mustLink(t, n, ns[i], ns[j], params)
			}
		}
	}
	t0 := time.Now()
	const msgs = 20
	for m := range msgs {
		if err := ns[m*5].Publish("blocks", []byte(fmt.Sprintf("flood-%d", m))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "every node has every message", func() bool {
		for i, s := range ss {
			want := msgs
			if i%5 == 0 && i/5 < msgs {
				want-- // its own message
			}
			if s.count() != want {
				return false
			}
		}
		return true
	})
	var last time.Duration
	for _, s := range ss {
		for m := range msgs {
			if at, ok := s.arrival(fmt.Sprintf("flood-%d", m)); ok {
				last = max(last, at.Sub(t0))
			}
		}
	}
	// Publishers do not handle their own messages, so each node's handler
	// ran once per message it did not publish, never twice.
	for i, s := range ss {
		s.mu.Lock()
		for m, c := range s.calls {
			if c != 1 {
				t.Errorf("node %d handled %s %d times", i, m, c)
			}
		}
		s.mu.Unlock()
	}
	st := n.Stats()
	t.Logf("%d nodes, %d messages: all delivered in %v; %d sends, %d deliveries", k, msgs, last, st.Sent, st.Delivered)
}

func TestLossIsDeterministic(t *testing.T) {
	run := func(seed uint64) map[string]bool {
		n := newNet(t, Config{Seed: seed})
		ns, ss := nodes(t, n, 2, 1024, 1024)
		mustLink(t, n, ns[0], ns[1], LinkParams{Latency: time.Millisecond, Loss: 0.3})
		const msgs = 1000
		for i := range msgs {
			if err := ns[0].Publish("blocks", []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, 5*time.Second, "deliveries", func() bool {
			st := n.Stats()
			return st.Lost+st.Delivered == msgs && uint64(ss[1].count()) == st.Delivered
		})
		got := map[string]bool{}
		ss[1].mu.Lock()
		for k := range ss[1].got {
			got[k] = true
		}
		ss[1].mu.Unlock()
		if len(got) < 600 || len(got) > 800 {
			t.Errorf("seed %d: %d of %d arrived with 30%% loss", seed, len(got), msgs)
		}
		return got
	}
	a, b, c := run(7), run(7), run(8)
	if !mapsEqual(a, b) {
		t.Error("the same seed lost different messages")
	}
	if mapsEqual(a, c) {
		t.Error("different seeds lost the same messages")
	}
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func TestRequestCapsAndErrors(t *testing.T) {
	n := newNet(t, Config{Seed: 4})
	ns, _ := nodes(t, n, 1, 1<<20, 1<<20) // client: loose caps
	srv, _ := nodes(t, n, 1, 1024, 4096)  // server: tight caps
	a, b := ns[0], srv[0]
	mustLink(t, n, a, b, LinkParams{Latency: time.Millisecond})
	ctx := context.Background()

	_, err := a.Request(ctx, b.Self(), "echo/1", make([]byte, 2000))
	if !errors.Is(err, p2p.ErrRequestTooLarge) || !errors.Is(err, p2p.ErrRemote) {
		t.Errorf("request over the server's cap: %v", err)
	}
	_, err = a.Request(ctx, b.Self(), "echo/1", []byte("size:5000"))
	if !errors.Is(err, p2p.ErrResponseTooLarge) || !errors.Is(err, p2p.ErrRemote) {
		t.Errorf("response over the server's cap: %v", err)
	}
	_, err = b.Request(ctx, a.Self(), "echo/1", make([]byte, 1025))
	if !errors.Is(err, p2p.ErrRequestTooLarge) || errors.Is(err, p2p.ErrRemote) {
		t.Errorf("request over the client's cap: %v", err)
	}
	_, err = b.Request(ctx, a.Self(), "echo/1", []byte("size:5000"))
	if !errors.Is(err, p2p.ErrResponseTooLarge) || errors.Is(err, p2p.ErrRemote) {
		t.Errorf("response over the client's cap: %v", err)
	}
	var re *p2p.RemoteError
	if _, err = a.Request(ctx, b.Self(), "echo/1", []byte("fail")); !errors.As(err, &re) || re.Msg != "no such block" {
		t.Errorf("handler error: %v", err)
	}
	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err = a.Request(dctx, b.Self(), "echo/1", []byte("sleep")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
	if _, err = a.Request(ctx, b.Self(), "nothing/1", nil); err == nil {
		t.Error("request on an unserved protocol succeeded")
	}
	// b charged a for the oversized request it served and for the
	// oversized response it received as a client.
	if p := b.Peers()[0]; p.ID != a.Self() || p.Penalty != 2*p2p.PenaltyOversized {
		t.Errorf("b's view of a: %+v", p)
	}
	if p := a.Peers()[0]; p.ID != b.Self() || p.Direction != p2p.Outbound {
		t.Errorf("a's view of b: %+v", p)
	}
}

func TestRejectBans(t *testing.T) {
	n := newNet(t, Config{Seed: 5, BanDuration: 300 * time.Millisecond})
	ns, ss := nodes(t, n, 2, 1024, 1024)
	a, b := ns[0], ns[1]
	ss[1].verdict = func(d []byte) p2p.Verdict {
		if bytes.HasPrefix(d, []byte("bad")) {
			return p2p.Reject
		}
		return p2p.Accept
	}
	mustLink(t, n, a, b, LinkParams{})
	for i := range p2p.BanThreshold / p2p.PenaltyInvalidMessage {
		if err := a.Publish("blocks", []byte(fmt.Sprintf("bad-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, time.Second, "ban", func() bool { return len(b.Peers()) == 0 })
	if _, err := a.Connect(context.Background(), b.Addr()); err == nil {
		t.Fatal("banned node reconnected")
	}
	if _, err := b.Connect(context.Background(), a.Addr()); !errors.Is(err, p2p.ErrBanned) {
		t.Fatalf("dialling a banned node: %v, want ErrBanned", err)
	}
	waitFor(t, 2*time.Second, "ban expiry", func() bool {
		_, err := a.Connect(context.Background(), b.Addr())
		return err == nil
	})
	if len(a.Peers()) != 1 {
		t.Fatal("no link after reconnect")
	}
}

func TestLifecycle(t *testing.T) {
	n := newNet(t, Config{Seed: 6})
	a, b := n.NewNode(), n.NewNode()
	if err := a.Publish("blocks", nil); !errors.Is(err, p2p.ErrNotStarted) {
		t.Errorf("publish before start: %v", err)
	}
	events, cancel := a.Subscribe()
	defer cancel()
	mustLink(t, n, a, b, LinkParams{})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(a.Peers()) != 0 {
		t.Error("link up while one end is not started")
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if ev.Peer != b.Self() || !ev.Connected || ev.Addr != b.Addr() {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(time.Second):
		t.Fatal("no connect event when both ends started")
	}
	if err := a.HandleGossip("late", func(p2p.PeerID, []byte) p2p.Verdict { return p2p.Accept }); !errors.Is(err, p2p.ErrStarted) {
		t.Errorf("register after start: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if ev.Peer != b.Self() || ev.Connected {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(time.Second):
		t.Fatal("no disconnect event when the peer closed")
	}
	if _, err := a.Connect(context.Background(), b.Addr()); err == nil {
		t.Error("connected to a closed node")
	}
	if err := b.Publish("blocks", nil); !errors.Is(err, p2p.ErrClosed) {
		t.Errorf("publish after close: %v", err)
	}
	if _, err := a.Connect(context.Background(), "memnet/nobody"); !errors.Is(err, p2p.ErrBadAddress) {
		t.Errorf("connect to an unknown node: %v", err)
	}
}

// TestConformance runs the p2p.Network conformance suite on memnet.
func TestConformance(t *testing.T) {
	n := newNet(t, Config{Seed: 9})
	p2ptest.Run(t, p2ptest.Harness{
		New: func(t *testing.T) p2p.Network { return n.NewNode() },
		Link: func(t *testing.T, a, b p2p.Network) {
			if err := n.Link(a.Self(), b.Self(), LinkParams{}); err != nil {
				t.Fatal(err)
			}
		},
	})
}
