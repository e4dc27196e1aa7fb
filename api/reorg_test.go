package api

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/node"
)

// TestStatusDuringLongReorg (issue 8, finding 1): GET /api/v1/status
// answers while the node, on its Pebble store, reorganises 5,000 blocks
// (10,000 with CHAIND_LONG=1) in one ProcessBlock call: the p99 of the
// probe that overlaps the reorg stays under the starvation tests' bound of
// the same probe with no reorg, and no request waits for more than half
// of the reorg (a lock held throughout would make one wait for all of
// it).
func TestStatusDuringLongReorg(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and stores two branches of thousands of blocks")
	}
	depth := 5000
	if os.Getenv("CHAIND_LONG") == "1" {
		depth = 10_000
	}
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 1_000_000_000)
	base := chaintest.NewBranch(p, keys)
	a, b := base.Fork("a"), base.Fork("b")
	for range depth {
		a.Next(nil, chaintest.Spec{})
		b.Next(nil, chaintest.Spec{})
	}
	b.Next(nil, chaintest.Spec{}) // one more: b wins

	e := startEnv(t, node.Config{Params: p, DataDir: t.TempDir(), Threads: 1}, Config{})
	for i, blk := range a.Blocks[1:] {
		if _, err := e.n.Chain.ProcessBlockQueued(blk, blockchain.Requested, depth-1-i); err != nil {
			t.Fatal(err)
		}
	}
	side := b.Blocks[1 : len(b.Blocks)-1] // equal work: stored, no reorg
	for i, blk := range side {
		if _, err := e.n.Chain.ProcessBlockQueued(blk, blockchain.Requested, len(side)-1-i); err != nil {
			t.Fatal(err)
		}
	}
	if e.n.Chain.Tip().Hash != a.Tip().Hash() {
		t.Fatal("branch a is not the tip before the reorg")
	}
	baseline := probeBaseline(t, e.base)

	type outcome struct {
		took time.Duration
		err  error
	}
	done := make(chan outcome, 1)
	go func() {
		start := time.Now()
		res, err := e.n.Chain.ProcessBlock(b.Tip(), blockchain.Requested)
		if err == nil && !res.Reorg {
			err = errors.New("the last block of b did not reorganise")
		}
		done <- outcome{time.Since(start), err}
	}()
	r := probeWhile(t, e.base, func() bool { return len(done) == 0 })
	o := <-done
	if o.err != nil {
		t.Fatalf("reorg: %v", o.err)
	}
	if e.n.Chain.Tip().Hash != b.Tip().Hash() {
		t.Fatal("branch b is not the tip after the reorg")
	}
	t.Logf("reorg of %d blocks on Pebble took %v", depth, o.took.Round(time.Millisecond))
	checkProbe(t, "a long reorg", baseline, r)
	if r.max > max(300*time.Millisecond, o.took/2) {
		t.Errorf("a status request waited %v during a %v reorg", r.max, o.took)
	}
}
