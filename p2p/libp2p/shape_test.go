package libp2p

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chaind/chaind/p2p"
)

// medianRTT times n echo requests from a to b and returns the median.
func medianRTT(t *testing.T, a, b *Host, n int, req string) time.Duration {
	t.Helper()
	var rtts []time.Duration
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		t0 := time.Now()
		_, err := a.Request(ctx, b.Self(), "echo/1", []byte(req))
		cancel()
		if err != nil {
			t.Fatalf("echo: %v", err)
		}
		rtts = append(rtts, time.Since(t0))
	}
	slices.Sort(rtts)
	return rtts[len(rtts)/2]
}

// TestShapedLinkDelay: over real libp2p on loopback, a link shaped at both
// ends with 60 ms of latency adds 120 ms to a request's round trip (two
// crossings) against the unshaped baseline measured in the same test; one
// shaped direction adds 60 ms; bandwidth stretches a large response; and a
// zero shape restores the baseline.
func TestShapedLinkDelay(t *testing.T) {
	a := startHost(t, testConfig(testNet), nil)
	b := startHost(t, testConfig(testNet), echoServer(1<<10, 1<<20))
	connect(t, a, b)
	base := medianRTT(t, a, b, 9, "ping")

	const lat = 60 * time.Millisecond
	for _, x := range [][2]*Host{{a, b}, {b, a}} {
		if err := x[0].ShapeLink(x[1].Self(), p2p.LinkShape{Latency: lat}); err != nil {
			t.Fatal(err)
		}
	}
	shaped := medianRTT(t, a, b, 5, "ping")
	t.Logf("round trip: unshaped %v, shaped 2x%v %v", base, lat, shaped)
	added := shaped - base
	// Generous upper slack: two cores shared with other test runs.
	if added < 2*lat || added > 2*lat+150*time.Millisecond {
		t.Errorf("shaped round trip %v, baseline %v: added %v, want about %v", shaped, base, added, 2*lat)
	}

	// One direction shaped (A's): the round trip gains one crossing.
	if err := b.ShapeLink(a.Self(), p2p.LinkShape{}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.Request(ctx, b.Self(), "echo/1", []byte("one-way")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < lat || d > lat+base+150*time.Millisecond {
		t.Errorf("round trip with one shaped direction took %v, want about %v", d, lat+base)
	}

	// Bandwidth: 200 kB at 400 kB/s on B's side takes at least half a second.
	if err := b.ShapeLink(a.Self(), p2p.LinkShape{Bandwidth: 400_000}); err != nil {
		t.Fatal(err)
	}
	if err := a.ShapeLink(b.Self(), p2p.LinkShape{}); err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	resp, err := a.Request(ctx, b.Self(), "echo/1", []byte("size:"+strconv.Itoa(200_000)))
	if err != nil || len(resp) != 200_000 {
		t.Fatalf("large response: %d bytes, %v", len(resp), err)
	}
	if d := time.Since(t0); d < 500*time.Millisecond || d > 5*time.Second {
		t.Errorf("200 kB at 400 kB/s took %v, want about 500ms", d)
	}

	if err := b.ShapeLink(a.Self(), p2p.LinkShape{}); err != nil {
		t.Fatal(err)
	}
	if back := medianRTT(t, a, b, 9, "ping"); back > base+50*time.Millisecond {
		t.Errorf("unshaped again: round trip %v, baseline %v", back, base)
	}
	if err := a.ShapeLink(b.Self(), p2p.LinkShape{Loss: 1.5}); !errors.Is(err, p2p.ErrBadShape) {
		t.Errorf("loss 150%%: %v", err)
	}
	if err := a.ShapeLink("not-a-peer-id", p2p.LinkShape{}); err == nil {
		t.Error("shaped a link to a malformed peer id")
	}
}

// TestRetransmissionModel: loss becomes delay of whole retransmission
// timeouts, doubling per further loss; no loss, no delay.
func TestRetransmissionModel(t *testing.T) {
	c := &shapedConn{rng: rand.New(rand.NewPCG(1, 2))}
	s := p2p.LinkShape{Latency: 50 * time.Millisecond, Loss: 1}
	rto := minRTO + 2*s.Latency
	want := time.Duration(0)
	for i := range maxRetransmits {
		want += rto << i
	}
	if got := c.retransmission(100, s); got != want {
		t.Errorf("loss 100%%: delay %v, want %v", got, want)
	}
	s.Loss = 0
	if got := c.retransmission(1<<16, s); got != 0 {
		t.Errorf("loss 0: delay %v", got)
	}
	// 1% per segment: a 64 KiB write (46 segments) is hit about 37% of
	// the time, a 100-byte one about 1%.
	s.Loss = 0.01
	hit := func(n int) float64 {
		k := 0
		for range 10000 {
			if c.retransmission(n, s) > 0 {
				k++
			}
		}
		return float64(k) / 10000
	}
	if f := hit(1 << 16); f < 0.30 || f > 0.44 {
		t.Errorf("64 KiB writes delayed %.2f of the time, want about 0.37", f)
	}
	if f := hit(100); f > 0.03 {
		t.Errorf("100-byte writes delayed %.2f of the time, want about 0.01", f)
	}
}

// TestCutRefusesRedial: a cut closes the connection on both ends, the cut
// peer's redial is refused, the keeper does not redial it, and Uncut
// redials a kept peer at once.
func TestCutRefusesRedial(t *testing.T) {
	b := startHost(t, testConfig(testNet), nil)
	cfg := testConfig(testNet)
	cfg.RedialInterval = 300 * time.Millisecond
	a := startHost(t, cfg, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := a.KeepPeer(ctx, []string{tcpAddr(t, b)}); err != nil {
		t.Fatal(err)
	}
	if err := a.Cut(b.Self()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the cut on both ends", func() bool { return !hasPeer(a, b.Self()) && !hasPeer(b, a.Self()) })
	if _, err := b.Connect(ctx, tcpAddr(t, a)); err == nil {
		t.Fatal("the cut peer redialled and was accepted")
	}
	if _, err := a.Connect(ctx, tcpAddr(t, b)); !errors.Is(err, p2p.ErrCut) {
		t.Fatalf("dialling a cut peer: %v, want ErrCut", err)
	}
	time.Sleep(RedialMinBackoff + 500*time.Millisecond) // the keeper's turn comes and goes
	if hasPeer(a, b.Self()) || hasPeer(b, a.Self()) {
		t.Fatal("a cut kept peer was redialled")
	}
	if err := a.Cut(a.Self()); !errors.Is(err, p2p.ErrSelf) {
		t.Errorf("cutting oneself: %v", err)
	}
	t0 := time.Now()
	if err := a.Uncut(b.Self()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the kept peer redialled after Uncut", func() bool { return hasPeer(a, b.Self()) && hasPeer(b, a.Self()) })
	t.Logf("reconnected %v after Uncut", time.Since(t0))
}
