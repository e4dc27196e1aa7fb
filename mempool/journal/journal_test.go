package journal_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/mempool/journal"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/wallet"
)

type fixture struct {
	p    *consensus.Params
	keys []*wallet.Key
	bc   *blockchain.Blockchain
}

func newFixture(t *testing.T) *fixture {
	keys := chaintest.Keys(4)
	p := chaintest.Params(keys, 1_000_000)
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: store.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{p: p, keys: keys, bc: bc}
}

// txs makes n transfers from key 1, nonces 0..n-1.
func (f *fixture) txs(n int) []*chain.Tx {
	var out []*chain.Tx
	for i := 0; i < n; i++ {
		out = append(out, chaintest.Tx(f.p, f.keys[1], f.keys[2].Address(), 10, 1, uint64(i)))
	}
	return out
}

// open starts a pool and a journal in dir, loads it and logs every
// admission, as the node does.
func (f *fixture) open(t *testing.T, dir string) (*mempool.Pool, *journal.Journal, journal.Stats) {
	t.Helper()
	pool := mempool.New(f.bc, mempool.Config{})
	j, err := journal.Open(dir, f.p.GenesisHash(), pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := j.Load()
	if err != nil {
		t.Fatal(err)
	}
	pool.Subscribe(func(tx *chain.Tx) {
		if err := j.Append(tx); err != nil {
			t.Error(err)
		}
	})
	return pool, j, st
}

func add(t *testing.T, pool *mempool.Pool, txs []*chain.Tx) {
	t.Helper()
	for _, tx := range txs {
		if err := pool.Add(tx); err != nil {
			t.Fatal(err)
		}
	}
}

func sameTxs(t *testing.T, pool *mempool.Pool, want []*chain.Tx) {
	t.Helper()
	if pool.Len() != len(want) {
		t.Fatalf("pool holds %d transactions, want %d", pool.Len(), len(want))
	}
	for _, tx := range want {
		if !pool.Has(tx.ID()) {
			t.Fatalf("transaction %s missing", tx.ID())
		}
	}
}

func TestCleanRestartKeepsPool(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	pool, j, _ := f.open(t, dir)
	txs := f.txs(20)
	add(t, pool, txs)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	pool2, j2, st := f.open(t, dir)
	defer j2.Close()
	sameTxs(t, pool2, txs)
	if st.Snapshot != 20 || st.Logged != 0 || st.Admitted != 20 || len(st.Problems) != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestCrashKeepsLoggedTxs abandons the journal without Close (as SIGKILL
// does): the log alone brings every admitted transaction back.
func TestCrashKeepsLoggedTxs(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	pool, _, _ := f.open(t, dir)
	txs := f.txs(30)
	add(t, pool, txs)
	pool2, j2, st := f.open(t, dir)
	defer j2.Close()
	sameTxs(t, pool2, txs)
	if st.Logged != 30 || len(st.Problems) != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestTornTailIsQuiet cuts the log in the middle of its last record: the
// records before it load, nothing is reported.
func TestTornTailIsQuiet(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	pool, _, _ := f.open(t, dir)
	txs := f.txs(5)
	add(t, pool, txs)
	p := filepath.Join(dir, journal.LogFile)
	fi, _ := os.Stat(p)
	if err := os.Truncate(p, fi.Size()-7); err != nil {
		t.Fatal(err)
	}
	pool2, j2, st := f.open(t, dir)
	defer j2.Close()
	sameTxs(t, pool2, txs[:4])
	if len(st.Problems) != 0 {
		t.Fatalf("a torn last record was reported: %v", st.Problems)
	}
}

// TestDamageIsReportedAndSetAside flips a bit in the middle of the log and
// in the snapshot: each is reported and moved aside, what can be read is
// kept, and Load does not fail.
func TestDamageIsReportedAndSetAside(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name       string
		file       string
		closeJ     bool // snapshot (Close) or log (crash)
		keepAtMost int
	}{
		{"log", journal.LogFile, false, 9},
		{"snapshot", journal.SnapshotFile, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pool, j, _ := f.open(t, dir)
			txs := f.txs(20)
			add(t, pool, txs)
			if tc.closeJ {
				if err := j.Close(); err != nil {
					t.Fatal(err)
				}
			}
			p := filepath.Join(dir, tc.file)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 0x10
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			pool2, j2, st := f.open(t, dir)
			defer j2.Close()
			if len(st.Problems) != 1 || len(st.SetAside) != 1 {
				t.Fatalf("damage not reported: %+v", st)
			}
			aside, err := os.ReadFile(st.SetAside[0])
			if err != nil || !bytes.Equal(aside, data) {
				t.Fatalf("the damaged file was not kept aside: %v", err)
			}
			if pool2.Len() > tc.keepAtMost || (tc.file == journal.LogFile && pool2.Len() == 0) {
				t.Fatalf("kept %d transactions after damage, want 1..%d for the log, 0 for the snapshot", pool2.Len(), tc.keepAtMost)
			}
		})
	}
}

func TestForeignFiles(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, journal.SnapshotFile), []byte("not a mempool at all, just text"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := newFixture(t)
	other.p = chaintest.Params(chaintest.Keys(5), 7)
	pool, j, _ := other.open(t, dir+"/other")
	add(t, pool, nil)
	j.Close()
	if err := os.Rename(filepath.Join(dir, "other", journal.SnapshotFile+""), filepath.Join(dir, journal.LogFile)); err != nil {
		t.Fatal(err)
	}
	_, j2, st := f.open(t, dir)
	defer j2.Close()
	if len(st.Problems) != 2 {
		t.Fatalf("want both files reported, got %+v", st)
	}
}

// TestRevalidated: transactions mined while the node was down are dropped
// on load, the rest admitted.
func TestRevalidated(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	pool, j, _ := f.open(t, dir)
	txs := f.txs(10)
	add(t, pool, txs)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	br := chaintest.NewBranch(f.p, f.keys)
	b := br.Next(txs[:4], chaintest.Spec{})
	if _, err := f.bc.ProcessBlock(b, blockchain.Requested); err != nil {
		t.Fatal(err)
	}
	pool2, j2, st := f.open(t, dir)
	defer j2.Close()
	sameTxs(t, pool2, txs[4:])
	if st.Admitted != 6 || st.Dropped != 4 {
		t.Fatalf("stats %+v, want 6 admitted, 4 dropped", st)
	}
}

// TestCompaction: past the compaction threshold the log becomes a
// snapshot, and a restart loads it.
func TestCompaction(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	pool, j, _ := f.open(t, dir)
	j.SetCompactAfter(10)
	txs := f.txs(25)
	add(t, pool, txs)
	fi, err := os.Stat(filepath.Join(dir, journal.LogFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 6*int64(txs[0].Size()+8)+64 {
		t.Fatalf("log of %d bytes after 25 records with compaction every 10", fi.Size())
	}
	pool2, j2, st := f.open(t, dir)
	defer j2.Close()
	sameTxs(t, pool2, txs)
	if st.Snapshot != 20 || st.Logged != 5 {
		t.Fatalf("stats %+v, want 20 from the snapshot and 5 from the log", st)
	}
}
