package node_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/testnet"
	"github.com/chaind/chaind/internal/testnet/wait"
)

// TestStartMineSend: a node on memnet mines, sends from its key, and the
// next block carries the transfer.
func TestStartMineSend(t *testing.T) {
	c := testnet.New(t, testnet.Config{Nodes: 2})
	a, b := c.N(0), c.N(1)
	if h := a.Tip().Height; h != 0 {
		t.Fatalf("fresh node at height %d", h)
	}
	b1 := a.Mine("first")
	if a.Tip().Hash != b1.Hash() || b1.Header.Height != 1 {
		t.Fatalf("tip %d after mining block 1", a.Tip().Height)
	}
	before := a.Node().Chain.Account(b.Address()).Balance
	tx := a.Send(b.Address(), 12_345, 10)
	if !a.HasTx(tx.ID()) {
		t.Fatal("sent transaction not in the pool")
	}
	blk := a.Mine("with the transfer")
	if len(blk.Txs) != 2 || blk.Txs[1].ID() != tx.ID() {
		t.Fatalf("block has %d txs, want the coinbase and the transfer", len(blk.Txs))
	}
	if got := a.Node().Chain.Account(b.Address()).Balance; got != before+12_345 {
		t.Fatalf("recipient balance %d, want %d", got, before+12_345)
	}
	if a.Node().Pool.Len() != 0 {
		t.Fatal("the mined transaction is still pending")
	}
}

// TestTwoNodesConverge: two nodes over memnet follow each other's blocks
// and transactions both ways.
func TestTwoNodesConverge(t *testing.T) {
	c := testnet.New(t, testnet.Config{Nodes: 2})
	c.Connect(0, 1)
	c.WaitFor(5*time.Second, "the nodes see each other", func() bool {
		return c.N(0).Node().PeerCount() == 1 && c.N(1).Node().PeerCount() == 1
	})
	for i := 0; i < 3; i++ {
		c.N(0).Mine("")
	}
	c.WaitForTip(5*time.Second, c.N(0).Tip().Hash)
	tx := c.N(1).Send(c.N(0).Address(), 500, 5)
	c.WaitFor(5*time.Second, "the transaction at node 0", func() bool { return c.N(0).HasTx(tx.ID()) })
	blk := c.N(1).Mine("")
	if len(blk.Txs) != 2 {
		t.Fatalf("block has %d txs", len(blk.Txs))
	}
	tip := c.WaitForConvergence(5 * time.Second)
	if tip.Hash != blk.Hash() || tip.Height != 4 {
		t.Fatalf("converged on %d %s, want node 1's block 4", tip.Height, tip.Hash)
	}
	c.WaitFor(5*time.Second, "both pools empty", func() bool {
		return c.N(0).Node().Pool.Len() == 0 && c.N(1).Node().Pool.Len() == 0
	})
}

// TestRestartOnSameStore: a stopped node comes back on its store with its
// chain, and catches up with what was mined meanwhile; likewise after a
// crash; likewise on Pebble.
func TestRestartOnSameStore(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pebble bool
		crash  bool
	}{{"memory/stop", false, false}, {"memory/crash", false, true}, {"pebble/stop", true, false}, {"pebble/crash", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			c := testnet.New(t, testnet.Config{Nodes: 2, Pebble: tc.pebble})
			c.Connect(0, 1)
			for i := 0; i < 3; i++ {
				c.N(0).Mine("")
			}
			before := c.WaitForConvergence(5 * time.Second)
			if tc.crash {
				c.Crash(1)
			} else {
				c.Stop(1)
			}
			if c.N(1).Running() {
				t.Fatal("stopped node still running")
			}
			for i := 0; i < 4; i++ {
				c.N(0).Mine("")
			}
			// Unlinked while it starts, so the chain it has is its store's.
			c.Disconnect(0, 1)
			c.Start(1)
			if got := c.N(1).Tip(); got.Hash != before.Hash {
				t.Fatalf("restarted at %d, stopped at %d", got.Height, before.Height)
			}
			c.Connect(0, 1)
			tip := c.WaitForConvergence(5 * time.Second)
			if tip.Height != before.Height+4 {
				t.Fatalf("height %d after catching up, want %d", tip.Height, before.Height+4)
			}
			// The restarted node mines and is followed.
			blk := c.N(1).Mine("")
			c.WaitForTip(5*time.Second, blk.Hash())
		})
	}
}

// TestStopIsClean: stopping every node and the network leaves no
// goroutine behind.
func TestStopIsClean(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("cluster", func(t *testing.T) {
		c := testnet.New(t, testnet.Config{Nodes: 3, Mine: true})
		c.Line()
		c.WaitForHeight(10*time.Second, 2)
		c.Stop(2)
		c.Crash(1)
		c.Start(1)
		c.WaitForHeight(10*time.Second, c.N(0).Tip().Height+1, 1)
	})
	// Cleanup has stopped the cluster; give exited goroutines a moment to
	// be reaped.
	if !wait.Until(5*time.Second, func() bool { return runtime.NumGoroutine() <= before }) {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("%d goroutines before, %d after stopping:\n%s", before, runtime.NumGoroutine(), buf[:n])
	}
}

// TestAddPeerIsKept: a peer added by address is kept by the network: the
// link returns after the peer restarts.
func TestAddPeerIsKept(t *testing.T) {
	c := testnet.New(t, testnet.Config{Nodes: 2})
	ctx := context.Background()
	id, err := c.N(0).Node().AddPeer(ctx, "memnet/"+string(c.N(1).ID))
	if err != nil || id != c.N(1).ID {
		t.Fatalf("AddPeer = %s, %v", id, err)
	}
	c.WaitFor(5*time.Second, "connected", func() bool { return c.N(1).Node().PeerCount() == 1 })
	c.Stop(1)
	c.WaitFor(5*time.Second, "the peer gone", func() bool { return c.N(0).Node().PeerCount() == 0 })
	c.Start(1)
	c.WaitFor(5*time.Second, "the kept peer back", func() bool { return c.N(0).Node().PeerCount() == 1 })
	if _, err := c.N(0).Node().AddPeer(ctx, "memnet/nobody"); err == nil {
		t.Fatal("added a peer that does not exist")
	}
}
