package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/state"
)

// Sizes of the conformance tests.
const (
	testPool      = 8 // funded sender keys
	testTxs       = 5 // transfers per block
	testMainLen   = 6 // blocks connected after genesis
	testReorgBack = 3 // blocks disconnected in the reorg test
	testReorgNew  = 4 // blocks of the new branch
	testSideCount = 3 // side blocks stored but never connected
	testNetwork   = "storetest"
)

// implementation makes an empty store of one kind for a chain whose
// genesis is genesis.
type implementation struct {
	name string
	open func(t *testing.T, genesis chain.Hash) Store
}

var implementations = []implementation{
	{"memory", func(t *testing.T, _ chain.Hash) Store { return NewMemory() }},
	{"pebble", func(t *testing.T, genesis chain.Hash) Store {
		p, err := Open(t.TempDir(), testNetwork, genesis, WithLogger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}},
}

// forEach runs test against every implementation, with a fresh test chain
// and an empty store for it.
func forEach(t *testing.T, test func(t *testing.T, c *testChain, s Store)) {
	for _, impl := range implementations {
		t.Run(impl.name, func(t *testing.T) {
			c := newTestChain(1, testPool, false, true)
			s := impl.open(t, c.genesisBlock().Hash())
			t.Cleanup(func() {
				if err := s.Close(); err != nil && !errors.Is(err, ErrClosed) {
					t.Error(err)
				}
			})
			test(t, c, s)
		})
	}
}

func mustConnect(t testing.TB, s Store, u *Update) {
	t.Helper()
	if err := s.ConnectBlock(u); err != nil {
		t.Fatal(err)
	}
}

func mustDisconnect(t testing.TB, s Store, u *Update) {
	t.Helper()
	if err := s.DisconnectBlock(u); err != nil {
		t.Fatal(err)
	}
}

// checkAgrees checks everything a store says about the main chain against
// the test chain: tip, height index, undo records, transaction index and
// accounts. gone lists blocks no longer on the main chain, whose undo
// records and transactions must be gone too.
func checkAgrees(t *testing.T, c *testChain, s Store, gone ...*Update) {
	t.Helper()
	tip, ok, err := s.Tip()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.history); ok != (n > 0) || ok && tip != c.history[n-1].Hash {
		t.Fatalf("tip %s (ok %v), want the test chain's tip of %d blocks", tip, ok, n)
	}
	for h, u := range c.history {
		got, err := s.MainHash(uint32(h))
		if err != nil || got != u.Hash {
			t.Fatalf("MainHash(%d) = %s, %v; want %s", h, got, err, u.Hash)
		}
		undo, err := s.Undo(u.Hash)
		if err != nil {
			t.Fatalf("Undo of block %d: %v", h, err)
		}
		if !bytes.Equal(undo.Encode(), u.Undo.Encode()) {
			t.Fatalf("Undo of block %d differs from the one connected", h)
		}
		for i, tx := range u.Block.Txs {
			loc, err := s.TxLocation(tx.ID())
			want := TxLocation{Block: u.Hash, Height: uint32(h), Index: i}
			if err != nil || loc != want {
				t.Fatalf("TxLocation of tx %d of block %d = %+v, %v; want %+v", i, h, loc, err, want)
			}
		}
	}
	if _, err := s.MainHash(uint32(len(c.history))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("MainHash above the tip: err = %v, want ErrNotFound", err)
	}
	for _, u := range gone {
		if _, err := s.Undo(u.Hash); !errors.Is(err, ErrNotFound) {
			t.Fatalf("undo record of disconnected block %d: err = %v, want ErrNotFound", u.Block.Header.Height, err)
		}
		for i, tx := range u.Block.Txs {
			if _, err := s.TxLocation(tx.ID()); !errors.Is(err, ErrNotFound) {
				t.Fatalf("tx %d of disconnected block %d: err = %v, want ErrNotFound", i, u.Block.Header.Height, err)
			}
		}
	}
	got := state.New()
	count := 0
	if err := s.ForEachAccount(func(a chain.Address, acct state.Account) error {
		count++
		if acct.IsZero() {
			return fmt.Errorf("zero account %x listed", a)
		}
		got.Set(a, acct)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if count != got.Len() {
		t.Fatalf("ForEachAccount listed %d accounts, %d distinct", count, got.Len())
	}
	if eq, diff := got.Equal(c.st); !eq {
		t.Fatalf("stored accounts differ from the test chain's state: %s", diff)
	}
}

// headers returns the header records of s by block hash.
func headers(t *testing.T, s Store) map[chain.Hash]HeaderRecord {
	t.Helper()
	m := make(map[chain.Hash]HeaderRecord)
	if err := s.ForEachHeader(func(r HeaderRecord) error {
		h := r.Header.Hash()
		if _, dup := m[h]; dup {
			return fmt.Errorf("header %s listed twice", h)
		}
		m[h] = r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBlocksAndHeaders(t *testing.T) {
	forEach(t, func(t *testing.T, c *testChain, s Store) {
		g := c.genesis(t)
		var side []*chain.Block
		for range testSideCount {
			side = append(side, c.build(testTxs)) // siblings at height 1
		}
		for _, b := range append([]*chain.Block{g.Block}, side...) {
			if err := s.PutBlock(b.Hash(), b); err != nil {
				t.Fatal(err)
			}
		}
		for _, b := range append([]*chain.Block{g.Block}, side...) {
			got, err := s.Block(b.Hash())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Encode(), b.Encode()) {
				t.Fatalf("block %d read back differs", b.Header.Height)
			}
			got.Txs[0].Amount++ // must not change what is stored
		}
		again, err := s.Block(side[0].Hash())
		if err != nil || again.Hash() != side[0].Hash() || !bytes.Equal(again.Encode(), side[0].Encode()) {
			t.Fatalf("changing a block read from the store changed the stored block (err %v)", err)
		}
		if _, err := s.Block(chain.Hash{1}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown block: err = %v, want ErrNotFound", err)
		}
		if err := s.PutBlock(chain.Hash{2}, side[0]); err == nil {
			t.Fatal("PutBlock under a hash that is not the block's was accepted")
		}

		hs := headers(t, s)
		if len(hs) != 1+testSideCount {
			t.Fatalf("%d header records, want %d", len(hs), 1+testSideCount)
		}
		for _, b := range append([]*chain.Block{g.Block}, side...) {
			if r, ok := hs[b.Hash()]; !ok || r.Invalid || r.Header != b.Header {
				t.Fatalf("header record of %s = %+v (present %v)", b.Hash(), r, ok)
			}
		}

		if err := s.MarkInvalid(side[1].Hash()); err != nil {
			t.Fatal(err)
		}
		if err := s.PutBlock(side[1].Hash(), side[1]); err != nil { // must keep the mark
			t.Fatal(err)
		}
		if err := s.MarkInvalid(chain.Hash{3}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("MarkInvalid of an unknown block: err = %v, want ErrNotFound", err)
		}
		hs = headers(t, s)
		for _, b := range append([]*chain.Block{g.Block}, side...) {
			want := b == side[1]
			if hs[b.Hash()].Invalid != want {
				t.Fatalf("block %s: invalid = %v, want %v", b.Hash(), hs[b.Hash()].Invalid, want)
			}
		}

		// A block marked invalid cannot be connected.
		mustConnect(t, s, g)
		u := &Update{Hash: side[1].Hash(), Block: side[1], Undo: &state.Undo{}}
		if err := s.ConnectBlock(u); err == nil {
			t.Fatal("a block marked invalid was connected")
		}
	})
}

func TestConnectDisconnectReorg(t *testing.T) {
	forEach(t, func(t *testing.T, c *testChain, s Store) {
		checkAgrees(t, c, s)
		mustConnect(t, s, c.genesis(t))
		checkAgrees(t, c, s)
		for range testMainLen {
			mustConnect(t, s, c.next(t, testTxs))
			checkAgrees(t, c, s)
		}
		// Reorg: disconnect back to a fork point, connect a longer branch.
		var gone []*Update
		for range testReorgBack {
			u := c.undoTip(t)
			mustDisconnect(t, s, u)
			gone = append(gone, u)
			checkAgrees(t, c, s, gone...)
		}
		for range testReorgNew {
			mustConnect(t, s, c.next(t, testTxs))
		}
		checkAgrees(t, c, s, gone...)
		// The disconnected blocks stay stored, as side-branch blocks.
		hs := headers(t, s)
		if want := 1 + testMainLen + testReorgNew; len(hs) != want {
			t.Fatalf("%d header records, want %d", len(hs), want)
		}
		for _, u := range gone {
			if _, err := s.Block(u.Hash); err != nil {
				t.Fatalf("disconnected block: %v", err)
			}
		}
		// Down to an empty store: no tip, no accounts.
		for len(c.history) > 0 {
			u := c.undoTip(t)
			mustDisconnect(t, s, u)
			gone = append(gone, u)
		}
		checkAgrees(t, c, s, gone...)
		if c.st.Len() != 0 {
			t.Fatalf("test chain state holds %d accounts after undoing genesis", c.st.Len())
		}
	})
}

func TestConnectDisconnectRefused(t *testing.T) {
	forEach(t, func(t *testing.T, c *testChain, s Store) {
		g := c.genesis(t)
		c.history = nil // the store is still empty
		h1 := c.build(testTxs)
		if err := s.ConnectBlock(&Update{Hash: h1.Hash(), Block: h1, Undo: &state.Undo{}}); err == nil {
			t.Fatal("a height-1 block was connected to an empty store")
		}
		if err := s.DisconnectBlock(g); err == nil {
			t.Fatal("disconnect from an empty store was accepted")
		}
		c.history = []*Update{g}
		mustConnect(t, s, g)
		for range 2 {
			mustConnect(t, s, c.next(t, testTxs))
		}
		checkAgrees(t, c, s)

		tipU := c.history[len(c.history)-1]
		parentU := c.history[len(c.history)-2]
		sibling := c.build(testTxs) // on the tip
		sibling.Header.PrevHash = parentU.Hash
		orphan := c.build(testTxs)
		orphan.Header.PrevHash = chain.Hash{9}
		badHeight := c.build(testTxs)
		badHeight.Header.Height++
		good := c.build(testTxs)
		undo := &state.Undo{}
		refused := map[string]func() error{
			"parent is not the tip": func() error {
				return s.ConnectBlock(&Update{Hash: sibling.Hash(), Block: sibling, Undo: undo})
			},
			"unknown parent": func() error {
				return s.ConnectBlock(&Update{Hash: orphan.Hash(), Block: orphan, Undo: undo})
			},
			"height does not follow": func() error {
				return s.ConnectBlock(&Update{Hash: badHeight.Hash(), Block: badHeight, Undo: undo})
			},
			"tip connected again": func() error { return s.ConnectBlock(tipU) },
			"hash is not the block's": func() error {
				return s.ConnectBlock(&Update{Hash: chain.Hash{7}, Block: good, Undo: undo})
			},
			"no undo record": func() error { return s.ConnectBlock(&Update{Hash: good.Hash(), Block: good}) },
			"no block":       func() error { return s.ConnectBlock(&Update{Hash: good.Hash(), Undo: undo}) },
			"nil update":     func() error { return s.ConnectBlock(nil) },
			"disconnect a block below the tip": func() error {
				return s.DisconnectBlock(&Update{Hash: parentU.Hash, Block: parentU.Block})
			},
			"disconnect a block not connected": func() error {
				return s.DisconnectBlock(&Update{Hash: good.Hash(), Block: good})
			},
			"disconnect with a hash that is not the block's": func() error {
				return s.DisconnectBlock(&Update{Hash: tipU.Hash, Block: parentU.Block})
			},
		}
		for name, f := range refused {
			if err := f(); err == nil {
				t.Fatalf("%s: accepted", name)
			}
			checkAgrees(t, c, s)
			if _, err := s.Block(good.Hash()); !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s: a refused update stored its block (err %v)", name, err)
			}
		}
		// The store still works.
		mustConnect(t, s, c.next(t, testTxs))
		checkAgrees(t, c, s)
	})
}

func TestCallbackErrorStopsIteration(t *testing.T) {
	forEach(t, func(t *testing.T, c *testChain, s Store) {
		mustConnect(t, s, c.genesis(t))
		mustConnect(t, s, c.next(t, testTxs))
		stop := errors.New("stop here")
		calls := 0
		err := s.ForEachHeader(func(HeaderRecord) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Fatalf("ForEachHeader: err %v after %d calls, want the callback's error after 1", err, calls)
		}
		calls = 0
		err = s.ForEachAccount(func(chain.Address, state.Account) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Fatalf("ForEachAccount: err %v after %d calls, want the callback's error after 1", err, calls)
		}
		// A callback may use the store.
		if err := s.ForEachHeader(func(r HeaderRecord) error {
			_, err := s.Block(r.Header.Hash())
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestClosed(t *testing.T) {
	forEach(t, func(t *testing.T, c *testChain, s Store) {
		g := c.genesis(t)
		mustConnect(t, s, g)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		_, _, tipErr := s.Tip()
		_, mainErr := s.MainHash(0)
		_, blockErr := s.Block(g.Hash)
		_, undoErr := s.Undo(g.Hash)
		_, txErr := s.TxLocation(g.Block.Txs[0].ID())
		for name, err := range map[string]error{
			"Tip":             tipErr,
			"MainHash":        mainErr,
			"Block":           blockErr,
			"Undo":            undoErr,
			"TxLocation":      txErr,
			"PutBlock":        s.PutBlock(g.Hash, g.Block),
			"MarkInvalid":     s.MarkInvalid(g.Hash),
			"ConnectBlock":    s.ConnectBlock(c.next(t, testTxs)),
			"DisconnectBlock": s.DisconnectBlock(g),
			"ForEachHeader":   s.ForEachHeader(func(HeaderRecord) error { return nil }),
			"ForEachAccount":  s.ForEachAccount(func(chain.Address, state.Account) error { return nil }),
			"Close":           s.Close(),
		} {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s after Close: err = %v, want ErrClosed", name, err)
			}
		}
	})
}

// TestConcurrentUse connects blocks while other goroutines read; run with
// -race. Readers must always see a tip whose height index entry exists.
func TestConcurrentUse(t *testing.T) {
	const (
		readers = 2
		blocks  = 20
	)
	forEach(t, func(t *testing.T, c *testChain, s Store) {
		mustConnect(t, s, c.genesis(t))
		done := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, readers)
		for range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-done:
						return
					default:
					}
					tip, ok, err := s.Tip()
					if err != nil || !ok {
						errs <- fmt.Errorf("Tip: ok %v, err %v", ok, err)
						return
					}
					b, err := s.Block(tip)
					if err == nil {
						_, err = s.MainHash(b.Header.Height)
					}
					if err == nil {
						err = s.ForEachHeader(func(HeaderRecord) error { return nil })
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		for range blocks {
			mustConnect(t, s, c.next(t, testTxs))
		}
		close(done)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		checkAgrees(t, c, s)
	})
}
