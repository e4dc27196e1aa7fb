package pebble

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/store/storetest"
)

// mountTmpfs mounts a tmpfs of size bytes on a fresh directory and
// unmounts it at cleanup; it skips the test where mounting is not allowed.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a ballast file until dir's filesystem has about leave bytes
// free, and returns its path.
func fill(t *testing.T, dir string, leave uint64) string {
	t.Helper()
	free, err := freeBytes(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "ballast")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for free > leave+uint64(len(chunk)) {
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
		free -= uint64(len(chunk))
	}
	return p
}

// TestDiskFull fills the filesystem of a store: writes are refused with
// ErrDiskFull and write nothing, reads go on, the same write succeeds once
// space is freed, and Open on a full disk fails at once with a clear error.
func TestDiskFull(t *testing.T) {
	tmp := mountTmpfs(t, "48m")
	dir := filepath.Join(tmp, "chain")
	c := storetest.NewChain(1, storetest.Pool, false, true)
	const reserve = 8 << 20
	p, err := Open(dir, storetest.Network, c.GenesisBlock().Hash(), WithLogger(quietLogger()), WithMinFreeBytes(reserve))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() }) // before the unmount, if the test fails early
	storetest.MustConnect(t, p, c.Genesis(t))
	for range 3 {
		storetest.MustConnect(t, p, c.Next(t, storetest.TxsPerBlock))
	}
	ballast := fill(t, tmp, reserve/2)
	time.Sleep(spaceRecheck) // the last reading was far above the reserve

	u := c.Next(t, storetest.TxsPerBlock)
	err = p.ConnectBlock(u)
	if !errors.Is(err, store.ErrDiskFull) {
		t.Fatalf("connect on a full disk: err = %v, want ErrDiskFull", err)
	}
	if err := p.PutBlock(u.Hash, u.Block); !errors.Is(err, store.ErrDiskFull) {
		t.Fatalf("put block on a full disk: err = %v, want ErrDiskFull", err)
	}
	if !errors.Is(p.SpaceOK(), store.ErrDiskFull) {
		t.Fatal("SpaceOK says there is room on a full disk")
	}
	// Reads go on, and nothing of the refused block was written.
	tip, _, err := p.Tip()
	if err != nil || tip != c.History[len(c.History)-2].Hash {
		t.Fatalf("tip on a full disk: %s %v", tip, err)
	}
	if _, err := p.Block(u.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused block: err = %v, want ErrNotFound", err)
	}

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	if err := p.SpaceOK(); err != nil {
		t.Fatalf("SpaceOK after freeing space: %v", err)
	}
	storetest.MustConnect(t, p, u) // the same write, now that there is room
	storetest.CheckAgrees(t, c, p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	fill(t, tmp, reserve/2)
	_, err = Open(dir, storetest.Network, c.GenesisBlock().Hash(), WithLogger(quietLogger()), WithMinFreeBytes(reserve))
	if !errors.Is(err, store.ErrDiskFull) {
		t.Fatalf("open on a full disk: err = %v, want ErrDiskFull", err)
	}
	t.Logf("open on a full disk says: %v", err)
}
