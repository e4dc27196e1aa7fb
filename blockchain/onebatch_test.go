package blockchain_test

import (
	"errors"
	"math/rand"
	"testing"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/store"
)

// batchStore counts the block writes a chain makes, and fails the next
// connect when failNext is set.
type batchStore struct {
	store.Store
	puts, notStored, connects int
	failNext                  bool
}

func (s *batchStore) PutBlock(h chain.Hash, b *chain.Block) error {
	s.puts++
	return s.Store.PutBlock(h, b)
}

func (s *batchStore) ConnectBlock(u *store.Update) error {
	if s.failNext {
		s.failNext = false
		return errors.New("disk on fire")
	}
	s.connects++
	if u.NotStored {
		s.notStored++
	}
	return s.Store.ConnectBlock(u)
}

// TestBlockOnTipIsOneBatch: a block that extends the tip is written by its
// connect alone (one batch, no lookup); a side block is stored on arrival.
func TestBlockOnTipIsOneBatch(t *testing.T) {
	keys := chaintest.Keys(3)
	p := chaintest.Params(keys, 1_000_000)
	st := &batchStore{Store: store.NewMemory()}
	bc := newChainOn(t, p, st)
	st.puts, st.connects, st.notStored = 0, 0, 0 // genesis
	rng := rand.New(rand.NewSource(5))
	base := chaintest.NewBranch(p, keys)
	main, side := base.Fork("main"), base.Fork("side")
	mustProcess(t, bc, main.Extend(rng, 5, 2)...)
	if st.puts != 0 || st.connects != 5 || st.notStored != 5 {
		t.Fatalf("5 blocks on the tip: %d PutBlock, %d connects (%d not stored), want 0, 5, 5", st.puts, st.connects, st.notStored)
	}
	sb := side.Extend(rng, 1, 0)[0]
	mustProcess(t, bc, sb)
	if st.puts != 1 || st.connects != 5 {
		t.Fatalf("a lighter side block: %d PutBlock, %d connects, want 1, 5", st.puts, st.connects)
	}
	for _, b := range append(main.Blocks[1:], sb) {
		got, err := st.Store.Block(b.Hash())
		if err != nil || got.Hash() != b.Hash() {
			t.Fatalf("block %d not stored: %v", b.Header.Height, err)
		}
	}
}

// TestFailedBlockOnTipStaysInvalid: a block on the tip that fails its
// connect is stored with its invalid mark, which a reopened chain keeps.
func TestFailedBlockOnTipStaysInvalid(t *testing.T) {
	keys := chaintest.Keys(3)
	p := chaintest.Params(keys, 1_000_000)
	mem := store.NewMemory()
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: mem})
	if err != nil {
		t.Fatal(err)
	}
	br := chaintest.NewBranch(p, keys)
	mustProcess(t, bc, br.Extend(rand.New(rand.NewSource(6)), 3, 1)...)
	overspend := chaintest.Tx(p, chaintest.Key(99), keys[1].Address(), 5, 0, 0)
	bad := chaintest.Block(chaintest.Spec{Parent: &br.Tip().Header, Miner: br.Miner, Txs: []*chain.Tx{overspend}, Reward: p.Reward(4)})
	if _, err := bc.ProcessBlock(bad, blockchain.Requested); !errors.Is(err, consensus.ErrInsufficientFunds) {
		t.Fatalf("overspending block on the tip: %v, want ErrInsufficientFunds", err)
	}
	requireTip(t, bc, br.Tip())
	if i := bc.FirstInvalid([]chain.Hash{br.Tip().Hash(), {9}, bad.Hash(), br.Tip().Hash()}); i != 2 {
		t.Fatalf("FirstInvalid of a valid, an unknown, the failed and a valid block: %d, want 2", i)
	}
	if i := bc.FirstInvalid([]chain.Hash{br.Tip().Hash(), {9}}); i != -1 {
		t.Fatalf("FirstInvalid of a valid and an unknown block: %d, want -1", i)
	}
	found := false
	if err := mem.ForEachHeader(func(r store.HeaderRecord) error {
		if r.Header.Hash() == bad.Hash() {
			found = true
			if !r.Invalid || r.Connected {
				t.Errorf("stored record of the failed block: %+v, want invalid, not connected", r)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatal("the failed block is not stored")
	}
	if err := bc.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := blockchain.New(blockchain.Config{Params: p, Store: mem})
	if err != nil {
		t.Fatal(err)
	}
	if info, ok := again.BlockInfo(bad.Hash()); !ok || !info.Invalid {
		t.Fatalf("reopened chain: failed block info %+v (known %v), want invalid", info, ok)
	}
	if res, err := again.ProcessBlock(bad, blockchain.Requested); err != nil || !res.Duplicate {
		t.Fatalf("failed block again after reopening: %+v %v, want a duplicate", res, err)
	}
}

// TestBlockOnTipKeptWhenItsWriteFails: a block on the tip whose connect
// could not be written stays readable and is connected with its child.
func TestBlockOnTipKeptWhenItsWriteFails(t *testing.T) {
	keys := chaintest.Keys(3)
	p := chaintest.Params(keys, 1_000_000)
	st := &batchStore{Store: store.NewMemory()}
	bc := newChainOn(t, p, st)
	br := chaintest.NewBranch(p, keys)
	blocks := br.Extend(rand.New(rand.NewSource(7)), 3, 1)
	mustProcess(t, bc, blocks[0])
	st.failNext = true
	if _, err := bc.ProcessBlock(blocks[1], blockchain.Requested); err == nil || consensus.CodeOf(err) != 0 {
		t.Fatalf("connect that could not be written: %v, want a storage error", err)
	}
	requireTip(t, bc, blocks[0])
	got, err := bc.Block(blocks[1].Hash())
	if err != nil || got.Hash() != blocks[1].Hash() {
		t.Fatalf("block whose connect failed: %v", err)
	}
	mustProcess(t, bc, blocks[2])
	requireTip(t, bc, blocks[2])
	if _, err := st.Store.Block(blocks[1].Hash()); err != nil {
		t.Fatalf("block connected after its failed write is not stored: %v", err)
	}
}
