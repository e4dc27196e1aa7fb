package pebble

import (
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/chaind/chaind/store"
)

// Free-space reserve of a data directory.
const (
	// DefaultMinFreeBytes is the free space the store keeps on its
	// filesystem: below it, writes are refused with store.ErrDiskFull
	// before Pebble can meet a full disk in the middle of a write-ahead
	// log record or a compaction (which it cannot recover from without a
	// restart), and Open refuses to start.
	DefaultMinFreeBytes = 64 << 20
	// spaceRecheck is how long a free-space reading is trusted while the
	// free space is well above the reserve (four times it): the store
	// itself cannot write that much in this time, and a statfs per write
	// would cost about 2% of the connect rate.
	spaceRecheck = 100 * time.Millisecond
)

// WithMinFreeBytes sets the free-space reserve (DefaultMinFreeBytes).
func WithMinFreeBytes(n uint64) Option {
	return func(o *openOptions) { o.minFree = n }
}

// freeBytes returns the bytes an unprivileged process may still write on
// dir's filesystem.
func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", dir, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}

// spaceGuard refuses writes when the filesystem's free space is below the
// reserve. Safe for concurrent use.
type spaceGuard struct {
	dir string
	min uint64

	mu      sync.Mutex
	checked time.Time
	free    uint64
}

// check returns an error wrapping store.ErrDiskFull when the free space
// is below the reserve. It reads the free space again unless a recent
// reading was well above the reserve.
func (g *spaceGuard) check() error {
	if g.min == 0 {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if now.Sub(g.checked) < spaceRecheck && g.free > 4*g.min {
		return nil
	}
	free, err := freeBytes(g.dir)
	if err != nil {
		return nil // unknown: let the write try, it reports its own error
	}
	g.free, g.checked = free, now
	if free < g.min {
		return fmt.Errorf("%w: %s has %s free, below the %s the store keeps in reserve; free space on its filesystem (or move the data directory)",
			store.ErrDiskFull, g.dir, mib(free), mib(g.min))
	}
	return nil
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// SpaceOK returns nil when the data directory has the free space the
// store needs to write, or an error wrapping store.ErrDiskFull. A node
// polls it to stop and resume the work that writes.
func (p *Store) SpaceOK() error {
	if p.closed.Load() {
		return store.ErrClosed
	}
	return p.space.check()
}
