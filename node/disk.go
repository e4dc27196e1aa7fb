package node

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/chaind/chaind/store"
)

// DiskCheckInterval is how often the node looks at its data directory's
// free space to stop mining and accepting on a full disk, and to resume.
const DiskCheckInterval = time.Second

// ErrDiskFull is returned by SubmitTxs and Send while the data directory's
// disk is full: the node accepts nothing it could not keep.
var ErrDiskFull = errors.New("the node's disk is full: it accepts no transactions until space is freed")

// diskTrouble is called with a write error from any part of the node: on
// a full disk it stops the work that writes at once, instead of at the
// next check.
func (n *Node) diskTrouble(err error) {
	if errors.Is(err, store.ErrDiskFull) || errors.Is(err, syscall.ENOSPC) {
		n.setDiskFull(err)
		return
	}
	n.log.Error("write failed", "err", err)
}

// setDiskFull enters the disk-full state: transactions are refused at
// once, mining stops at the next check, reads go on. It logs once per
// episode.
func (n *Node) setDiskFull(cause error) {
	n.diskMu.Lock()
	defer n.diskMu.Unlock()
	if n.diskFull.Load() {
		return
	}
	n.diskFull.Store(true)
	n.log.Error("disk full: mining and accepting blocks and transactions stopped; the API keeps serving reads; "+
		"free space on the data directory's filesystem and the node resumes by itself",
		"datadir", n.cfg.DataDir, "err", cause)
}

// clearDiskFull leaves the disk-full state.
func (n *Node) clearDiskFull() {
	n.diskMu.Lock()
	defer n.diskMu.Unlock()
	if !n.diskFull.Load() {
		return
	}
	n.diskFull.Store(false)
	n.log.Info("disk space is back: accepting and mining again", "datadir", n.cfg.DataDir)
}

// applyDiskState stops the miner while the disk is full and starts it
// again afterwards if it ran before. It runs on the disk watch's own
// goroutine, never inside the miner (whose Stop waits for its loop).
func (n *Node) applyDiskState() {
	n.diskMu.Lock()
	defer n.diskMu.Unlock()
	switch running := n.Miner.Stats().Running; {
	case n.stopping:
	case n.diskFull.Load() && running:
		n.minerWasOn = true
		n.Miner.Stop()
	case !n.diskFull.Load() && n.minerWasOn:
		n.minerWasOn = false
		if !running {
			n.Miner.Start()
		}
	}
}

// DiskFull reports whether the node stopped writing work for a full disk.
func (n *Node) DiskFull() bool { return n.diskFull.Load() }

// spaceChecker is a store that watches its free space (store/pebble).
type spaceChecker interface{ SpaceOK() error }

// watchDisk checks the store's free space every DiskCheckInterval until
// ctx ends, entering and leaving the disk-full state.
func (n *Node) watchDisk(ctx context.Context) {
	t := time.NewTicker(DiskCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var err error
		if sc, ok := n.Store.(spaceChecker); ok {
			err = sc.SpaceOK()
		}
		switch {
		case err == nil && n.diskFull.Load():
			// The store has room again; the journal must too (a
			// compaction proves it and drops a log cut by the full disk).
			if jerr := n.Journal.Compact(); jerr == nil {
				n.clearDiskFull()
			}
		case errors.Is(err, store.ErrDiskFull):
			n.setDiskFull(err)
		}
		n.applyDiskState()
	}
}

// checkAccepting refuses work that writes while the disk is full.
func (n *Node) checkAccepting() error {
	if n.diskFull.Load() {
		return ErrDiskFull
	}
	return nil
}

func diskFullErrs(k int) []error {
	errs := make([]error, k)
	for i := range errs {
		errs[i] = ErrDiskFull
	}
	return errs
}
