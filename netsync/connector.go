package netsync

import (
	"sync"
	"time"

	"github.com/chaind/chaind/chain"
)

// reportBatch is how many connected blocks the connector reports to the
// sync loop at once while more are queued: a fraction of BlockWindow, so
// the window reopens in steps worth a request.
const reportBatch = BlockWindow / 8

// connector connects downloaded blocks in the order the sync loop hands
// them on, in a goroutine of its own, so that requests go on while blocks
// are validated and written (and while a group of them is synced to
// disk). Blocks connected in a group the chain has not synced yet are
// synced after flushIdle without a next block, and when it stops.
type connector struct {
	s *Syncer

	mu    sync.Mutex
	items []connItem
	done  []connDone
	// in wakes the connector when items arrive; out wakes the sync loop
	// when reports are ready. Both hold at most one signal.
	in, out chan struct{}
	quit    chan struct{}
	exited  chan struct{}
}

func newConnector(s *Syncer) *connector {
	c := &connector{s: s, in: make(chan struct{}, 1), out: make(chan struct{}, 1),
		quit: make(chan struct{}), exited: make(chan struct{})}
	if !s.spawn(c.run) {
		close(c.exited)
	}
	return c
}

// push queues a block to connect. It never blocks.
func (c *connector) push(it connItem) {
	c.mu.Lock()
	c.items = append(c.items, it)
	c.mu.Unlock()
	signal(c.in)
}

// reports returns the reports made since the last call.
func (c *connector) reports() []connDone {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.done
	c.done = nil
	return d
}

// stop ends the connector after the block it is connecting, and waits.
func (c *connector) stop() {
	close(c.quit)
	<-c.exited
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (c *connector) run() {
	defer close(c.exited)
	defer func() {
		if err := c.s.chain.Flush(); err != nil {
			c.s.log.Error("sync of downloaded blocks failed", "err", err)
		}
	}()
	flush := time.NewTimer(time.Hour)
	flush.Stop()
	defer flush.Stop()
	failed := make(map[chain.Hash]bool) // blocks that failed, so their children are skipped
	for {
		select {
		case <-c.quit:
			return
		case <-flush.C:
			if err := c.s.chain.Flush(); err != nil {
				c.s.log.Error("sync of downloaded blocks failed", "err", err)
			}
			continue
		case <-c.in:
		}
		for {
			c.mu.Lock()
			if len(c.items) == 0 {
				c.mu.Unlock()
				break
			}
			it := c.items[0]
			c.items[0] = connItem{}
			c.items = c.items[1:]
			c.mu.Unlock()
			select {
			case <-c.quit:
				return
			default:
			}
			var err error
			if failed[it.block.Header.PrevHash] {
				err = errParentFailed
			} else {
				err = c.s.connect(it)
			}
			if err != nil {
				if len(failed) > BlockWindow {
					clear(failed)
				}
				failed[it.hash] = true
			}
			c.mu.Lock()
			c.done = append(c.done, connDone{hash: it.hash, height: it.block.Header.Height, err: err})
			// Reports go to the sync loop in batches while blocks keep
			// coming (each wakes it for a turn); at once when the queue
			// is empty or a block failed.
			wake := len(c.done) >= reportBatch || len(c.items) == 0 || err != nil
			c.mu.Unlock()
			if wake {
				signal(c.out)
			}
		}
		// Nothing more for now: what a group left unsynced is synced
		// if no next block comes soon.
		flush.Reset(flushIdle)
	}
}
