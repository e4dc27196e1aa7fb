// Package p2ptest is the conformance suite of p2p.Network: the behaviours
// every implementation (the libp2p Host, memnet) must share, run by each
// implementation's tests through a Harness. The node's logic is written
// against these behaviours, so a test on memnet means the same on libp2p.
package p2ptest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/testnet/wait"
	"github.com/chaind/chaind/p2p"
)

// Harness makes networks of one implementation.
type Harness struct {
	// New returns a new, unstarted network; the harness closes it at cleanup.
	New func(t *testing.T) p2p.Network
	// Link connects two started networks (a dials b).
	Link func(t *testing.T, a, b p2p.Network)
	// Settle is how long gossip subscriptions need to cross a new link.
	Settle time.Duration
}

// Bounds of the suite's protocol.
const (
	maxReq  = 16
	maxResp = 32
	topic   = "blocks"
	proto   = "echo/1"
	timeout = 10 * time.Second
)

type recorder struct {
	mu   sync.Mutex
	got  map[string]int
	from map[string]p2p.PeerID
}

func (r *recorder) handle(from p2p.PeerID, data []byte) p2p.Verdict {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[string(data)]++
	r.from[string(data)] = from
	return p2p.Accept
}

func (r *recorder) count(k string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[k]
}

// echo answers "big" with more than maxResp bytes, "fail" with an error,
// and anything else with itself.
func echo(_ context.Context, _ p2p.PeerID, req []byte) ([]byte, error) {
	switch string(req) {
	case "big":
		return []byte(strings.Repeat("x", maxResp+1)), nil
	case "fail":
		return nil, errors.New("refused by handler")
	}
	return req, nil
}

// node is a started network with the suite's topic and protocol.
type node struct {
	p2p.Network
	rec *recorder
}

func start(t *testing.T, h Harness) node {
	t.Helper()
	n := h.New(t)
	rec := &recorder{got: map[string]int{}, from: map[string]p2p.PeerID{}}
	if err := n.HandleGossip(topic, rec.handle); err != nil {
		t.Fatal(err)
	}
	if err := n.HandleRequest(proto, maxReq, maxResp, echo); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := n.HandleGossip("late", rec.handle); !errors.Is(err, p2p.ErrStarted) {
		t.Fatalf("registering after Start: %v, want ErrStarted", err)
	}
	return node{n, rec}
}

func hasPeer(n p2p.Network, id p2p.PeerID) bool {
	for _, pi := range n.Peers() {
		if pi.ID == id {
			return true
		}
	}
	return false
}

func link(t *testing.T, h Harness, a, b node) {
	t.Helper()
	h.Link(t, a.Network, b.Network)
	wait.For(t, timeout, "both ends list the link", func() bool { return hasPeer(a, b.Self()) && hasPeer(b, a.Self()) })
	time.Sleep(h.Settle)
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	t.Run("PublishDeliversOnce", func(t *testing.T) {
		a, b, c := start(t, h), start(t, h), start(t, h)
		link(t, h, a, b)
		link(t, h, b, c)
		if err := a.Publish("nosuch", []byte("x")); !errors.Is(err, p2p.ErrUnknownTopic) {
			t.Fatalf("publish on an unregistered topic: %v", err)
		}
		// A relay may need its mesh built first (gossipsub builds it at its
		// heartbeat): probe until a message gets through two hops.
		if !wait.Until(timeout, func() bool {
			probe := []byte("probe-" + time.Now().String())
			if err := a.Publish(topic, probe); err != nil {
				t.Fatal(err)
			}
			return wait.Until(200*time.Millisecond, func() bool { return c.rec.count(string(probe)) > 0 })
		}) {
			t.Fatal("no probe crossed two hops")
		}
		if err := a.Publish(topic, []byte("m1")); err != nil {
			t.Fatal(err)
		}
		wait.For(t, timeout, "the message two hops away", func() bool { return c.rec.count("m1") > 0 })
		time.Sleep(100 * time.Millisecond)
		if b.rec.count("m1") != 1 || c.rec.count("m1") != 1 || a.rec.count("m1") != 0 {
			t.Fatalf("deliveries a=%d b=%d c=%d, want 0 1 1", a.rec.count("m1"), b.rec.count("m1"), c.rec.count("m1"))
		}
		c.rec.mu.Lock()
		from := c.rec.from["m1"]
		c.rec.mu.Unlock()
		if from != b.Self() {
			t.Fatalf("c got the message from %s, want its neighbour b", from)
		}
	})
	t.Run("RequestCaps", func(t *testing.T) {
		a, b := start(t, h), start(t, h)
		link(t, h, a, b)
		ctx := context.Background()
		if resp, err := a.Request(ctx, b.Self(), proto, []byte("ping")); err != nil || string(resp) != "ping" {
			t.Fatalf("echo: %q, %v", resp, err)
		}
		if _, err := a.Request(ctx, b.Self(), proto, make([]byte, maxReq+1)); !errors.Is(err, p2p.ErrRequestTooLarge) {
			t.Errorf("oversized request: %v, want ErrRequestTooLarge", err)
		}
		if _, err := a.Request(ctx, b.Self(), proto, []byte("big")); !errors.Is(err, p2p.ErrResponseTooLarge) {
			t.Errorf("oversized response: %v, want ErrResponseTooLarge", err)
		}
		if _, err := a.Request(ctx, b.Self(), proto, []byte("fail")); !errors.Is(err, p2p.ErrRemote) {
			t.Errorf("handler error: %v, want ErrRemote", err)
		}
		c := start(t, h)
		if _, err := a.Request(ctx, c.Self(), proto, []byte("x")); err == nil {
			t.Error("request to a peer that is not connected succeeded")
		}
	})
	t.Run("PenalizeBans", func(t *testing.T) {
		a, b := start(t, h), start(t, h)
		link(t, h, a, b)
		a.Penalize(b.Self(), p2p.BanThreshold/2, "test")
		for _, pi := range a.Peers() {
			if pi.ID == b.Self() && pi.Penalty != p2p.BanThreshold/2 {
				t.Errorf("penalty shown %d, want %d", pi.Penalty, p2p.BanThreshold/2)
			}
		}
		a.Penalize(b.Self(), p2p.BanThreshold, "test")
		wait.For(t, timeout, "the banned peer gone", func() bool { return !hasPeer(a, b.Self()) })
		addrs := b.Network.(p2p.Addressed).ListenAddrs()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if _, err := a.Connect(ctx, addrs[0]); !errors.Is(err, p2p.ErrBanned) {
			t.Errorf("dialling a banned peer: %v, want ErrBanned", err)
		}
	})
	t.Run("PeerEvents", func(t *testing.T) {
		a, b := start(t, h), start(t, h)
		events, cancel := a.Subscribe()
		defer cancel()
		h.Link(t, a.Network, b.Network)
		next := func(connected bool) {
			t.Helper()
			deadline := time.After(timeout)
			for {
				select {
				case ev := <-events:
					if ev.Peer == b.Self() && ev.Connected == connected {
						return
					}
				case <-deadline:
					t.Fatalf("no event connected=%v for the peer", connected)
				}
			}
		}
		next(true)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		next(false)
	})
}
