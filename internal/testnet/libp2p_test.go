package testnet_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/testnet"
	"github.com/chaind/chaind/internal/testnet/wait"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/memnet"
)

// TestLibp2pCluster runs the cluster's controls on libp2p over loopback:
// Connect, Disconnect, Crash and Start (same identity, links dialled
// again), Stop, WaitForTip and WaitForConvergence.
func TestLibp2pCluster(t *testing.T) {
	c := testnet.New(t, testnet.Config{Nodes: 3, Transport: testnet.Libp2p})
	if c.Net != nil || c.Transport() != testnet.Libp2p {
		t.Fatal("a libp2p cluster with a memnet network")
	}
	c.Connect(0, 1)
	c.Connect(1, 2)
	b := c.N(0).Mine("")
	c.WaitForTip(10*time.Second, b.Hash())
	tx := c.N(0).Send(c.N(2).Address(), 1000, 5)
	c.WaitFor(10*time.Second, "the tx at node 2", func() bool { return c.N(2).HasTx(tx.ID()) })

	// Node 0 alone: its next block reaches nobody.
	c.Disconnect(0, 1)
	c.WaitFor(10*time.Second, "node 0 without peers", func() bool { return c.N(0).Node().PeerCount() == 0 })
	lone := c.N(0).Mine("")
	if wait.Until(2*time.Second, func() bool { return c.N(1).Tip().Hash == lone.Hash() }) {
		t.Fatal("a block crossed a link Disconnect took down")
	}

	// Node 2 crashes and misses a block; started again, it keeps its
	// identity, is dialled along its link and catches up.
	id := c.N(2).ID
	c.Crash(2)
	if c.N(2).Running() || c.N(2).Host() != nil {
		t.Fatal("node 2 runs after Crash")
	}
	b2 := c.N(1).Mine("")
	c.Start(2)
	if c.N(2).ID != id || c.N(2).Node().Net.Self() != id {
		t.Fatalf("identity changed across the restart: %s, was %s", c.N(2).Node().Net.Self(), id)
	}
	c.WaitForTip(10*time.Second, b2.Hash(), 1, 2)

	// Linked again, node 0's heavier branch wins everywhere.
	c.N(0).Mine("")
	c.Connect(0, 1)
	tip := c.WaitForConvergence(10 * time.Second)
	if tip.Hash != c.N(0).Tip().Hash || tip.Height != 3 {
		t.Fatalf("converged on %d: %s", tip.Height, testnet.TipSummary(c.Nodes()...))
	}
	c.Stop(1)
	c.Start(1)
	c.WaitForTip(10*time.Second, tip.Hash, 1)
}

// recordTB records the first Fatalf and ends the goroutine, as testing.T
// does, so a test can check how the cluster fails.
type recordTB struct {
	testing.TB
	failed string
}

func (r *recordTB) Helper() {}

func (r *recordTB) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestLibp2pShapeAndPartition: on plain libp2p hosts (p2p.Shaper), a
// 300 ms link delays a block by at least that, a partition keeps two
// halves apart while each mines, and the heal converges on the heavier.
func TestLibp2pShapeAndPartition(t *testing.T) {
	c := testnet.New(t, testnet.Config{Nodes: 4, Transport: testnet.Libp2p})
	c.Connect(0, 1)
	c.Connect(1, 2)
	c.Connect(2, 3)
	c.Shape(0, 1, 300*time.Millisecond, 0, 0)
	b := c.N(0).Mine("")
	start := time.Now()
	c.WaitForTip(10*time.Second, b.Hash(), 1)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("block crossed a 300 ms link in %v", d)
	}
	c.Shape(0, 1, 0, 0, 0)
	c.WaitForTip(10*time.Second, b.Hash())

	c.Partition([]int{0, 1}, []int{2, 3})
	c.N(0).Mine("")
	heavy := c.N(0).Mine("")
	light := c.N(3).Mine("")
	c.WaitForTip(10*time.Second, heavy.Hash(), 0, 1)
	c.WaitForTip(10*time.Second, light.Hash(), 2, 3)
	if wait.Until(time.Second, func() bool { return c.N(2).Tip().Hash == heavy.Hash() }) {
		t.Fatalf("a block crossed the partition: %s", testnet.TipSummary(c.Nodes()...))
	}
	c.Heal()
	if tip := c.WaitForConvergence(10 * time.Second); tip.Hash != heavy.Hash() {
		t.Fatalf("converged on %d, not the heavier half's", tip.Height)
	}
}

// opaqueNet hides every optional interface of the network it wraps.
type opaqueNet struct{ p2p.Network }

// TestLibp2pRefusesWithoutShaper: when the nodes' networks can neither
// shape nor cut (a Config.Wrap hides it), Shape, ShapeLink and Partition
// fail the test saying so instead of running without them. Heal with
// nothing cut does nothing, as on memnet.
func TestLibp2pRefusesWithoutShaper(t *testing.T) {
	rec := &recordTB{TB: t}
	c := testnet.New(rec, testnet.Config{Nodes: 2, Transport: testnet.Libp2p,
		Wrap: func(_ int, n p2p.Network) p2p.Network { return opaqueNet{n} }})
	cases := map[string]func(){
		"Shape":     func() { c.Shape(0, 1, time.Second, 0, 0) },
		"ShapeLink": func() { c.ShapeLink(0, 1, memnet.LinkParams{Latency: time.Second}) },
		"Partition": func() { c.Partition([]int{0}, []int{1}) },
	}
	for name, f := range cases {
		rec.failed = ""
		done := make(chan struct{})
		go func() { defer close(done); f() }()
		<-done
		if !strings.Contains(rec.failed, testnet.ErrUnsupported.Error()) || !strings.Contains(rec.failed, name) {
			t.Errorf("%s on libp2p: failure %q, want %q", name, rec.failed, testnet.ErrUnsupported)
		}
	}
	rec.failed = ""
	c.Heal()
	if rec.failed != "" {
		t.Fatalf("Heal with nothing cut: %s", rec.failed)
	}
}
