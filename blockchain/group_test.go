package blockchain_test

import (
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/store"
)

// syncCounter is a memory store that counts synced writes and the longest
// run of deferred updates between two of them.
type syncCounter struct {
	*store.Memory
	mu                     sync.Mutex
	syncs, pending, maxRun int
	// inflight counts syncs started and not waited for; maxInflight is
	// its most.
	inflight, maxInflight int
}

func (c *syncCounter) note(u *store.Update) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u.Deferred {
		c.pending++
		c.maxRun = max(c.maxRun, c.pending)
		return
	}
	c.syncs++
	c.pending = 0
}

func (c *syncCounter) ConnectBlock(u *store.Update) error {
	if err := c.Memory.ConnectBlock(u); err != nil {
		return err
	}
	c.note(u)
	return nil
}

func (c *syncCounter) DisconnectBlock(u *store.Update) error {
	if err := c.Memory.DisconnectBlock(u); err != nil {
		return err
	}
	c.note(u)
	return nil
}

func (c *syncCounter) Sync() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.syncs++
	c.pending = 0
	return c.Memory.Sync()
}

// StartSync counts a sync when it starts, and the wait for it.
func (c *syncCounter) StartSync() (func() error, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.syncs++
	c.pending = 0
	c.inflight++
	c.maxInflight = max(c.maxInflight, c.inflight)
	var once sync.Once
	return func() error {
		once.Do(func() {
			c.mu.Lock()
			c.inflight--
			c.mu.Unlock()
		})
		return c.Memory.Sync()
	}, nil
}

func (c *syncCounter) unwaited() (inflight, most int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inflight, c.maxInflight
}

func (c *syncCounter) counts() (syncs, pending, maxRun int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.syncs, c.pending, c.maxRun
}

// TestGroupCommit checks when the chain defers store updates: never at
// the tip (a recent tip and a short queue), in groups bounded by
// MaxGroupBlocks and MaxGroupAge while catching up (an old tip, or a long
// queue), and never past a call with nothing queued, Flush or Close.
func TestGroupCommit(t *testing.T) {
	const nkeys = 6
	p := chaintest.Params(chaintest.Keys(nkeys), 1_000_000_000)
	blocks := chaintest.NewBranch(p, chaintest.Keys(nkeys)).Extend(rand.New(rand.NewSource(3)), 1500, 0)
	var clock time.Time
	st := &syncCounter{Memory: store.NewMemory()}
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: st, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	at := func(b *chain.Block) time.Time { return time.Unix(int64(b.Header.Timestamp), 0) }
	next := 0
	process := func(queued int) {
		t.Helper()
		if _, err := bc.ProcessBlockQueued(blocks[next], blockchain.Requested, queued); err != nil {
			t.Fatalf("block %d: %v", next+1, err)
		}
		next++
	}

	// At the tip: a recent tip and a short queue sync every block.
	s0, _, _ := st.counts()
	for i := 0; i < 10; i++ {
		clock = at(blocks[next]).Add(time.Second)
		process(blockchain.CatchUpBacklog - 1)
	}
	if s, pending, _ := st.counts(); s-s0 != 10 || pending != 0 {
		t.Fatalf("at the tip: %d syncs for 10 blocks, %d pending; want one sync per block", s-s0, pending)
	}

	// A long queue groups even with a recent tip; a block with nothing
	// queued after it syncs the group with its own write.
	s0, _, _ = st.counts()
	clock = at(blocks[next+100]).Add(time.Second)
	for i := 0; i < 100; i++ {
		process(blockchain.CatchUpBacklog + 99 - i)
	}
	if s, pending, _ := st.counts(); s-s0 != 0 || pending != 100 {
		t.Fatalf("a queue of 115..16 blocks: %d syncs, %d pending; want 0 and 100", s-s0, pending)
	}
	process(0)
	if s, pending, _ := st.counts(); s-s0 != 1 || pending != 0 {
		t.Fatalf("the block ending the queue: %d syncs, %d pending; want 1 and 0", s-s0, pending)
	}

	// An old tip groups with any queue; groups stay within MaxGroupBlocks.
	clock = at(blocks[len(blocks)-1]).Add(24 * time.Hour)
	s0, _, _ = st.counts()
	for i := 0; i < 1200; i++ {
		process(1)
	}
	syncs, pending, maxRun := st.counts()
	if maxRun > blockchain.MaxGroupBlocks || syncs-s0 < 1200/blockchain.MaxGroupBlocks || syncs-s0 > 1200/blockchain.MaxGroupBlocks+1 {
		t.Fatalf("1,200 blocks behind an old tip: %d syncs, longest group %d; want groups of at most %d",
			syncs-s0, maxRun, blockchain.MaxGroupBlocks)
	}
	if pending == 0 {
		t.Fatal("the open group was synced although the caller queued more blocks")
	}
	if err := bc.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, pending, _ := st.counts(); pending != 0 {
		t.Fatalf("%d updates pending after Flush", pending)
	}
	if inflight, most := st.unwaited(); inflight != 0 || most != 1 {
		t.Fatalf("after Flush: %d group syncs not waited for, at most %d at once; want 0 and 1 (groups closed while catching up sync in the background, one at a time)", inflight, most)
	}

	// Age bound: a block arriving MaxGroupAge after the group opened is
	// synced, whatever is queued.
	process(5)
	process(5)
	clock = clock.Add(blockchain.MaxGroupAge)
	s0, _, _ = st.counts()
	process(5)
	if s, pending, _ := st.counts(); s-s0 != 1 || pending != 0 {
		t.Fatalf("a group older than MaxGroupAge: %d syncs, %d pending; want the block synced", s-s0, pending)
	}

	// Close syncs an open group.
	process(5)
	if err := bc.Close(); err != nil {
		t.Fatal(err)
	}
	if _, pending, _ := st.counts(); pending != 0 {
		t.Fatalf("%d updates pending after Close", pending)
	}
	if inflight, _ := st.unwaited(); inflight != 0 {
		t.Fatalf("%d group syncs not waited for after Close", inflight)
	}
	if tm := bc.Timings(); tm.Connected != next || tm.Syncs == 0 {
		t.Fatalf("timings %+v after %d blocks", tm, next)
	}
}
