package testnet_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/testnet"
	"github.com/chaind/chaind/internal/testnet/wait"
)

// TestPartitionHealConverges: four nodes split 2|2, both halves mine (one
// more), and after Heal all four follow the heavier half.
func TestPartitionHealConverges(t *testing.T) {
	c := testnet.New(t, testnet.Config{Nodes: 4})
	c.ConnectAll()
	c.N(0).Mine("")
	c.WaitForConvergence(5 * time.Second)

	c.Partition([]int{0, 1}, []int{2, 3})
	c.N(0).Mine("")
	c.WaitForTip(5*time.Second, c.N(0).Tip().Hash, 1)
	c.N(1).Mine("")
	c.N(2).Mine("")
	if !wait.Until(5*time.Second, func() bool {
		return testnet.SameTip(c.N(0), c.N(1)) && testnet.SameTip(c.N(2), c.N(3)) && !testnet.SameTip(c.Nodes()...)
	}) {
		t.Fatalf("halves not apart: %s", testnet.TipSummary(c.Nodes()...))
	}
	heavy := c.N(0).Tip()
	if heavy.Height != 3 || c.N(2).Tip().Height != 2 {
		t.Fatalf("halves at %s", testnet.TipSummary(c.Nodes()...))
	}
	c.Heal()
	if tip := c.WaitForConvergence(5 * time.Second); tip.Hash != heavy.Hash {
		t.Fatalf("converged on %d, not the heavier half's %d", tip.Height, heavy.Height)
	}
}

// TestShapeSlowsALink: a 300 ms link delays a block by at least that.
func TestShapeSlowsALink(t *testing.T) {
	c := testnet.New(t, testnet.Config{Nodes: 2})
	c.Connect(0, 1)
	c.Shape(0, 1, 300*time.Millisecond, 0, 0)
	b := c.N(0).Mine("")
	start := time.Now()
	c.WaitForTip(5*time.Second, b.Hash(), 1)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("block crossed a 300 ms link in %v", d)
	}
}

// TestTipSummary names the nodes on each tip.
func TestTipSummary(t *testing.T) {
	c := testnet.New(t, testnet.Config{Nodes: 3})
	c.N(2).Mine("")
	s := testnet.TipSummary(c.Nodes()...)
	if !strings.Contains(s, "2 at 0") || !strings.Contains(s, "1 at 1") || !strings.Contains(s, string(c.N(2).ID)) {
		t.Fatalf("summary %q", s)
	}
	if testnet.SameTip(c.Nodes()...) || !testnet.SameTip(c.N(0), c.N(1)) {
		t.Fatal("SameTip")
	}
}
