package blockchain

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/store"
)

// Bounds of a group commit: while catching up, the chain writes several
// connected blocks as deferred store updates and syncs them together.
const (
	// MaxGroupBlocks bounds the blocks connected between two syncs.
	MaxGroupBlocks = 512
	// MaxGroupBytes bounds the encoded size of the blocks connected
	// between two syncs.
	MaxGroupBytes = 32 << 20
	// MaxGroupAge bounds how long a connected block waits to be synced
	// while more blocks keep coming.
	MaxGroupAge = 500 * time.Millisecond
	// CatchUpBacklog: with at least this many downloaded blocks queued
	// behind the one being processed, the chain is catching up whatever
	// its tip's age.
	CatchUpBacklog = 16
	// MinCatchUpTipAge is the least age of the tip's timestamp for the
	// chain to count as catching up; networks with slow blocks use
	// CatchUpTipSpacings target spacings instead when that is longer.
	MinCatchUpTipAge = 10 * time.Minute
	// CatchUpTipSpacings: a tip older than this many target block
	// spacings means the chain is catching up.
	CatchUpTipSpacings = 144
)

// group is the open group of deferred store updates. Guarded by mu.
type group struct {
	blocks int       // deferred updates written since the last sync
	bytes  int       // their blocks' encoded size
	start  time.Time // when the first of them was written
}

// Timings are cumulative times spent by the chain, for benchmarks and
// metrics: where the time of a sync goes.
type Timings struct {
	Connected int           // blocks connected
	Syncs     int           // synced store writes (synced updates and Syncs)
	Validate  time.Duration // signature checks and applying blocks to the state
	Store     time.Duration // store writes of connects and disconnects, syncs included
	Sync      time.Duration // of Store, the part spent in synced writes and Syncs
}

// timings are the counters behind Timings, updated with atomics so
// readers need no lock.
type timings struct {
	connected, syncs        atomic.Int64
	validate, write, synced atomic.Int64 // nanoseconds
}

// Timings returns the cumulative timings since the chain was opened.
// Safe for concurrent use.
func (bc *Blockchain) Timings() Timings {
	return Timings{
		Connected: int(bc.times.connected.Load()),
		Syncs:     int(bc.times.syncs.Load()),
		Validate:  time.Duration(bc.times.validate.Load()),
		Store:     time.Duration(bc.times.write.Load()),
		Sync:      time.Duration(bc.times.synced.Load()),
	}
}

// catchingUp says whether the chain is catching up, from its own state
// only: the tip is old, or the caller holds many downloaded blocks to
// process next. A peer's claim plays no part. Called with mu held.
func (bc *Blockchain) catchingUp() bool {
	if bc.queued <= 0 || bc.noGroup {
		return false // nothing follows: the group would never be closed by a next block
	}
	if bc.queued >= CatchUpBacklog {
		return true
	}
	age := max(MinCatchUpTipAge, time.Duration(CatchUpTipSpacings*bc.params.TargetSpacing)*time.Second)
	tipTime := time.Unix(int64(bc.main.tip().header.Timestamp), 0)
	return bc.now().Sub(tipTime) > age
}

// groupOpen says whether the next update may be deferred: the chain is
// catching up and the open group is within its bounds. Called with mu held.
func (bc *Blockchain) groupOpen() bool {
	return bc.groupRoom() && bc.catchingUp()
}

// groupRoom says whether the open group is within its bounds. Called with
// mu held.
func (bc *Blockchain) groupRoom() bool {
	g := &bc.group
	if bc.noGroup || g.blocks >= MaxGroupBlocks || g.bytes >= MaxGroupBytes {
		return false
	}
	return g.blocks == 0 || bc.now().Sub(g.start) < MaxGroupAge
}

// writeUpdate writes u through write (the store's ConnectBlock or
// DisconnectBlock), deferred when defer is set, and keeps the group's
// books. Called with mu held.
func (bc *Blockchain) writeUpdate(u *store.Update, deferred bool, write func(*store.Update) error) error {
	u.Deferred = deferred
	start := time.Now()
	err := write(u)
	took := time.Since(start)
	bc.times.write.Add(int64(took))
	if err != nil {
		return err
	}
	if !deferred {
		bc.times.synced.Add(int64(took))
		bc.times.syncs.Add(1)
		bc.group = group{}
		return nil
	}
	if bc.group.blocks == 0 {
		bc.group.start = bc.now()
	}
	bc.group.blocks++
	bc.group.bytes += u.Block.Size()
	return nil
}

// syncGroup syncs the open group, if any. Called with mu held.
func (bc *Blockchain) syncGroup() error {
	if bc.group.blocks == 0 {
		return nil
	}
	n := bc.group.blocks
	start := time.Now()
	err := bc.store.Sync()
	took := time.Since(start)
	bc.times.write.Add(int64(took))
	bc.times.synced.Add(int64(took))
	bc.times.syncs.Add(1)
	if err != nil {
		return fmt.Errorf("sync %d grouped blocks: %w", n, err)
	}
	bc.group = group{}
	return nil
}

// ProcessBlockQueued is ProcessBlock for a caller that holds queued more
// blocks to process right after b (a download's next blocks, in order). It
// lets the chain group commits while catching up: with queued > 0 and the
// chain catching up (its tip is older than CatchUpTipSpacings target
// spacings, at least MinCatchUpTipAge, or queued >= CatchUpBacklog), a
// connected block is written without a sync and made durable with a later
// block of the group, at most MaxGroupBlocks, MaxGroupBytes and
// MaxGroupAge later. A call with queued == 0 (and ProcessBlock) ends the
// group: everything is synced before it returns. A caller that stops
// before the queued blocks calls Flush.
func (bc *Blockchain) ProcessBlockQueued(b *chain.Block, flags Flags, queued int) (Result, error) {
	bc.procMu.Lock()
	defer bc.procMu.Unlock()
	if bc.closed {
		return Result{}, ErrClosed
	}
	var events []Notification
	bc.mu.Lock()
	bc.queued = queued
	bc.mu.Unlock()
	res, err := bc.processBlock(b, flags, &events)
	bc.mu.Lock()
	var serr error
	if !bc.groupOpen() {
		serr = bc.syncGroup()
	}
	bc.queued = 0
	bc.mu.Unlock()
	bc.notify(events)
	if err == nil {
		err = serr
	}
	return res, err
}

// Flush syncs the blocks connected by ProcessBlockQueued calls whose
// group is still open. Safe for concurrent use.
func (bc *Blockchain) Flush() error {
	bc.procMu.Lock()
	defer bc.procMu.Unlock()
	bc.mu.Lock()
	defer bc.mu.Unlock()
	return bc.syncGroup()
}
