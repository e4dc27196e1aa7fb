package pebble

import (
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/state"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/store/storetest"
)

// readAll reads everything a node reads at start and later: every header,
// every account, and every main-chain block and undo record.
func readAll(p *Store) error {
	if err := p.ForEachHeader(func(store.HeaderRecord) error { return nil }); err != nil {
		return err
	}
	if err := p.ForEachAccount(func(chain.Address, state.Account) error { return nil }); err != nil {
		return err
	}
	tip, _, err := p.Tip()
	if err != nil {
		return err
	}
	for h := uint32(0); ; h++ {
		hash, err := p.MainHash(h)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := p.Block(hash); err != nil {
			return err
		}
		if _, err := p.Undo(hash); err != nil {
			return err
		}
		if hash == tip {
			return nil
		}
	}
}

// flipMiddle flips one bit in the middle of every file of dir whose name
// ends with suffix and returns how many it changed.
func flipMiddle(t *testing.T, dir, suffix string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), suffix) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(p)
		if err != nil || len(data) < 64 {
			continue
		}
		data[len(data)/3] ^= 0x04
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// TestDamagedFiles damages a store's tables and its write-ahead log: every
// case ends in an error that names the damage and says what to do (from
// Open or from a read), never a panic and never a store that reads back
// with blocks silently missing.
func TestDamagedFiles(t *testing.T) {
	for _, tc := range []struct {
		name   string
		suffix string
		flush  bool // move the records from the log into tables first
	}{
		{"table bit flip", ".sst", true},
		{"log bit flip", ".log", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := storetest.NewChain(1, storetest.Pool, false, true)
			buildStore(t, dir, c, 200)
			if tc.flush {
				db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{quietLogger()}})
				if err != nil {
					t.Fatal(err)
				}
				if err := errors.Join(db.Flush(), db.Close()); err != nil {
					t.Fatal(err)
				}
			}
			if flipMiddle(t, dir, tc.suffix) == 0 {
				t.Fatalf("no %s file to damage", tc.suffix)
			}
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic on a damaged store: %v\n%s", r, debug.Stack())
					}
				}()
				p, oerr := Open(dir, storetest.Network, c.GenesisBlock().Hash(), WithLogger(quietLogger()))
				if oerr != nil {
					err = oerr
					return
				}
				defer p.Close()
				err = readAll(p)
				if err == nil {
					// Nothing reported: then nothing may be missing.
					tip, _, _ := p.Tip()
					if tip != c.History[len(c.History)-1].Hash {
						t.Fatalf("damaged store opened without an error on an older tip %s: silent loss", tip)
					}
				}
			}()
			if err == nil {
				t.Skip("the flipped bit hit bytes no read checks (padding); the store is intact")
			}
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("damage gives %v; want an error wrapping store.ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "resync") {
				t.Fatalf("the error does not name the directory and what to do: %v", err)
			}
			t.Logf("damage reported as: %v", err)
		})
	}
}
