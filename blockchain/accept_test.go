package blockchain_test

import (
	"errors"
	"math/rand"
	"runtime"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/store"
)

// storedBlocks counts the blocks a store holds.
func storedBlocks(t *testing.T, st store.Store) int {
	t.Helper()
	n := 0
	if err := st.ForEachHeader(func(store.HeaderRecord) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUnrequestedLightBranchIsNotStored: as Bitcoin Core's AcceptBlock, an
// unrequested block whose branch has less work than the tip is checked and
// dropped, while the same block asked for is stored, and an unrequested
// block that ties or beats the tip is kept.
func TestUnrequestedLightBranchIsNotStored(t *testing.T) {
	keys := chaintest.Keys(3)
	p := chaintest.Params(keys, 1_000_000)
	st := store.NewMemory()
	bc := newChainOn(t, p, st)
	rng := rand.New(rand.NewSource(9))
	base := chaintest.NewBranch(p, keys)
	main, side := base.Fork("main"), base.Fork("side")
	mustProcess(t, bc, main.Extend(rng, 5, 1)...)
	side.Extend(rng, 5, 1)

	before := storedBlocks(t, st)
	b := side.Blocks[1] // lighter than the tip
	res, err := bc.ProcessBlock(b, blockchain.Unrequested)
	if err != nil || !res.LowWork || res.MainChain {
		t.Fatalf("side block %d: %+v %v, want LowWork and no error", b.Header.Height, res, err)
	}
	if bc.HaveBlock(b.Hash()) {
		t.Fatalf("side block %d is known after being dropped", b.Header.Height)
	}
	if got := storedBlocks(t, st); got != before {
		t.Fatalf("store grew from %d to %d blocks on an unrequested light branch", before, got)
	}
	// A flood of distinct light siblings: none is stored.
	for i := range 50 {
		b := chaintest.Block(chaintest.Spec{Parent: &base.Tip().Header, Miner: keys[1].Address(),
			Reward: p.Reward(1), Memo: string(rune('a' + i%26)), Data: string(rune('A' + i/26))})
		if res, err := bc.ProcessBlock(b, blockchain.Unrequested); err != nil || !res.LowWork {
			t.Fatalf("flood block %d: %+v %v", i, res, err)
		}
	}
	if got := storedBlocks(t, st); got != before {
		t.Fatalf("store grew from %d to %d blocks in a light-branch flood", before, got)
	}
	// Requested (a sync download), the same branch is stored block by block
	// and wins once heavier.
	for _, b := range side.Blocks[1:] {
		if res, err := bc.ProcessBlock(b, blockchain.Requested); err != nil || res.LowWork {
			t.Fatalf("requested side block %d: %+v %v", b.Header.Height, res, err)
		}
	}
	requireTip(t, bc, main.Tip()) // equal work: first seen stays
	next := side.Next(nil, chaintest.Spec{})
	if res, err := bc.ProcessBlock(next, blockchain.Unrequested); err != nil || !res.MainChain || !res.Reorg {
		t.Fatalf("unrequested block that makes its branch heaviest: %+v %v", res, err)
	}
	requireTip(t, bc, next)
	// An unrequested competitor of equal work is kept (a race at the tip).
	rival := main.Next(nil, chaintest.Spec{})
	if res, err := bc.ProcessBlock(rival, blockchain.Unrequested); err != nil || res.LowWork || res.MainChain {
		t.Fatalf("equal-work rival: %+v %v, want stored off the main chain", res, err)
	}
	if !bc.HaveBlock(rival.Hash()) {
		t.Fatal("equal-work rival not stored")
	}
}

// TestBadBodyRefusedOnAnyBranch: a block with a bad signature is a rule
// violation (so its sender is penalised) whether it extends the tip, sits
// on a side branch, or is too light to keep; it is never stored, and its
// children are refused as building on an invalid block.
func TestBadBodyRefusedOnAnyBranch(t *testing.T) {
	keys := chaintest.Keys(3)
	p := chaintest.Params(keys, 1_000_000)
	rng := rand.New(rand.NewSource(10))
	base := chaintest.NewBranch(p, keys)
	main, side := base.Fork("main"), base.Fork("side")
	mainBlocks := main.Extend(rng, 4, 1)
	side.Extend(rng, 2, 1)

	badOn := func(parent *chain.Block, nonce uint64) *chain.Block {
		tx := chaintest.Tx(p, keys[0], keys[2].Address(), 5, 1, nonce)
		tx.Signature[7] ^= 1
		return chaintest.Block(chaintest.Spec{Parent: &parent.Header, Miner: keys[1].Address(),
			Reward: p.Reward(parent.Header.Height + 1), Txs: []*chain.Tx{tx}})
	}
	cases := []struct {
		name   string
		flags  blockchain.Flags
		parent *chain.Block
	}{
		{"extends the tip", blockchain.Unrequested, mainBlocks[3]},
		{"requested, on a side branch", blockchain.Requested, side.Blocks[2]},
		{"unrequested, too light to keep", blockchain.Unrequested, side.Blocks[1]},
		{"unrequested, ties the tip", blockchain.Unrequested, mainBlocks[2]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := store.NewMemory()
			bc := newChainOn(t, p, st)
			mustProcess(t, bc, mainBlocks...)
			mustProcess(t, bc, side.Blocks[1:]...)
			before := storedBlocks(t, st)
			bad := badOn(c.parent, 99)
			res, err := bc.ProcessBlock(bad, c.flags)
			if !errors.Is(err, consensus.ErrBadSignature) || !consensus.CodeOf(err).Penalty() {
				t.Fatalf("%+v %v, want a bad-signature rule error", res, err)
			}
			if got := storedBlocks(t, st); got != before {
				t.Fatalf("store grew from %d to %d blocks", before, got)
			}
			requireTip(t, bc, mainBlocks[3])
			// A copy is known as invalid, and a child is refused at once.
			if res, err := bc.ProcessBlock(bad, c.flags); err != nil || !res.Duplicate {
				t.Fatalf("copy: %+v %v, want a duplicate", res, err)
			}
			if info, ok := bc.BlockInfo(bad.Hash()); !ok || !info.Invalid {
				t.Fatalf("bad block not remembered as invalid: %+v %v", info, ok)
			}
			child := chaintest.Block(chaintest.Spec{Parent: &bad.Header, Miner: keys[1].Address(), Reward: p.Reward(bad.Header.Height + 1)})
			if _, err := bc.ProcessBlock(child, blockchain.Requested); !errors.Is(err, consensus.ErrInvalidAncestor) {
				t.Fatalf("child of the bad block: %v, want ErrInvalidAncestor", err)
			}
		})
	}
}

// junkOrphan returns a block of n junk transactions (valid shape, bogus
// signatures: orphans get only the sanity checks) on an unknown parent.
func junkOrphan(p *consensus.Params, miner chain.Address, i, n int) *chain.Block {
	missing := chain.Header{Height: 7, Bits: p.GenesisBits, Timestamp: p.GenesisTime + uint32(i), Nonce: uint64(i)}
	txs := make([]*chain.Tx, n)
	for j := range txs {
		tx := &chain.Tx{To: miner, Amount: uint64(1 + j), Nonce: uint64(i), Memo: make([]byte, chain.MaxMemoSize)}
		tx.From[0], tx.From[1], tx.From[2] = byte(i), byte(i>>8), byte(j)
		tx.From[3], tx.From[31] = byte(j>>8), 1 // never the zero key of a coinbase
		tx.Signature[0] = 1
		for k := range tx.Memo {
			tx.Memo[k] = 'a' + byte((i+j+k)%26)
		}
		txs[j] = tx
	}
	return chaintest.Block(chaintest.Spec{Parent: &missing, Miner: miner, Reward: p.Reward(8), Txs: txs})
}

// TestOrphansBoundedByBytes: orphans are held within MaxOrphanBytes of
// encoded blocks, and the heap they pin stays within a small multiple of
// it however many large orphans arrive.
func TestOrphansBoundedByBytes(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 1_000_000)
	const bound = 2 << 20
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: store.NewMemory(), MaxOrphanBytes: bound})
	if err != nil {
		t.Fatal(err)
	}
	const orphans, txsPer = 80, 1000 // about 200 kB each, 16 MB in all
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	size := 0
	for i := range orphans {
		b := junkOrphan(p, keys[0].Address(), i, txsPer)
		size = b.Size()
		if res, err := bc.ProcessBlock(b, blockchain.Unrequested); err != nil || !res.Orphan {
			t.Fatalf("orphan %d: %+v %v", i, res, err)
		}
		if got := bc.OrphanBytes(); got > bound {
			t.Fatalf("after %d orphans: %d bytes held, bound %d", i+1, got, bound)
		}
	}
	if n, want := bc.OrphanCount(), bound/size; n != want {
		t.Fatalf("%d orphans of %d bytes held, want %d (the byte bound)", n, size, want)
	}
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	grown := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
	t.Logf("%d orphans of %d bytes offered (%d MB); heap grew %.1f MB; %d held (%d bytes)",
		orphans, size, orphans*size>>20, float64(grown)/(1<<20), bc.OrphanCount(), bc.OrphanBytes())
	// Decoded blocks take a little more memory than their encoding.
	if limit := int64(3 * bound); grown > limit {
		t.Fatalf("heap grew by %d bytes with the orphan pool bounded at %d (limit %d)", grown, bound, limit)
	}
	runtime.KeepAlive(bc)
}

// TestOrphansExpireOnATimer: orphans leave the pool when their time is up,
// without any other block arriving; after Close the timer no longer runs.
func TestOrphansExpireOnATimer(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 1_000_000)
	const ttl = 50 * time.Millisecond
	newWithOrphans := func() *blockchain.Blockchain {
		bc, err := blockchain.New(blockchain.Config{Params: p, Store: store.NewMemory(), OrphanTTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if res, err := bc.ProcessBlock(junkOrphan(p, keys[0].Address(), i, 2), blockchain.Unrequested); err != nil || !res.Orphan {
				t.Fatalf("orphan %d: %+v %v", i, res, err)
			}
		}
		return bc
	}
	bc := newWithOrphans()
	deadline := time.Now().Add(5 * time.Second)
	for bc.OrphanCount() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d orphans still held long after their TTL of %v", bc.OrphanCount(), ttl)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if b := bc.OrphanBytes(); b != 0 {
		t.Fatalf("%d orphan bytes accounted after all expired", b)
	}
	bc.Close()

	closed := newWithOrphans()
	closed.Close()
	time.Sleep(4 * ttl)
	if n := closed.OrphanCount(); n != 3 {
		t.Fatalf("%d orphans after Close and their TTL; the timer should have stopped with the chain", n)
	}
}

// TestUnrequestedOrphanKeepsItsFlag: an orphan that arrived unrequested is
// judged as unrequested when its parent comes: kept if its branch is the
// heaviest, dropped if lighter.
func TestUnrequestedOrphanKeepsItsFlag(t *testing.T) {
	keys := chaintest.Keys(3)
	p := chaintest.Params(keys, 1_000_000)
	rng := rand.New(rand.NewSource(12))
	base := chaintest.NewBranch(p, keys)
	main, side := base.Fork("main"), base.Fork("side")
	mainBlocks := main.Extend(rng, 5, 0)
	sideBlocks := side.Extend(rng, 3, 0)
	bc := newChain(t, p)
	mustProcess(t, bc, mainBlocks...)
	if res, err := bc.ProcessBlock(sideBlocks[2], blockchain.Unrequested); err != nil || !res.Orphan {
		t.Fatalf("side orphan: %+v %v", res, err)
	}
	mustProcess(t, bc, sideBlocks[:2]...) // asked for: stored although lighter
	if bc.HaveBlock(sideBlocks[2].Hash()) {
		t.Fatal("an unrequested orphan on a lighter branch was stored when its parent came")
	}
	if !bc.HaveBlock(sideBlocks[1].Hash()) {
		t.Fatal("a requested block on a lighter branch was not stored")
	}
}
