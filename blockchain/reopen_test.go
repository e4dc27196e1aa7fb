package blockchain_test

import (
	"math/rand"
	"testing"

	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/store"
)

// TestReopenFinishesStoredReorg opens a store whose heavier branch is
// stored but not connected (a crash between the steps of a reorg): New
// settles on it, disconnecting and connecting with the chain's lock held
// as a reorganisation expects (it lets readers in between steps).
func TestReopenFinishesStoredReorg(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 10_000_000)
	rng := rand.New(rand.NewSource(9))
	base := chaintest.NewBranch(p, keys)
	base.Extend(rng, 2, 1)
	a, b := base.Fork("a"), base.Fork("b")
	a.Extend(rng, 2, 1) // heights 3, 4: the stored main chain
	b.Extend(rng, 3, 1) // heights 3..5: heavier, stored only
	st := store.NewMemory()
	bc := newChainOn(t, p, st)
	mustProcess(t, bc, a.Blocks[1:]...)
	for _, blk := range b.Blocks[3:] {
		if err := st.PutBlock(blk.Hash(), blk); err != nil {
			t.Fatal(err)
		}
	}
	reopened := newChainOn(t, p, st)
	requireTip(t, reopened, b.Tip())
}
