package blockchain_test

import (
	"errors"
	"math/rand"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/state"
	"github.com/chaind/chaind/store"
)

func newChain(t testing.TB, p *consensus.Params) *blockchain.Blockchain {
	t.Helper()
	return newChainOn(t, p, store.NewMemory())
}

// newChainOn opens a chain of p on st.
func newChainOn(t testing.TB, p *consensus.Params, st store.Store) *blockchain.Blockchain {
	t.Helper()
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	return bc
}

func mustProcess(t testing.TB, bc *blockchain.Blockchain, blocks ...*chain.Block) {
	t.Helper()
	for _, b := range blocks {
		if _, err := bc.ProcessBlock(b, blockchain.Requested); err != nil {
			t.Fatalf("block %d %s: %v", b.Header.Height, b.Hash(), err)
		}
	}
}

// chainState copies the chain's tip state.
func chainState(bc *blockchain.Blockchain) *state.State {
	s := state.New()
	bc.Accounts(func(a chain.Address, acct state.Account) { s.Set(a, acct) })
	return s
}

func requireTip(t *testing.T, bc *blockchain.Blockchain, b *chain.Block) {
	t.Helper()
	if tip := bc.Tip(); tip.Hash != b.Hash() {
		t.Fatalf("tip is %d %s, want %d %s", tip.Height, tip.Hash, b.Header.Height, b.Hash())
	}
}

func TestExtendAndState(t *testing.T) {
	keys := chaintest.Keys(4)
	p := chaintest.Params(keys, 1_000_000)
	bc := newChain(t, p)
	br := chaintest.NewBranch(p, keys)
	rng := rand.New(rand.NewSource(1))
	mustProcess(t, bc, br.Extend(rng, 20, 5)...)
	requireTip(t, bc, br.Tip())
	if ok, diff := chainState(bc).Equal(br.State); !ok {
		t.Fatalf("state differs from the branch's: %s", diff)
	}
	// Every transaction is indexed with its confirmations.
	tx := br.Blocks[3].Txs[1]
	loc, conf, err := bc.TxLocation(tx.ID())
	if err != nil || loc.Height != 3 || conf != 18 {
		t.Fatalf("TxLocation = %+v, %d, %v; want height 3, 18 confirmations", loc, conf, err)
	}
}

func TestEqualWorkFirstSeenStays(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 1_000_000)
	bc := newChain(t, p)
	base := chaintest.NewBranch(p, keys)
	a, b := base.Fork("a"), base.Fork("b")
	a1 := a.Next(nil, chaintest.Spec{})
	b1 := b.Next(nil, chaintest.Spec{})
	mustProcess(t, bc, a1)
	res, err := bc.ProcessBlock(b1, blockchain.Requested)
	if err != nil || res.MainChain {
		t.Fatalf("equal-work competitor: %+v %v; want stored off the main chain", res, err)
	}
	requireTip(t, bc, a1)
	// The next block on b makes b heavier: reorg.
	b2 := b.Next(nil, chaintest.Spec{})
	res, err = bc.ProcessBlock(b2, blockchain.Requested)
	if err != nil || !res.Reorg || !res.MainChain {
		t.Fatalf("heavier branch: %+v %v; want a reorg", res, err)
	}
	requireTip(t, bc, b2)
}

// retargetParams returns params where a branch that runs ahead of schedule
// gets harder blocks quickly: 60 s blocks, 60 s half-life, a start well
// below the easiest target.
func retargetParams() *consensus.Params {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 1_000_000)
	p.NoRetarget = false
	p.TargetSpacing = 60
	p.HalfLife = 60
	p.GenesisBits = 0x2000ffff
	p.MaxFutureTime = 1 << 30
	return p
}

func TestHeavierShorterBranchWins(t *testing.T) {
	p := retargetParams()
	keys := chaintest.Keys(2)
	bc := newChain(t, p)
	base := chaintest.NewBranch(p, keys)
	mustProcess(t, bc, base.Next(nil, chaintest.Spec{Time: p.GenesisTime + 60})) // the anchor
	long, short := base.Fork("long"), base.Fork("short")
	// long: 6 blocks, each 10 minutes late, so each is easier.
	for i := 0; i < 6; i++ {
		long.Next(nil, chaintest.Spec{Time: long.Tip().Header.Timestamp + 600})
	}
	// short: 3 blocks, each one second after the last, so each is harder.
	for i := 0; i < 3; i++ {
		short.Next(nil, chaintest.Spec{Time: short.Tip().Header.Timestamp + 1})
	}
	mustProcess(t, bc, long.Blocks[2:]...)
	requireTip(t, bc, long.Tip())
	longWork := bc.TotalWork()
	mustProcess(t, bc, short.Blocks[2:]...)
	requireTip(t, bc, short.Tip())
	if bc.TotalWork().Cmp(longWork) <= 0 {
		t.Fatalf("short branch work %v not above long branch work %v", bc.TotalWork(), longWork)
	}
	if bc.Height() >= long.Tip().Header.Height {
		t.Fatalf("test precondition: short branch should be shorter")
	}
}

func TestDeepReorgMatchesReplay(t *testing.T) {
	keys := chaintest.Keys(8)
	p := chaintest.Params(keys, 10_000_000)
	rng := rand.New(rand.NewSource(7))
	base := chaintest.NewBranch(p, keys)
	base.Extend(rng, 5, 3)
	a, b := base.Fork("a"), base.Fork("b")
	a.Extend(rng, 100, 4)
	b.Extend(rng, 101, 4)

	bc := newChain(t, p)
	var disconnected, connected int
	bc.Subscribe(func(n blockchain.Notification) {
		switch n.Type {
		case blockchain.BlockDisconnected:
			disconnected++
		case blockchain.BlockConnected:
			connected++
		}
	})
	mustProcess(t, bc, a.Blocks[1:]...)
	requireTip(t, bc, a.Tip())
	connected = 0
	mustProcess(t, bc, b.Blocks[6:]...)
	requireTip(t, bc, b.Tip())
	if disconnected != 100 || connected != 101 {
		t.Fatalf("reorg disconnected %d and connected %d blocks, want 100 and 101", disconnected, connected)
	}

	replay := newChain(t, p)
	mustProcess(t, replay, b.Blocks[1:]...)
	if ok, diff := chainState(bc).Equal(chainState(replay)); !ok {
		t.Fatalf("state after reorg differs from a replay of the winning branch: %s", diff)
	}
	if ok, diff := chainState(bc).Equal(b.State); !ok {
		t.Fatalf("state after reorg differs from the branch builder's: %s", diff)
	}
	// Transactions of the losing branch are no longer indexed.
	if _, _, err := bc.TxLocation(a.Tip().Txs[1].ID()); !blockchain.IsNotFound(err) {
		t.Fatalf("losing branch tx still indexed: %v", err)
	}
}

func TestInvalidBlockMidBranchIsDropped(t *testing.T) {
	keys := chaintest.Keys(4)
	p := chaintest.Params(keys, 1_000_000)
	rng := rand.New(rand.NewSource(3))
	base := chaintest.NewBranch(p, keys)
	good, bad := base.Fork("good"), base.Fork("bad")
	good.Extend(rng, 8, 2)
	bad.Extend(rng, 4, 2)
	// Block 5 of the bad branch spends more than the sender has. It passes
	// the sanity checks; only connecting it shows the fault.
	poor := chaintest.Key(99)
	overspend := chaintest.Tx(p, poor, keys[1].Address(), 5, 0, 0)
	b5 := chaintest.Block(chaintest.Spec{Parent: &bad.Tip().Header, Miner: bad.Miner, Txs: []*chain.Tx{overspend}, Reward: p.Reward(5)})
	bad.Blocks = append(bad.Blocks, b5)
	for i := 0; i < 6; i++ { // heavier than good if it were valid
		b := chaintest.Block(chaintest.Spec{Parent: &bad.Tip().Header, Miner: bad.Miner, Reward: p.Reward(bad.Tip().Header.Height + 1)})
		bad.Blocks = append(bad.Blocks, b)
	}

	bc := newChain(t, p)
	mustProcess(t, bc, good.Blocks[1:]...)
	mustProcess(t, bc, bad.Blocks[1:5]...)
	requireTip(t, bc, good.Tip())
	if _, err := bc.ProcessBlock(b5, blockchain.Requested); err != nil {
		t.Fatalf("b5 arrives while its branch is lighter: stored without connecting, got %v", err)
	}
	var lastErr error
	for _, b := range bad.Blocks[6:] {
		_, lastErr = bc.ProcessBlock(b, blockchain.Requested)
	}
	if !errors.Is(lastErr, consensus.ErrInvalidAncestor) && !errors.Is(lastErr, consensus.ErrInsufficientFunds) {
		t.Fatalf("blocks on the invalid branch: %v", lastErr)
	}
	requireTip(t, bc, good.Tip())
	if ok, diff := chainState(bc).Equal(good.State); !ok {
		t.Fatalf("state is not the good branch's: %s", diff)
	}
	if info, _ := bc.BlockInfo(b5.Hash()); !info.Invalid {
		t.Fatal("b5 not marked invalid")
	}
	if info, _ := bc.BlockInfo(bad.Tip().Hash()); !info.Invalid {
		t.Fatal("descendant of b5 not marked invalid")
	}
	// A block on the invalid branch is refused at once.
	child := chaintest.Block(chaintest.Spec{Parent: &bad.Tip().Header, Miner: bad.Miner, Reward: p.Reward(bad.Tip().Header.Height + 1)})
	if _, err := bc.ProcessBlock(child, blockchain.Requested); !errors.Is(err, consensus.ErrInvalidAncestor) {
		t.Fatalf("child of invalid block: %v, want ErrInvalidAncestor", err)
	}
}

func TestOrphansConnectWhenParentArrives(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 1_000_000)
	rng := rand.New(rand.NewSource(5))
	br := chaintest.NewBranch(p, keys)
	blocks := br.Extend(rng, 10, 1)
	bc := newChain(t, p)
	for i := len(blocks) - 1; i >= 1; i-- {
		res, err := bc.ProcessBlock(blocks[i], blockchain.Requested)
		if !res.Orphan || err != nil {
			t.Fatalf("block %d: %+v %v, want an orphan", i+1, res, err)
		}
	}
	if root := bc.OrphanRoot(blocks[9].Hash()); root != blocks[0].Hash() {
		t.Fatalf("orphan root %s, want the first block %s", root, blocks[0].Hash())
	}
	mustProcess(t, bc, blocks[0])
	requireTip(t, bc, br.Tip())
	if n := bc.OrphanCount(); n != 0 {
		t.Fatalf("%d orphans left", n)
	}
}

func TestOrphanPoolIsBounded(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 1_000_000)
	bc := newChain(t, p)
	for i := 0; i < blockchain.MaxOrphans+50; i++ {
		missing := chain.Header{Height: 5, Bits: p.GenesisBits, Timestamp: p.GenesisTime + uint32(i), Nonce: uint64(i)}
		b := chaintest.Block(chaintest.Spec{Parent: &missing, Miner: keys[0].Address(), Reward: p.Reward(6)})
		if res, err := bc.ProcessBlock(b, blockchain.Requested); !res.Orphan || err != nil {
			t.Fatalf("orphan %d: %+v %v", i, res, err)
		}
	}
	if n := bc.OrphanCount(); n != blockchain.MaxOrphans {
		t.Fatalf("%d orphans held, bound is %d", n, blockchain.MaxOrphans)
	}
}

func TestDuplicateAndFutureBlocks(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 1_000_000)
	now := time.Unix(int64(p.GenesisTime)+100, 0)
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: store.NewMemory(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	br := chaintest.NewBranch(p, keys)
	b1 := br.Next(nil, chaintest.Spec{})
	mustProcess(t, bc, b1)
	if res, err := bc.ProcessBlock(b1, blockchain.Requested); !res.Duplicate || err != nil {
		t.Fatalf("duplicate: %+v %v, want Duplicate and no error", res, err)
	}
	future := chaintest.Block(chaintest.Spec{Parent: &b1.Header, Miner: br.Miner, Reward: p.Reward(2), Time: uint32(now.Unix()) + uint32(p.MaxFutureTime) + 1})
	if _, err := bc.ProcessBlock(future, blockchain.Requested); !errors.Is(err, consensus.ErrTimeTooNew) {
		t.Fatalf("future block: %v", err)
	}
	// The same block is fine once the clock has caught up: too-new is not
	// remembered as invalid.
	now = now.Add(time.Duration(p.MaxFutureTime) * time.Second * 2)
	mustProcess(t, bc, future)
}

func TestNotificationsInOrder(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 1_000_000)
	bc := newChain(t, p)
	var got []string
	bc.Subscribe(func(n blockchain.Notification) {
		got = append(got, n.Type.String())
		// Listeners may read the chain.
		_ = bc.Tip()
	})
	base := chaintest.NewBranch(p, keys)
	a, b := base.Fork("a"), base.Fork("b")
	mustProcess(t, bc, a.Next(nil, chaintest.Spec{}))
	b.Next(nil, chaintest.Spec{})
	mustProcess(t, bc, b.Blocks[1], b.Next(nil, chaintest.Spec{}))
	want := []string{"block-accepted", "block-connected", "tip-changed", "block-accepted",
		"block-accepted", "block-disconnected", "block-connected", "block-connected", "tip-changed"}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
}

func TestLocatorAndHeadersAfter(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 1_000_000)
	bc := newChain(t, p)
	br := chaintest.NewBranch(p, keys)
	for i := 0; i < 300; i++ {
		br.Next(nil, chaintest.Spec{})
	}
	mustProcess(t, bc, br.Blocks[1:]...)
	loc := bc.Locator()
	if loc[0] != br.Tip().Hash() || loc[len(loc)-1] != p.GenesisHash() {
		t.Fatal("locator must start at the tip and end at genesis")
	}
	if len(loc) > 30 {
		t.Fatalf("locator of a 300-block chain has %d hashes; want exponential spacing", len(loc))
	}
	// A peer that has the first 100 blocks asks for what follows.
	peerLoc := []chain.Hash{br.Blocks[100].Hash(), br.Blocks[50].Hash(), p.GenesisHash()}
	hs, err := bc.HeadersAfter(peerLoc, chain.Hash{}, 50)
	if err != nil || len(hs) != 50 || hs[0].Height != 101 || hs[49].Height != 150 {
		t.Fatalf("HeadersAfter: %d headers from %v, %v", len(hs), hs, err)
	}
	// A locator of unknown hashes falls back to genesis.
	hs, _ = bc.HeadersAfter([]chain.Hash{{1}}, br.Blocks[3].Hash(), 0)
	if len(hs) != 3 || hs[2].Height != 3 {
		t.Fatalf("HeadersAfter with unknown locator and stop: %d headers", len(hs))
	}
}

// countingStore counts block reads.
type countingStore struct {
	store.Store
	reads int
}

func (s *countingStore) Block(h chain.Hash) (*chain.Block, error) {
	s.reads++
	return s.Store.Block(h)
}

// TestConnectsTheBlockInHand: extending the tip, and connecting orphans
// that wait for the new block, reads no block back from the store.
func TestConnectsTheBlockInHand(t *testing.T) {
	keys := chaintest.Keys(3)
	p := chaintest.Params(keys, 1_000_000)
	st := &countingStore{Store: store.NewMemory()}
	bc := newChainOn(t, p, st)
	br := chaintest.NewBranch(p, keys)
	blocks := br.Extend(rand.New(rand.NewSource(3)), 6, 2)
	mustProcess(t, bc, blocks[:2]...)
	for _, b := range blocks[3:] {
		if res, err := bc.ProcessBlock(b, blockchain.Requested); !res.Orphan || err != nil {
			t.Fatalf("block %d: %+v %v, want an orphan", b.Header.Height, res, err)
		}
	}
	mustProcess(t, bc, blocks[2])
	requireTip(t, bc, br.Tip())
	if st.reads != 0 {
		t.Fatalf("%d blocks read back from the store while connecting blocks in hand", st.reads)
	}
}
