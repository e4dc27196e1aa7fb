package pebble

import (
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
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

// newestLog returns the path of the newest write-ahead log in dir.
func newestLog(t *testing.T, dir string) string {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no write-ahead log in %s: %v", dir, err)
	}
	slices.Sort(logs) // numbered with leading zeros
	return logs[len(logs)-1]
}

// copyDir copies the regular files of src into a new directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// pebbleTip is the tip Pebble alone recovers from dir (no check of ours).
func pebbleTip(t *testing.T, dir string) chain.Hash {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{quietLogger()}})
	if err != nil {
		t.Fatalf("pebble alone refuses the damaged log: %v", err)
	}
	defer db.Close()
	v, closer, err := db.Get(tipKey)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	tip, err := decodeHash(v)
	if err != nil {
		t.Fatal(err)
	}
	return tip
}

// TestDamagedWALTail damages the last records of the newest write-ahead
// log, where no valid record follows: Pebble alone reads that as a crash's
// torn tail and opens on an older tip without a word, losing synced
// blocks. Open compares the recovered log with the record of the last
// synced write and refuses with store.ErrCorrupt.
func TestDamagedWALTail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(data []byte) []byte
	}{
		{"truncated", func(d []byte) []byte { return d[:len(d)*3/4] }},
		{"zeroed", func(d []byte) []byte { clear(d[len(d)*3/4:]); return d }},
		{"bit flips", func(d []byte) []byte {
			for i := len(d) * 3 / 4; i < len(d); i += 512 {
				d[i] ^= 0x10
			}
			return d
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := storetest.NewChain(1, storetest.Pool, false, true)
			buildStore(t, dir, c, 200)
			want := c.History[len(c.History)-1].Hash
			path := newestLog(t, dir)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.damage(data), 0o600); err != nil {
				t.Fatal(err)
			}
			if tip := pebbleTip(t, copyDir(t, dir)); tip == want {
				t.Skip("the damage hit no record Pebble replays; nothing lost")
			}
			p, err := Open(dir, storetest.Network, c.GenesisBlock().Hash(), WithLogger(quietLogger()))
			if err == nil {
				tip, _, _ := p.Tip()
				p.Close()
				t.Fatalf("opened on tip %s (want %s or an error): synced blocks silently lost", tip, want)
			}
			if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "resync") {
				t.Fatalf("damaged log tail gives %v; want store.ErrCorrupt naming the directory and what to do", err)
			}
			t.Logf("reported as: %v", err)
		})
	}
}

// TestSyncedRecordAllowsCrashes: the record of the last synced write one
// step behind the log (a crash between a sync and the record's write), or
// unreadable (torn by a power loss), or absent (a store from before it)
// never stops a sound store from opening.
func TestSyncedRecordAllowsCrashes(t *testing.T) {
	dir := t.TempDir()
	c := storetest.NewChain(1, storetest.Pool, false, true)
	buildStore(t, dir, c, 20)
	path := filepath.Join(dir, SyncedFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := decodeSynced(data)
	if err != nil || seq != 21 {
		t.Fatalf("record after genesis and 20 synced blocks: %d, %v; want 21", seq, err)
	}
	for name, content := range map[string][]byte{
		"behind":     encodeSynced(seq - 1),
		"torn":       append(encodeSynced(seq + 5)[:10], make([]byte, syncedSize-10)...),
		"bad length": []byte("x"),
		"too long":   append(encodeSynced(seq+5), "junk"...),
		"absent":     nil,
	} {
		if content == nil {
			err = os.Remove(path)
		} else {
			err = os.WriteFile(path, content, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
		p, err := Open(dir, storetest.Network, c.GenesisBlock().Hash(), WithLogger(quietLogger()))
		if err != nil {
			t.Fatalf("%s record: %v", name, err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// A sync after a bad record leaves a good one.
	p := openTestStore(t, dir, c)
	if err := p.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(path); err != nil {
		t.Fatal(err)
	} else if got, err := decodeSynced(data); err != nil || got != seq {
		t.Fatalf("record after a sync: %d, %v; want %d", got, err, seq)
	}
	// Ahead of the log: synced writes are missing.
	if err := os.WriteFile(path, encodeSynced(seq+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, storetest.Network, c.GenesisBlock().Hash(), WithLogger(quietLogger())); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("a record ahead of the log: %v, want store.ErrCorrupt", err)
	}
}

// TestStartSyncRecordsWhatItCovers: a sync started in the background
// records, once waited for, the last write committed before it started,
// not the writes committed while it ran.
func TestStartSyncRecordsWhatItCovers(t *testing.T) {
	dir := t.TempDir()
	c := storetest.NewChain(1, storetest.Pool, false, true)
	p := openTestStore(t, dir, c)
	storetest.MustConnect(t, p, c.Genesis(t)) // synced: write 1
	deferred := func(n int) {
		for range n {
			u := c.Next(t, storetest.TxsPerBlock)
			u.Deferred = true
			storetest.MustConnect(t, p, u)
		}
	}
	deferred(5) // writes 2..6
	wait, err := p.StartSync()
	if err != nil {
		t.Fatal(err)
	}
	deferred(3) // writes 7..9, after the sync started
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if got := p.synced.last; got != 6 {
		t.Fatalf("record after a sync started at write 6: %d", got)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.StartSync(); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("StartSync after Close: %v, want ErrClosed", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, SyncedFile))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := decodeSynced(data); err != nil || got != 6 {
		t.Fatalf("synced file after the sync: %d, %v; want 6", got, err)
	}
	q := openTestStore(t, dir, c)
	defer q.Close()
	if tip, _, _ := q.Tip(); tip != c.History[len(c.History)-1].Hash {
		t.Fatalf("reopened on %s, want the last block written", tip)
	}
}
