package blockchain_test

import (
	"math/rand"
	"testing"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/chaintest"
)

// TestTreeAndTips builds a main chain, a stale branch that was once the
// main chain, a side branch never connected and an invalid branch, and
// checks the tree window and the tips' statuses.
func TestTreeAndTips(t *testing.T) {
	keys := chaintest.Keys(3)
	p := chaintest.Params(keys, 10_000_000)
	rng := rand.New(rand.NewSource(3))
	base := chaintest.NewBranch(p, keys)
	base.Extend(rng, 3, 1)
	stale, main, side := base.Fork("stale"), base.Fork("main"), base.Fork("side")
	stale.Extend(rng, 2, 1) // heights 4, 5: connected, then reorged away
	main.Extend(rng, 4, 1)  // heights 4..7
	side.Extend(rng, 1, 1)  // height 4: never connected

	bc := newChain(t, p)
	mustProcess(t, bc, base.Blocks[1:]...)
	mustProcess(t, bc, stale.Blocks[4:]...)
	mustProcess(t, bc, main.Blocks[4:]...)
	mustProcess(t, bc, side.Blocks[4:]...)
	requireTip(t, bc, main.Tip())

	// An invalid branch forking at 6: its first block spends a nonce the
	// sender has not reached; the second makes it heavier so it is tried.
	bad := chaintest.Block(chaintest.Spec{Parent: &main.Blocks[6].Header, Miner: keys[0].Address(), Memo: "bad",
		Reward: p.Reward(7), Txs: []*chain.Tx{chaintest.Tx(p, keys[1], keys[2].Address(), 1, 0, 999)}})
	bad2 := chaintest.Block(chaintest.Spec{Parent: &bad.Header, Miner: keys[0].Address(), Reward: p.Reward(8)})
	mustProcess(t, bc, bad)
	if _, err := bc.ProcessBlock(bad2, blockchain.Requested); err == nil {
		t.Fatal("a branch with an invalid block was accepted")
	}
	requireTip(t, bc, main.Tip())

	blocks, more := bc.Tree(4, 8, 0)
	if more {
		t.Fatal("window reported as truncated")
	}
	byHash := map[chain.Hash]blockchain.TreeBlock{}
	for i, b := range blocks {
		byHash[b.Hash] = b
		if i > 0 && blocks[i-1].Height > b.Height {
			t.Fatalf("tree not ordered by height: %d after %d", b.Height, blocks[i-1].Height)
		}
	}
	// 4 main (4..7), 2 stale, 1 side, 2 invalid.
	if len(blocks) != 9 {
		t.Fatalf("window has %d blocks, want 9", len(blocks))
	}
	for _, c := range []struct {
		b                        *chain.Block
		main, invalid, connected bool
	}{
		{main.Blocks[5], true, false, true},
		{stale.Blocks[5], false, false, true},
		{side.Blocks[4], false, false, false},
		{bad, false, true, false},
		{bad2, false, true, false},
	} {
		got, ok := byHash[c.b.Hash()]
		if !ok {
			t.Fatalf("block %d %s missing from the window", c.b.Header.Height, c.b.Hash())
		}
		if got.MainChain != c.main || got.Invalid != c.invalid || got.Connected != c.connected || got.Parent != c.b.Header.PrevHash {
			t.Fatalf("block %d: got %+v, want main=%v invalid=%v connected=%v", c.b.Header.Height, got, c.main, c.invalid, c.connected)
		}
	}
	if blocks, more := bc.Tree(0, 100, 3); len(blocks) != 3 || !more {
		t.Fatalf("limit 3: %d blocks, more=%v", len(blocks), more)
	}
	if blocks, _ := bc.Tree(50, 60, 0); len(blocks) != 0 {
		t.Fatalf("window above the tree has %d blocks", len(blocks))
	}

	tips, more := bc.Tips(0)
	if more || len(tips) != 4 {
		t.Fatalf("tips %+v (more %v), want 4", tips, more)
	}
	want := []blockchain.BranchTip{
		{Hash: main.Tip().Hash(), Height: 7, BranchLen: 0, ForkHeight: 7, Status: blockchain.TipActive},
		{Hash: bad2.Hash(), Height: 8, BranchLen: 2, ForkHeight: 6, Status: blockchain.TipInvalid},
		{Hash: stale.Tip().Hash(), Height: 5, BranchLen: 2, ForkHeight: 3, Status: blockchain.TipValidFork},
		{Hash: side.Tip().Hash(), Height: 4, BranchLen: 1, ForkHeight: 3, Status: blockchain.TipValidHeaders},
	}
	for i := range want {
		if tips[i] != want[i] {
			t.Fatalf("tip %d: got %+v, want %+v", i, tips[i], want[i])
		}
	}
	if tips, more := bc.Tips(2); len(tips) != 2 || !more {
		t.Fatalf("max 2: %d tips, more=%v", len(tips), more)
	}
}
