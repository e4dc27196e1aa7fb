package blockchain_test

import (
	"math/rand"
	"testing"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/chaintest"
)

// TestAcceptedFlags: BlockAccepted carries the flags each block reached
// ProcessBlock with, an orphan's own flags when its parent lets it in.
func TestAcceptedFlags(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 10_000_000)
	br := chaintest.NewBranch(p, keys)
	br.Extend(rand.New(rand.NewSource(4)), 4, 1)
	bc := newChain(t, p)
	got := map[chain.Hash]blockchain.Flags{}
	bc.Subscribe(func(n blockchain.Notification) {
		if n.Type == blockchain.BlockAccepted {
			got[n.Hash] = n.Flags
		}
	})
	for _, c := range []struct {
		b     *chain.Block
		flags blockchain.Flags
	}{
		{br.Blocks[1], blockchain.Requested},
		{br.Blocks[2], blockchain.Unrequested},
		{br.Blocks[4], blockchain.Unrequested}, // an orphan until block 3
		{br.Blocks[3], blockchain.Requested},
	} {
		if _, err := bc.ProcessBlock(c.b, c.flags); err != nil {
			t.Fatalf("block %d: %v", c.b.Header.Height, err)
		}
	}
	requireTip(t, bc, br.Tip())
	for h, want := range map[int]blockchain.Flags{1: blockchain.Requested, 2: blockchain.Unrequested, 3: blockchain.Requested, 4: blockchain.Unrequested} {
		if f, ok := got[br.Blocks[h].Hash()]; !ok || f != want {
			t.Fatalf("block %d accepted with flags %v (seen %v), want %v", h, f, ok, want)
		}
	}
}
