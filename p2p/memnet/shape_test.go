package memnet

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chaind/chaind/p2p"
)

// TestShapeChangesALink: Shape changes only the link it names, and only
// an existing one.
func TestShapeChangesALink(t *testing.T) {
	n := newNet(t, Config{Seed: 3})
	ns, ss := nodes(t, n, 3, 1024, 1024)
	mustLink(t, n, ns[0], ns[1], LinkParams{})
	mustLink(t, n, ns[0], ns[2], LinkParams{})
	const slow = 80 * time.Millisecond
	if err := n.Shape(ns[0].Self(), ns[1].Self(), LinkParams{Latency: slow}); err != nil {
		t.Fatal(err)
	}
	if err := n.Shape(ns[1].Self(), ns[2].Self(), LinkParams{}); err == nil {
		t.Fatal("shaped a link that does not exist")
	}
	if err := n.Shape(ns[0].Self(), ns[1].Self(), LinkParams{Loss: 2}); err == nil {
		t.Fatal("accepted a loss above 1")
	}
	t0 := time.Now()
	if err := ns[0].Publish("blocks", []byte("m")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "both neighbours", func() bool {
		_, a := ss[1].arrival("m")
		_, b := ss[2].arrival("m")
		return a && b
	})
	at1, _ := ss[1].arrival("m")
	at2, _ := ss[2].arrival("m")
	if d := at1.Sub(t0); d < slow {
		t.Errorf("shaped link delivered after %v, delay %v", d, slow)
	}
	if d := at2.Sub(t0); d >= slow {
		t.Errorf("unshaped link delivered after %v", d)
	}
	if p, ok := n.LinkParams(ns[1].Self(), ns[0].Self()); !ok || p.Latency != slow {
		t.Errorf("LinkParams = %+v, %v", p, ok)
	}
}

// TestBandwidthQueues: at 100 kB/s, ten 10 kB messages take about a second
// to cross, one after the other; a request waits its turn as well.
func TestBandwidthQueues(t *testing.T) {
	n := newNet(t, Config{Seed: 4})
	ns, ss := nodes(t, n, 2, 1<<20, 1<<20)
	mustLink(t, n, ns[0], ns[1], LinkParams{Bandwidth: 100_000})
	t0 := time.Now()
	for i := range 10 {
		msg := make([]byte, 10_000)
		msg[0] = byte(i)
		if err := ns[0].Publish("blocks", msg); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 3*time.Second, "ten messages", func() bool { return ss[1].count() == 10 })
	if d := time.Since(t0); d < 900*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("10 x 10 kB at 100 kB/s took %v, want about 1s", d)
	}
	// The other direction is idle: a small request is quick.
	t0 = time.Now()
	if _, err := ns[1].Request(context.Background(), ns[0].Self(), "echo/1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 200*time.Millisecond {
		t.Errorf("small request took %v", d)
	}
	// A 50 kB response takes half a second.
	t0 = time.Now()
	resp, err := ns[1].Request(context.Background(), ns[0].Self(), "echo/1", []byte("size:50000"))
	if err != nil || len(resp) != 50_000 {
		t.Fatalf("request: %d bytes, %v", len(resp), err)
	}
	if d := time.Since(t0); d < 450*time.Millisecond || d > 900*time.Millisecond {
		t.Errorf("50 kB response at 100 kB/s took %v", d)
	}
}

// TestReopenKeepsLinks: a closed node reopened under its id gets a fresh
// node with the old links, which come up when it starts.
func TestReopenKeepsLinks(t *testing.T) {
	n := newNet(t, Config{Seed: 5})
	ns, ss := nodes(t, n, 2, 1024, 1024)
	mustLink(t, n, ns[0], ns[1], LinkParams{Latency: time.Millisecond})
	if _, err := n.Reopen(ns[1].Self()); err == nil {
		t.Fatal("reopened a running node")
	}
	if err := ns[1].Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "the link down", func() bool { return len(ns[0].Peers()) == 0 })
	again, err := n.Reopen(ns[1].Self())
	if err != nil {
		t.Fatal(err)
	}
	if again.Self() != ns[1].Self() || n.Node(again.Self()) != again {
		t.Fatal("reopened node is not in the net under the old id")
	}
	got := newSink()
	if err := again.HandleGossip("blocks", got.handle); err != nil {
		t.Fatal(err)
	}
	if err := again.HandleRequest("echo/1", 1024, 1024, echo); err != nil {
		t.Fatal(err)
	}
	if err := again.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "the link up again", func() bool { return len(ns[0].Peers()) == 1 && len(again.Peers()) == 1 })
	// A message the old node saw is new to the fresh one.
	if err := ns[0].Publish("blocks", []byte("after")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "gossip to the reopened node", func() bool { _, ok := got.arrival("after"); return ok })
	if _, ok := ss[1].arrival("after"); ok {
		t.Fatal("the closed node's handler was called")
	}
	if _, err := ns[0].Request(context.Background(), again.Self(), "echo/1", []byte("hi")); err != nil {
		t.Fatalf("request to the reopened node: %v", err)
	}
	if _, err := n.Reopen("nobody"); err == nil || errors.Is(err, p2p.ErrClosed) {
		t.Fatalf("reopen of an unknown node: %v", err)
	}
}

// TestReopenWhileRequesting: requests and gossip over a link run while its
// far node is closed and reopened again and again (a lab's crash and
// start). Under -race this caught the link's ends read outside the lock.
func TestReopenWhileRequesting(t *testing.T) {
	n := newNet(t, Config{Seed: 6})
	ns, _ := nodes(t, n, 2, 1024, 1024)
	mustLink(t, n, ns[0], ns[1], LinkParams{Bandwidth: 1 << 20})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, _ = ns[0].Request(ctx, ns[1].Self(), "echo/1", []byte("hi"))
			cancel()
			_ = ns[0].Publish("blocks", []byte(time.Now().String()))
		}
	}()
	cur := ns[1]
	for range 50 {
		if err := cur.Close(); err != nil {
			t.Fatal(err)
		}
		next, err := n.Reopen(cur.Self())
		if err != nil {
			t.Fatal(err)
		}
		if err := next.HandleRequest("echo/1", 1024, 1024, echo); err != nil {
			t.Fatal(err)
		}
		if err := next.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		cur = next
		time.Sleep(time.Millisecond)
	}
	close(stop)
	<-done
	if _, err := ns[0].Request(context.Background(), cur.Self(), "echo/1", []byte("hi")); err != nil {
		t.Fatalf("request after the last reopen: %v", err)
	}
}

// TestShaperCutAndUncut: a node's Cut takes its link down on both ends and
// refuses Connect until Uncut; ShapeLink shapes the link like Net.Shape.
func TestShaperCutAndUncut(t *testing.T) {
	n := newNet(t, Config{Seed: 5})
	ns, _ := nodes(t, n, 2, 1024, 1024)
	mustLink(t, n, ns[0], ns[1], LinkParams{})
	var sh p2p.Shaper = ns[0]
	if err := sh.ShapeLink(ns[1].Self(), p2p.LinkShape{Latency: 30 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if p, _ := n.LinkParams(ns[0].Self(), ns[1].Self()); p.Latency != 30*time.Millisecond {
		t.Fatalf("ShapeLink did not shape the link: %+v", p)
	}
	if err := sh.ShapeLink(ns[1].Self(), p2p.LinkShape{Jitter: -1}); !errors.Is(err, p2p.ErrBadShape) {
		t.Fatalf("negative jitter: %v", err)
	}
	if err := sh.Cut(ns[1].Self()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "the cut on both ends", func() bool { return len(ns[0].Peers()) == 0 && len(ns[1].Peers()) == 0 })
	if _, err := ns[1].Connect(context.Background(), ns[0].Addr()); !errors.Is(err, p2p.ErrCut) {
		t.Fatalf("the cut peer's redial: %v, want ErrCut", err)
	}
	if err := sh.Cut("nobody"); err == nil {
		t.Fatal("cut an unknown node")
	}
	if err := sh.Uncut(ns[1].Self()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "the link back up", func() bool { return len(ns[0].Peers()) == 1 && len(ns[1].Peers()) == 1 })
}

// TestUnlinkAndRelink: a removed link leaves both ends' peer lists and
// carries no gossip; linking again brings both back.
func TestUnlinkAndRelink(t *testing.T) {
	n := newNet(t, Config{Seed: 6})
	ns, ss := nodes(t, n, 3, 1024, 1024)
	p := LinkParams{Latency: time.Millisecond}
	mustLink(t, n, ns[0], ns[1], p)
	mustLink(t, n, ns[0], ns[2], p)
	n.Unlink(ns[1].Self(), ns[0].Self()) // either order names the link
	if got := ns[0].Peers(); len(got) != 1 || got[0].ID != ns[2].Self() {
		t.Fatalf("a's peers after the unlink: %v", got)
	}
	if len(ns[1].Peers()) != 0 {
		t.Fatalf("b's peers after the unlink: %v", ns[1].Peers())
	}
	if err := ns[0].Publish("blocks", []byte("one")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "gossip to c", func() bool { _, ok := ss[2].arrival("one"); return ok })
	time.Sleep(20 * time.Millisecond)
	if _, ok := ss[1].arrival("one"); ok {
		t.Fatal("gossip crossed a removed link")
	}
	mustLink(t, n, ns[1], ns[0], p)
	waitFor(t, time.Second, "the link back", func() bool { return len(ns[0].Peers()) == 2 && len(ns[1].Peers()) == 1 })
	if err := ns[0].Publish("blocks", []byte("two")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "gossip to b again", func() bool { _, ok := ss[1].arrival("two"); return ok })
}
