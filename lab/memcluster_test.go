package lab

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/wallet"
)

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sameTip reports whether every running node has the same tip, at least min high.
func sameTip(c Cluster, min uint32) bool {
	var tip string
	for _, s := range c.Status() {
		if !s.Running {
			continue
		}
		if s.Height < min || (tip != "" && s.Tip != tip) {
			return false
		}
		tip = s.Tip
	}
	return tip != ""
}

func tips(c Cluster) string {
	var b strings.Builder
	for _, s := range c.Status() {
		fmt.Fprintf(&b, "%s:%d:%.8s ", s.Name, s.Height, s.Tip)
	}
	return b.String()
}

func simNetwork(t *testing.T, yaml string) *MemCluster {
	t.Helper()
	n, err := ParseNetwork([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewMemCluster(MemConfig{Network: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

const lineSim = `
name: line
transport: memnet
simulated_mining: true
block_time: 1s
compression: 10
topology: line
link: {latency: 20ms}
nodes:
  - {name: a, share: 50}
  - {name: b, mining: false}
  - {name: c, share: 50}
`

func TestMemClusterControls(t *testing.T) {
	c := simNetwork(t, lineSim)
	waitFor(t, 10*time.Second, "three blocks everywhere", func() bool { return sameTip(c, 3) })

	// Controls on unknown or stopped nodes.
	if err := c.Stop("z"); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("stop z: %v", err)
	}
	if err := c.Stop("b"); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop("b"); !errors.Is(err, ErrStopped) {
		t.Errorf("stop b twice: %v", err)
	}
	if _, err := c.Mine(context.Background(), "b", 1); !errors.Is(err, ErrStopped) {
		t.Errorf("mine on stopped b: %v", err)
	}
	if err := c.SetShare("b", 0.5); !errors.Is(err, ErrStopped) {
		t.Errorf("hashrate on stopped b: %v", err)
	}
	if err := c.Start("a"); !errors.Is(err, ErrRunning) {
		t.Errorf("start running a: %v", err)
	}
	// With b down, a and c cannot hear each other; b catches up on start.
	time.Sleep(300 * time.Millisecond)
	if err := c.Start("b"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "convergence after b restarts", func() bool { return sameTip(c, 5) })

	// A transaction from a reaches a block.
	id, err := c.Send("a", "c", 1000)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the transaction mined at c", func() bool { ok, _ := c.Mined("c", id); return ok })

	// A crash and a late joiner.
	if err := c.Crash("c"); err != nil {
		t.Fatal(err)
	}
	if err := c.Start("c"); err != nil {
		t.Fatal(err)
	}
	if err := c.Add("d", []string{"c"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Add("d", []string{"c"}); !errors.Is(err, ErrExists) {
		t.Errorf("add d twice: %v", err)
	}
	links := len(c.Network().Links)
	if err := c.Add("e", []string{"c", "nobody"}); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("add with an unknown peer: %v", err)
	}
	if n := len(c.Network().Links); n != links {
		t.Errorf("a refused add left links behind: %d, was %d", n, links)
	}
	h := c.Status()[0].Height
	waitFor(t, 10*time.Second, "d joins the chain "+tips(c), func() bool { return sameTip(c, h+2) })
	if err := c.Shape(Pair{"a", "b"}, Shape{Latency: Duration(20 * time.Millisecond), Bandwidth: 1e6}); err != nil {
		t.Errorf("bandwidth on memnet: %v", err)
	}
	r := c.Observatory().Report()
	if r.Found < 5 || r.To100.Count == 0 {
		t.Errorf("report: %+v", r)
	}
}

// TestLargeNetworkTunables checks what a large network changes: a longer
// status interval past statusNodes nodes and a genesis that funds only
// the first FundedNodes nodes.
func TestLargeNetworkTunables(t *testing.T) {
	if got := statusInterval(statusNodes); got != memStatusInterval {
		t.Errorf("status interval at %d nodes: %v", statusNodes, got)
	}
	if got := statusInterval(1000); got != 10*memStatusInterval {
		t.Errorf("status interval at 1,000 nodes: %v", got)
	}
	var keys []*wallet.Key
	for i := range FundedNodes + 50 {
		keys = append(keys, nodeKey("big", fmt.Sprintf("n%d", i)))
	}
	p := labParams(&Network{Name: "big", Simulated: true, BlockTime: time.Second}, keys)
	if len(p.Allocations) != FundedNodes || p.Allocations[0].Address != keys[0].Address() ||
		p.Allocations[FundedNodes-1].Address != keys[FundedNodes-1].Address() {
		t.Fatalf("%d allocations", len(p.Allocations))
	}
	if p := labParams(&Network{Name: "small"}, keys[:3]); len(p.Allocations) != 3 {
		t.Fatalf("a 3-node network funds %d keys", len(p.Allocations))
	}
}

// bandwidthNet is a star around a: a-b unshaped, a-c at 128 kbit/s, on a
// clock compressed twofold (so the link carries 256 kbit of real time a
// second). Nobody mines on its own: the test mines.
const bandwidthNet = `
name: bw
transport: memnet
simulated_mining: true
compression: 2
nodes:
  - {name: a, mining: false}
  - {name: b, mining: false}
  - {name: c, mining: false}
links:
  - {link: a-b, latency: 10ms}
  - {link: a-c, latency: 10ms, bandwidth: 128kbit}
`

// TestMemClusterBandwidth: a 100-transaction block crosses a link shaped
// to a low bandwidth later, by about its size over the bandwidth (times
// the time compression), than an unshaped one, by the observatory's
// arrival times; the shape control moves the limit to another link; bad
// bandwidths are refused and change nothing.
func TestMemClusterBandwidth(t *testing.T) {
	c := simNetwork(t, bandwidthNet)
	ctx := context.Background()
	// Linked, statuses exchanged, and so the once-a-connection mempool
	// exchanges over while the pools are empty (later, a's 100-transaction
	// answer would queue ahead of a block on the slow link).
	waitFor(t, 10*time.Second, "the nodes linked and their statuses exchanged", func() bool {
		for _, name := range []string{"a", "b", "c"} {
			_, r, err := c.running(name)
			if err != nil {
				return false
			}
			ps := r.(*memRun).sy.Peers()
			want := 1
			if name == "a" {
				want = 2
			}
			if len(ps) != want {
				return false
			}
			for _, p := range ps {
				if p.LastStatus.IsZero() {
					return false
				}
			}
		}
		return true
	})
	time.Sleep(300 * time.Millisecond)
	const bw, compression = 128e3, 2.0

	// block mines a block of 100 transactions at a once every node has
	// them (so the links are idle), and returns its size and how much
	// later it reached slow than fast.
	block := func(slow, fast string) (int, time.Duration) {
		t.Helper()
		h := c.Status()[0].Height
		for i := range 100 {
			from, to := "a", "b"
			if i%2 == 1 {
				from, to = "b", "c" // at most 64 a sender in the others' pools
			}
			if _, err := c.Send(from, to, 1); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, 10*time.Second, "100 transactions in every pool", func() bool {
			for _, s := range c.Status() {
				if s.MempoolTxs != 100 {
					return false
				}
			}
			return true
		})
		time.Sleep(100 * time.Millisecond) // status rounds and the last transactions off the links
		hs, err := c.Mine(ctx, "a", 1)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := chain.ParseHash(hs[0])
		_, r, err := c.running("a")
		if err != nil {
			t.Fatal(err)
		}
		b, err := r.chain().Block(id)
		if err != nil || len(b.Txs) != 101 {
			t.Fatalf("mined block: %v, %d transactions", err, len(b.Txs))
		}
		waitFor(t, 10*time.Second, "the block everywhere", func() bool { return sameTip(c, h+1) })
		var ds, df time.Duration
		waitFor(t, 5*time.Second, "the block's arrivals in the observatory", func() bool {
			var okS, okF bool
			ds, okS = c.Observatory().Arrival(hs[0], slow)
			df, okF = c.Observatory().Arrival(hs[0], fast)
			return okS && okF
		})
		t.Logf("%d-byte block: %s after %v, %s after %v", b.Size(), fast, df, slow, ds)
		return b.Size(), ds - df
	}
	check := func(size int, extra time.Duration) {
		t.Helper()
		want := time.Duration(float64(size) * 8 / (bw * compression) * float64(time.Second))
		// Uncompressed, the block would take twice want; unshaped, nothing.
		if extra < want*8/10 || extra > want*13/10+100*time.Millisecond {
			t.Errorf("the shaped link delayed the block by %v, want about %v (%d bytes at %g bit/s, compression %g)",
				extra, want, size, bw, compression)
		}
	}
	check(block("c", "b"))

	// The control moves the limit from a-c to a-b.
	fast := Shape{Latency: Duration(10 * time.Millisecond)}
	slow := Shape{Latency: Duration(10 * time.Millisecond), Bandwidth: bw}
	if err := c.Shape(Pair{"a", "b"}, slow); err != nil {
		t.Fatal(err)
	}
	if err := c.Shape(Pair{"a", "c"}, fast); err != nil {
		t.Fatal(err)
	}
	check(block("b", "c"))

	// Bad bandwidths: refused, nothing changed.
	before := c.Network().Links
	for _, bad := range []Bandwidth{-1, 10, Bandwidth(math.NaN()), Bandwidth(math.Inf(1)), 2e12} {
		err := c.Shape(Pair{"a", "c"}, Shape{Latency: Duration(time.Millisecond), Bandwidth: bad})
		if !errors.Is(err, ErrBadRequest) || !errors.Is(err, ErrBadShape) || !strings.Contains(err.Error(), "bandwidth") {
			t.Errorf("bandwidth %v: %v", float64(bad), err)
		}
	}
	if after := c.Network().Links; !reflect.DeepEqual(after, before) {
		t.Errorf("refused shapes changed the links: %+v, was %+v", after, before)
	}
	if _, err := ParseShape([]string{"--bandwidth", "fast"}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("--bandwidth fast: %v", err)
	}
	n, err := ParseNetwork([]byte(bandwidthNet))
	if err != nil {
		t.Fatal(err)
	}
	n.Links[1].Shape.Bandwidth = -5
	if _, err := NewMemCluster(MemConfig{Network: n}); !errors.Is(err, ErrBadNetwork) || !errors.Is(err, ErrBadShape) {
		t.Errorf("a network with a negative bandwidth: %v", err)
	}
}
