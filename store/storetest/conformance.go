package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/state"
	"github.com/chaind/chaind/store"
)

// Sizes of the conformance tests.
const (
	Pool          = 8 // funded sender keys
	TxsPerBlock   = 5 // transfers per block
	MainLen       = 6 // blocks connected after genesis
	testReorgBack = 3 // blocks disconnected in the reorg test
	testReorgNew  = 4 // blocks of the new branch
	testSideCount = 3 // side blocks stored but never connected
	Network       = "storetest"
)

// Opener makes an empty store of one kind for a chain whose genesis is
// genesis. The conformance tests close it.
type Opener func(t *testing.T, genesis chain.Hash) store.Store

// Run runs every conformance test against the stores open makes.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		test func(*testing.T, Opener)
	}{
		{"BlocksAndHeaders", testBlocksAndHeaders},
		{"ConnectDisconnectReorg", testConnectDisconnectReorg},
		{"ConnectDisconnectRefused", testConnectDisconnectRefused},
		{"DeferredUpdates", testDeferredUpdates},
		{"CallbackErrorStopsIteration", testCallbackErrorStopsIteration},
		{"Closed", testClosed},
		{"ConcurrentUse", testConcurrentUse},
		{"AddressHistoryPaging", testAddressHistoryPaging},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open) })
	}
}

// forEach runs test with a fresh test chain and an empty store for it.
func forEach(t *testing.T, open Opener, test func(t *testing.T, c *Chain, s store.Store)) {
	c := NewChain(1, Pool, false, true)
	s := open(t, c.GenesisBlock().Hash())
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Error(err)
		}
	})
	test(t, c, s)
}

func MustConnect(t testing.TB, s store.Store, u *store.Update) {
	t.Helper()
	if err := s.ConnectBlock(u); err != nil {
		t.Fatal(err)
	}
}

func MustDisconnect(t testing.TB, s store.Store, u *store.Update) {
	t.Helper()
	if err := s.DisconnectBlock(u); err != nil {
		t.Fatal(err)
	}
}

// CheckAgrees checks everything a store says about the main chain against
// the test chain: tip, height index, undo records, transaction index and
// accounts. gone lists blocks no longer on the main chain, whose undo
// records and transactions must be gone too.
func CheckAgrees(t *testing.T, c *Chain, s store.Store, gone ...*store.Update) {
	t.Helper()
	tip, ok, err := s.Tip()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.History); ok != (n > 0) || ok && tip != c.History[n-1].Hash {
		t.Fatalf("tip %s (ok %v), want the test chain's tip of %d blocks", tip, ok, n)
	}
	for h, u := range c.History {
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
			want := store.TxLocation{Block: u.Hash, Height: uint32(h), Index: i}
			if err != nil || loc != want {
				t.Fatalf("TxLocation of tx %d of block %d = %+v, %v; want %+v", i, h, loc, err, want)
			}
		}
	}
	if _, err := s.MainHash(uint32(len(c.History))); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("MainHash above the tip: err = %v, want ErrNotFound", err)
	}
	for _, u := range gone {
		if _, err := s.Undo(u.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("undo record of disconnected block %d: err = %v, want ErrNotFound", u.Block.Header.Height, err)
		}
		for i, tx := range u.Block.Txs {
			if _, err := s.TxLocation(tx.ID()); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("tx %d of disconnected block %d: err = %v, want ErrNotFound", i, u.Block.Header.Height, err)
			}
		}
	}
	CheckHistory(t, c, s, gone...)
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
	if eq, diff := got.Equal(c.State); !eq {
		t.Fatalf("stored accounts differ from the test chain's state: %s", diff)
	}
}

// Headers returns the header records of s by block hash.
func Headers(t *testing.T, s store.Store) map[chain.Hash]store.HeaderRecord {
	t.Helper()
	m := make(map[chain.Hash]store.HeaderRecord)
	if err := s.ForEachHeader(func(r store.HeaderRecord) error {
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

func testBlocksAndHeaders(t *testing.T, open Opener) {
	forEach(t, open, func(t *testing.T, c *Chain, s store.Store) {
		g := c.Genesis(t)
		var side []*chain.Block
		for range testSideCount {
			side = append(side, c.Build(TxsPerBlock)) // siblings at height 1
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
		if _, err := s.Block(chain.Hash{1}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown block: err = %v, want ErrNotFound", err)
		}
		if err := s.PutBlock(chain.Hash{2}, side[0]); err == nil {
			t.Fatal("PutBlock under a hash that is not the block's was accepted")
		}

		hs := Headers(t, s)
		if len(hs) != 1+testSideCount {
			t.Fatalf("%d header records, want %d", len(hs), 1+testSideCount)
		}
		for _, b := range append([]*chain.Block{g.Block}, side...) {
			if r, ok := hs[b.Hash()]; !ok || r.Invalid || r.Connected || r.Header != b.Header {
				t.Fatalf("header record of %s = %+v (present %v)", b.Hash(), r, ok)
			}
		}

		if err := s.MarkInvalid(side[1].Hash()); err != nil {
			t.Fatal(err)
		}
		if err := s.PutBlock(side[1].Hash(), side[1]); err != nil { // must keep the mark
			t.Fatal(err)
		}
		if err := s.MarkInvalid(chain.Hash{3}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("MarkInvalid of an unknown block: err = %v, want ErrNotFound", err)
		}
		hs = Headers(t, s)
		for _, b := range append([]*chain.Block{g.Block}, side...) {
			want := b == side[1]
			if hs[b.Hash()].Invalid != want {
				t.Fatalf("block %s: invalid = %v, want %v", b.Hash(), hs[b.Hash()].Invalid, want)
			}
		}

		// Connecting a stored block marks it connected, and only it.
		MustConnect(t, s, g)
		hs = Headers(t, s)
		for _, b := range append([]*chain.Block{g.Block}, side...) {
			if want := b == g.Block; hs[b.Hash()].Connected != want {
				t.Fatalf("block %s: connected = %v, want %v", b.Hash(), hs[b.Hash()].Connected, want)
			}
		}
		// A block marked invalid cannot be connected.
		u := &store.Update{Hash: side[1].Hash(), Block: side[1], Undo: &state.Undo{}}
		if err := s.ConnectBlock(u); err == nil {
			t.Fatal("a block marked invalid was connected")
		}
	})
}

func testConnectDisconnectReorg(t *testing.T, open Opener) {
	forEach(t, open, func(t *testing.T, c *Chain, s store.Store) {
		CheckAgrees(t, c, s)
		MustConnect(t, s, c.Genesis(t))
		CheckAgrees(t, c, s)
		for i := range MainLen {
			// Every other block is said never to have been stored: the
			// store writes it with the update without looking.
			u := c.Next(t, TxsPerBlock)
			u.NotStored = i%2 == 0
			MustConnect(t, s, u)
			CheckAgrees(t, c, s)
		}
		// Reorg: disconnect back to a fork point, connect a longer branch.
		var gone []*store.Update
		for range testReorgBack {
			u := c.UndoTip(t)
			MustDisconnect(t, s, u)
			gone = append(gone, u)
			CheckAgrees(t, c, s, gone...)
		}
		for i := range testReorgNew {
			u := c.Next(t, TxsPerBlock)
			u.NotStored = i%2 == 1
			MustConnect(t, s, u)
		}
		CheckAgrees(t, c, s, gone...)
		// The disconnected blocks stay stored, as side-branch blocks.
		hs := Headers(t, s)
		if want := 1 + MainLen + testReorgNew; len(hs) != want {
			t.Fatalf("%d header records, want %d", len(hs), want)
		}
		for _, u := range gone {
			if _, err := s.Block(u.Hash); err != nil {
				t.Fatalf("disconnected block: %v", err)
			}
		}
		// Every block was connected at some time, the disconnected ones
		// too: the flag outlives the disconnect.
		for h, r := range hs {
			if !r.Connected {
				t.Fatalf("header record of %s (height %d): not marked connected", h, r.Header.Height)
			}
		}
		// Down to an empty store: no tip, no accounts.
		for len(c.History) > 0 {
			u := c.UndoTip(t)
			MustDisconnect(t, s, u)
			gone = append(gone, u)
		}
		CheckAgrees(t, c, s, gone...)
		if c.State.Len() != 0 {
			t.Fatalf("test chain state holds %d accounts after undoing genesis", c.State.Len())
		}
	})
}

// testDeferredUpdates checks that deferred connects and disconnects read
// back exactly as synced ones do, before and after Sync, and that a
// deferred update is refused like any other when it breaks the chain's
// shape.
func testDeferredUpdates(t *testing.T, open Opener) {
	forEach(t, open, func(t *testing.T, c *Chain, s store.Store) {
		MustConnect(t, s, c.Genesis(t))
		for range MainLen {
			u := c.Next(t, TxsPerBlock)
			u.Deferred = true
			MustConnect(t, s, u)
			CheckAgrees(t, c, s)
		}
		if err := s.Sync(); err != nil {
			t.Fatalf("Sync: %v", err)
		}
		CheckAgrees(t, c, s)
		var gone []*store.Update
		for range testReorgBack {
			u := c.UndoTip(t)
			u.Deferred = true
			MustDisconnect(t, s, u)
			gone = append(gone, u)
		}
		CheckAgrees(t, c, s, gone...)
		// A deferred update that does not build on the tip writes nothing.
		stale := *gone[0]
		stale.Deferred = true
		if err := s.ConnectBlock(&stale); err == nil {
			t.Fatal("a deferred connect of a block whose parent is not the tip was accepted")
		}
		CheckAgrees(t, c, s, gone...)
		MustConnect(t, s, c.Next(t, TxsPerBlock)) // synced: ends the group
		CheckAgrees(t, c, s, gone...)
		if err := s.Sync(); err != nil {
			t.Fatalf("Sync with nothing pending: %v", err)
		}
	})
}

func testConnectDisconnectRefused(t *testing.T, open Opener) {
	forEach(t, open, func(t *testing.T, c *Chain, s store.Store) {
		g := c.Genesis(t)
		c.History = nil // the store is still empty
		h1 := c.Build(TxsPerBlock)
		if err := s.ConnectBlock(&store.Update{Hash: h1.Hash(), Block: h1, Undo: &state.Undo{}}); err == nil {
			t.Fatal("a height-1 block was connected to an empty store")
		}
		if err := s.DisconnectBlock(g); err == nil {
			t.Fatal("disconnect from an empty store was accepted")
		}
		c.History = []*store.Update{g}
		MustConnect(t, s, g)
		for range 2 {
			MustConnect(t, s, c.Next(t, TxsPerBlock))
		}
		CheckAgrees(t, c, s)

		tipU := c.History[len(c.History)-1]
		parentU := c.History[len(c.History)-2]
		sibling := c.Build(TxsPerBlock) // on the tip
		sibling.Header.PrevHash = parentU.Hash
		orphan := c.Build(TxsPerBlock)
		orphan.Header.PrevHash = chain.Hash{9}
		badHeight := c.Build(TxsPerBlock)
		badHeight.Header.Height++
		good := c.Build(TxsPerBlock)
		undo := &state.Undo{}
		refused := map[string]func() error{
			"parent is not the tip": func() error {
				return s.ConnectBlock(&store.Update{Hash: sibling.Hash(), Block: sibling, Undo: undo})
			},
			"unknown parent": func() error {
				return s.ConnectBlock(&store.Update{Hash: orphan.Hash(), Block: orphan, Undo: undo})
			},
			"height does not follow": func() error {
				return s.ConnectBlock(&store.Update{Hash: badHeight.Hash(), Block: badHeight, Undo: undo})
			},
			"tip connected again": func() error { return s.ConnectBlock(tipU) },
			"hash is not the block's": func() error {
				return s.ConnectBlock(&store.Update{Hash: chain.Hash{7}, Block: good, Undo: undo})
			},
			"no undo record": func() error { return s.ConnectBlock(&store.Update{Hash: good.Hash(), Block: good}) },
			"no block":       func() error { return s.ConnectBlock(&store.Update{Hash: good.Hash(), Undo: undo}) },
			"nil update":     func() error { return s.ConnectBlock(nil) },
			"disconnect a block below the tip": func() error {
				return s.DisconnectBlock(&store.Update{Hash: parentU.Hash, Block: parentU.Block})
			},
			"disconnect a block not connected": func() error {
				return s.DisconnectBlock(&store.Update{Hash: good.Hash(), Block: good})
			},
			"disconnect with a hash that is not the block's": func() error {
				return s.DisconnectBlock(&store.Update{Hash: tipU.Hash, Block: parentU.Block})
			},
		}
		for name, f := range refused {
			if err := f(); err == nil {
				t.Fatalf("%s: accepted", name)
			}
			CheckAgrees(t, c, s)
			if _, err := s.Block(good.Hash()); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: a refused update stored its block (err %v)", name, err)
			}
		}
		// The store still works.
		MustConnect(t, s, c.Next(t, TxsPerBlock))
		CheckAgrees(t, c, s)
	})
}

func testCallbackErrorStopsIteration(t *testing.T, open Opener) {
	forEach(t, open, func(t *testing.T, c *Chain, s store.Store) {
		MustConnect(t, s, c.Genesis(t))
		MustConnect(t, s, c.Next(t, TxsPerBlock))
		stop := errors.New("stop here")
		calls := 0
		err := s.ForEachHeader(func(store.HeaderRecord) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Fatalf("ForEachHeader: err %v after %d calls, want the callback's error after 1", err, calls)
		}
		calls = 0
		err = s.ForEachAccount(func(chain.Address, state.Account) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Fatalf("ForEachAccount: err %v after %d calls, want the callback's error after 1", err, calls)
		}
		// A callback may use the store.
		if err := s.ForEachHeader(func(r store.HeaderRecord) error {
			_, err := s.Block(r.Header.Hash())
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})
}

func testClosed(t *testing.T, open Opener) {
	forEach(t, open, func(t *testing.T, c *Chain, s store.Store) {
		g := c.Genesis(t)
		MustConnect(t, s, g)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		_, _, tipErr := s.Tip()
		_, mainErr := s.MainHash(0)
		_, blockErr := s.Block(g.Hash)
		_, undoErr := s.Undo(g.Hash)
		_, txErr := s.TxLocation(g.Block.Txs[0].ID())
		_, histErr := s.AddressHistory(g.Block.Txs[0].To, nil, 1)
		_, startErr := s.StartSync()
		for name, err := range map[string]error{
			"Tip":             tipErr,
			"MainHash":        mainErr,
			"Block":           blockErr,
			"Undo":            undoErr,
			"TxLocation":      txErr,
			"AddressHistory":  histErr,
			"PutBlock":        s.PutBlock(g.Hash, g.Block),
			"MarkInvalid":     s.MarkInvalid(g.Hash),
			"ConnectBlock":    s.ConnectBlock(c.Next(t, TxsPerBlock)),
			"DisconnectBlock": s.DisconnectBlock(g),
			"Sync":            s.Sync(),
			"StartSync":       startErr,
			"ForEachHeader":   s.ForEachHeader(func(store.HeaderRecord) error { return nil }),
			"ForEachAccount":  s.ForEachAccount(func(chain.Address, state.Account) error { return nil }),
			"Close":           s.Close(),
		} {
			if !errors.Is(err, store.ErrClosed) {
				t.Errorf("%s after Close: err = %v, want ErrClosed", name, err)
			}
		}
	})
}

// testConcurrentUse connects blocks while other goroutines read; run with
// -race. Readers must always see a tip whose height index entry exists.
func testConcurrentUse(t *testing.T, open Opener) {
	const (
		readers = 2
		blocks  = 20
	)
	forEach(t, open, func(t *testing.T, c *Chain, s store.Store) {
		MustConnect(t, s, c.Genesis(t))
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
						err = s.ForEachHeader(func(store.HeaderRecord) error { return nil })
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		for range blocks {
			MustConnect(t, s, c.Next(t, TxsPerBlock))
		}
		close(done)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		CheckAgrees(t, c, s)
	})
}

// expectedHistory derives every address's history from the test chain,
// oldest first, without the stores' own AddressEntries.
func expectedHistory(c *Chain) map[chain.Address][]store.HistoryEntry {
	m := make(map[chain.Address][]store.HistoryEntry)
	for h, u := range c.History {
		for i, tx := range u.Block.Txs {
			e := store.HistoryEntry{TxPosition: store.TxPosition{Height: uint32(h), Index: i}, TxID: tx.ID(),
				Amount: tx.Amount, Fee: tx.Fee, Nonce: tx.Nonce}
			switch from := tx.Sender(); {
			case tx.IsCoinbase():
				e.Received, e.Coinbase = true, true
				m[tx.To] = append(m[tx.To], e)
			case from == tx.To:
				e.Sent, e.Received, e.Counterparty = true, true, from
				m[from] = append(m[from], e)
			default:
				sent, recv := e, e
				sent.Sent, sent.Counterparty = true, tx.To
				recv.Received, recv.Counterparty = true, from
				m[from] = append(m[from], sent)
				m[tx.To] = append(m[tx.To], recv)
			}
		}
	}
	return m
}

// CheckHistory checks the address index against the test chain: every
// address of the main chain and of the gone blocks has exactly its
// main-chain history, newest first, the same whole and paged.
func CheckHistory(t *testing.T, c *Chain, s store.Store, gone ...*store.Update) {
	t.Helper()
	want := expectedHistory(c)
	addrs := make(map[chain.Address]bool)
	for a := range want {
		addrs[a] = true
	}
	for _, u := range gone {
		for _, tx := range u.Block.Txs {
			addrs[tx.To] = true
			if !tx.IsCoinbase() {
				addrs[tx.Sender()] = true
			}
		}
	}
	for a := range addrs {
		w := want[a]
		all, err := s.AddressHistory(a, nil, store.MaxHistoryPage)
		if err != nil {
			t.Fatalf("AddressHistory(%x): %v", a, err)
		}
		if len(all) != len(w) {
			t.Fatalf("AddressHistory(%x) has %d entries, want %d", a, len(all), len(w))
		}
		for i, e := range all {
			if e != w[len(w)-1-i] {
				t.Fatalf("AddressHistory(%x) entry %d = %+v, want %+v", a, i, e, w[len(w)-1-i])
			}
		}
		// Paged by 2 from the newest, each page starting before the last
		// entry of the one before.
		var paged []store.HistoryEntry
		var before *store.TxPosition
		for {
			page, err := s.AddressHistory(a, before, 2)
			if err != nil {
				t.Fatalf("AddressHistory(%x) page: %v", a, err)
			}
			paged = append(paged, page...)
			if len(page) < 2 {
				break
			}
			pos := page[len(page)-1].TxPosition
			before = &pos
		}
		if len(paged) != len(all) {
			t.Fatalf("AddressHistory(%x) paged by 2 gives %d entries, whole %d", a, len(paged), len(all))
		}
		for i := range paged {
			if paged[i] != all[i] {
				t.Fatalf("AddressHistory(%x) paged entry %d = %+v, whole %+v", a, i, paged[i], all[i])
			}
		}
	}
}

// testAddressHistoryPaging checks an address with a long history, cursors
// between and beyond entries, and refused limits.
func testAddressHistoryPaging(t *testing.T, open Opener) {
	forEach(t, open, func(t *testing.T, c *Chain, s store.Store) {
		MustConnect(t, s, c.Genesis(t))
		for range 12 {
			MustConnect(t, s, c.Next(t, 20))
		}
		CheckAgrees(t, c, s)
		a := c.History[0].Block.Txs[0].To // a pool key: in many blocks
		all, err := s.AddressHistory(a, nil, store.MaxHistoryPage)
		if err != nil || len(all) < 12 {
			t.Fatalf("history of a busy address: %d entries, %v", len(all), err)
		}
		mid := all[len(all)/2].TxPosition
		page, err := s.AddressHistory(a, &mid, 5)
		if err != nil || len(page) != 5 || page[0] != all[len(all)/2+1] {
			t.Fatalf("page before %+v: %+v, %v; want 5 entries from %+v", mid, page, err, all[len(all)/2+1])
		}
		between := store.TxPosition{Height: mid.Height, Index: mid.Index + 1} // not an entry of a (or the next one)
		page, err = s.AddressHistory(a, &between, 1)
		if err != nil || len(page) != 1 || page[0] != all[len(all)/2] {
			t.Fatalf("page before %+v: %+v, %v; want the entry at %+v", between, page, err, mid)
		}
		far := store.TxPosition{Height: 1 << 30}
		if page, err := s.AddressHistory(a, &far, 3); err != nil || len(page) != 3 || page[0] != all[0] {
			t.Fatalf("page before a far height: %+v, %v", page, err)
		}
		first := store.TxPosition{}
		if page, err := s.AddressHistory(a, &first, 3); err != nil || len(page) != 0 {
			t.Fatalf("page before the first position: %+v, %v", page, err)
		}
		var nobody chain.Address
		nobody[0] = 0xee
		if page, err := s.AddressHistory(nobody, nil, 10); err != nil || len(page) != 0 {
			t.Fatalf("history of an unknown address: %+v, %v", page, err)
		}
		for _, limit := range []int{0, -1, store.MaxHistoryPage + 1} {
			if _, err := s.AddressHistory(a, nil, limit); err == nil {
				t.Fatalf("limit %d accepted", limit)
			}
		}
	})
}
