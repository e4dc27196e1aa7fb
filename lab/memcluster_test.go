package lab

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

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
	if err := c.Shape(Pair{"a", "b"}, Shape{Bandwidth: 1e6}); !errors.Is(err, ErrUnsupported) {
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
