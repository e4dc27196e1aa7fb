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
	// wait waits for the sync of the group before, started when that
	// group closed while the chain went on catching up (store.StartSync),
	// and nil when none is running; waitBlocks is that group's size. At
	// most one such sync runs: the next group's close waits for it.
	wait       func() error
	waitBlocks int
}

// Timings are cumulative times spent by the chain, for benchmarks and
// metrics: where the time of a sync goes.
type Timings struct {
	Connected int           // blocks connected
	Syncs     int           // synced store writes (synced updates, Syncs and background group syncs started)
	Validate  time.Duration // signature checks and applying blocks to the state
	Store     time.Duration // store writes of connects and disconnects, syncs included
	Sync      time.Duration // of Store, the part spent in synced writes, Syncs, and starting and waiting for background group syncs
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
	if !deferred {
		// A synced write ends the group: the sync of the one before,
		// if it still runs, ends first.
		if err := bc.waitGroupSync(); err != nil {
			return err
		}
	}
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

// syncGroup syncs the open group, if any, and waits for the sync of the
// group before it, if it is still running. Called with mu held.
func (bc *Blockchain) syncGroup() error {
	if err := bc.waitGroupSync(); err != nil {
		return err
	}
	if bc.group.blocks == 0 {
		return nil
	}
	n := bc.group.blocks
	start := time.Now()
	err := bc.store.Sync()
	bc.syncTook(start)
	if err != nil {
		return fmt.Errorf("sync %d grouped blocks: %w", n, err)
	}
	bc.group = group{}
	return nil
}

// endGroup closes the open group when it may not grow. While the chain is
// still catching up, the group's sync is started and runs behind the
// next group's connects (after the sync of the group before has ended:
// one runs at a time); otherwise everything is synced before it returns.
// Either way a crash loses whole updates of a suffix only, as the store's
// log is sequential. Called with mu held.
func (bc *Blockchain) endGroup() error {
	switch {
	case bc.groupOpen():
		return nil
	case !bc.catchingUp() || bc.group.blocks == 0:
		return bc.syncGroup()
	}
	if err := bc.waitGroupSync(); err != nil {
		return err
	}
	n := bc.group.blocks
	start := time.Now()
	wait, err := bc.store.StartSync()
	bc.syncTook(start)
	if err != nil {
		return fmt.Errorf("sync %d grouped blocks: %w", n, err)
	}
	bc.group = group{wait: wait, waitBlocks: n}
	return nil
}

// waitGroupSync waits for the group sync started by endGroup, if one
// runs. Called with mu held.
func (bc *Blockchain) waitGroupSync() error {
	wait, n := bc.group.wait, bc.group.waitBlocks
	if wait == nil {
		return nil
	}
	bc.group.wait, bc.group.waitBlocks = nil, 0
	start := time.Now()
	err := wait()
	took := time.Since(start)
	bc.times.write.Add(int64(took))
	bc.times.synced.Add(int64(took))
	if err != nil {
		return fmt.Errorf("sync %d grouped blocks: %w", n, err)
	}
	return nil
}

// syncTook counts a sync (or its start) that began at start.
func (bc *Blockchain) syncTook(start time.Time) {
	took := time.Since(start)
	bc.times.write.Add(int64(took))
	bc.times.synced.Add(int64(took))
	bc.times.syncs.Add(1)
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
	serr := bc.endGroup()
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
