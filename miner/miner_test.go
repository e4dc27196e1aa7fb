package miner_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/miner"
	"github.com/chaind/chaind/store"
)

// Test bounds.
const (
	// testTimeout bounds any single wait in these tests.
	testTimeout = 20 * time.Second
	// tipSwitchDeadline is how soon the search must leave a replaced tip
	// (the median of tipSwitchTrials).
	tipSwitchDeadline = 100 * time.Millisecond
	tipSwitchTrials   = 5
	// stopDeadline is how soon Stop must return.
	stopDeadline = time.Second
	// impossibleBits encodes target 1: no hash meets it in a test's life.
	impossibleBits = 0x03000001
)

func newChain(t testing.TB, p *consensus.Params, now func() time.Time) *blockchain.Blockchain {
	t.Helper()
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: store.NewMemory(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return bc
}

// minerAddr is a coinbase recipient no genesis allocation touches.
var minerAddr = chain.AddressOf(chain.PublicKey{1, 2, 3})

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or testTimeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitGoroutines waits until no more than n goroutines run.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func requireTip(t *testing.T, bc *blockchain.Blockchain, b *chain.Block) {
	t.Helper()
	if tip := bc.Tip(); tip.Hash != b.Hash() {
		t.Fatalf("tip is %d %s, want the mined block %d %s", tip.Height, tip.Hash, b.Header.Height, b.Hash())
	}
}

// source is a TxSource that offers fixed transactions and records the
// limits it was asked for. With greedy it ignores the limits.
type source struct {
	mu              sync.Mutex
	txs             []*chain.Tx
	greedy          bool
	maxTxs, maxSize int
}

func (s *source) Template(maxTxs, maxBytes int) []*chain.Tx {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxTxs, s.maxSize = maxTxs, maxBytes
	if s.greedy {
		return s.txs
	}
	var out []*chain.Tx
	size := 0
	for _, tx := range s.txs {
		if len(out) == maxTxs || size+tx.Size() > maxBytes {
			break
		}
		out = append(out, tx)
		size += tx.Size()
	}
	return out
}

func TestMineOneData(t *testing.T) {
	p := consensus.Regtest()
	bc := newChain(t, p, nil)
	m := miner.New(bc, nil, miner.Config{Address: minerAddr, Threads: 2})
	for h, note := range []string{"hello, chain", "", "ünïcode ✓"} {
		b, err := m.MineOne(ctxT(t), note)
		if err != nil {
			t.Fatal(err)
		}
		requireTip(t, bc, b)
		if string(b.Data) != note || b.Header.DataHash != chain.DataHash([]byte(note)) {
			t.Fatalf("block data %q, want %q", b.Data, note)
		}
		height := uint32(h + 1)
		cb := b.Txs[0]
		if b.Header.Height != height || len(b.Txs) != 1 || !cb.IsCoinbase() || cb.To != minerAddr ||
			cb.Nonce != uint64(height) || cb.Amount != p.Reward(height) || len(cb.Memo) != 0 {
			t.Fatalf("block %d: unexpected shape: height %d, %d txs, coinbase %+v", height, b.Header.Height, len(b.Txs), cb)
		}
		stored, err := bc.BlockAt(height)
		if err != nil || stored.Hash() != b.Hash() {
			t.Fatalf("block at height %d: %v", height, err)
		}
	}
	st := m.Stats()
	if st.BlocksFound != 3 || st.Hashes < 3 || st.Running || st.Threads != 2 || st.BlocksRejected != 0 {
		t.Fatalf("stats %+v", st)
	}
	if got, want := bc.Account(minerAddr).Balance, 3*p.Reward(1); got != want {
		t.Fatalf("miner balance %d, want %d", got, want)
	}
}

func TestMineOneBadData(t *testing.T) {
	bc := newChain(t, consensus.Regtest(), nil)
	m := miner.New(bc, nil, miner.Config{Address: minerAddr})
	for _, note := range []string{strings.Repeat("x", chain.MaxDataSize+1), "\xff\xfe"} {
		if _, err := m.MineOne(ctxT(t), note); !errors.Is(err, miner.ErrBadData) {
			t.Fatalf("note of %d bytes: err %v, want ErrBadData", len(note), err)
		}
	}
	if bc.Height() != 0 || m.Stats().Hashes != 0 {
		t.Fatalf("a refused note mined something: height %d", bc.Height())
	}
	// The longest note is fine.
	if _, err := m.MineOne(ctxT(t), strings.Repeat("x", chain.MaxDataSize)); err != nil {
		t.Fatal(err)
	}
}

func TestCoinbasePaysRewardAndFees(t *testing.T) {
	keys := chaintest.Keys(3)
	p := chaintest.Params(keys, 10*consensus.Coin)
	bc := newChain(t, p, nil)
	txs := []*chain.Tx{
		chaintest.Tx(p, keys[0], keys[1].Address(), 1000, 30, 0),
		chaintest.Tx(p, keys[1], keys[2].Address(), 2000, 20, 0),
		chaintest.Tx(p, keys[0], keys[2].Address(), 500, 10, 1),
	}
	src := &source{txs: txs}
	m := miner.New(bc, src, miner.Config{Address: minerAddr})
	const note = "with transactions"
	b, err := m.MineOne(ctxT(t), note)
	if err != nil {
		t.Fatal(err)
	}
	requireTip(t, bc, b)
	if len(b.Txs) != 1+len(txs) {
		t.Fatalf("block has %d transactions, want coinbase + %d", len(b.Txs), len(txs))
	}
	for i, tx := range txs {
		if b.Txs[i+1].ID() != tx.ID() {
			t.Fatalf("transaction %d is %s, want %s (the source's order)", i+1, b.Txs[i+1].ID(), tx.ID())
		}
	}
	const fees = 30 + 20 + 10
	if cb := b.Txs[0]; cb.Amount != p.Reward(1)+fees || cb.To != minerAddr || cb.Nonce != 1 {
		t.Fatalf("coinbase %+v, want %d to the miner with nonce 1", cb, p.Reward(1)+fees)
	}
	if got := bc.Account(minerAddr).Balance; got != p.Reward(1)+fees {
		t.Fatalf("miner balance %d, want %d", got, p.Reward(1)+fees)
	}
	// The source was asked for what fits beside the header, the note and
	// a coinbase with the longest extra-nonce memo.
	if src.maxTxs != p.MaxBlockTxs-1 {
		t.Fatalf("asked for %d transactions, want %d", src.maxTxs, p.MaxBlockTxs-1)
	}
	fixed := &chain.Block{Data: []byte(note), Txs: []*chain.Tx{{Memo: []byte("18446744073709551615")}}}
	if fixed.Size()+src.maxSize != p.MaxBlockSize {
		t.Fatalf("asked for %d bytes; with %d fixed that is not the %d-byte limit", src.maxSize, fixed.Size(), p.MaxBlockSize)
	}
}

// TestGreedySource checks that the miner holds the block's limits even
// when the source returns more than asked, or fees that would overflow.
func TestGreedySource(t *testing.T) {
	keys := chaintest.Keys(6)
	var txs []*chain.Tx
	build := func(p *consensus.Params) {
		txs = txs[:0]
		for i := range 5 {
			txs = append(txs, chaintest.Tx(p, keys[i], keys[5].Address(), 1000, 1, 0))
		}
	}
	t.Run("count", func(t *testing.T) {
		p := chaintest.Params(keys, consensus.Coin)
		p.MaxBlockTxs = 3
		build(p)
		bc := newChain(t, p, nil)
		m := miner.New(bc, &source{txs: txs, greedy: true}, miner.Config{Address: minerAddr})
		b, err := m.MineOne(ctxT(t), "")
		if err != nil {
			t.Fatal(err)
		}
		requireTip(t, bc, b)
		if len(b.Txs) != 3 || b.Txs[0].Amount != p.Reward(1)+2 {
			t.Fatalf("block has %d transactions paying %d, want 3 paying %d", len(b.Txs), b.Txs[0].Amount, p.Reward(1)+2)
		}
	})
	t.Run("size", func(t *testing.T) {
		p := chaintest.Params(keys, consensus.Coin)
		fixed := (&chain.Block{Txs: []*chain.Tx{{Memo: []byte("18446744073709551615")}}}).Size()
		p.MaxBlockSize = fixed + 2*chain.MinTxSize + chain.MinTxSize/2
		build(p)
		bc := newChain(t, p, nil)
		m := miner.New(bc, &source{txs: txs, greedy: true}, miner.Config{Address: minerAddr})
		b, err := m.MineOne(ctxT(t), "")
		if err != nil {
			t.Fatal(err)
		}
		requireTip(t, bc, b)
		if len(b.Txs) != 3 || b.Size() > p.MaxBlockSize {
			t.Fatalf("block has %d transactions and %d bytes, want 3 within %d", len(b.Txs), b.Size(), p.MaxBlockSize)
		}
	})
	t.Run("fee overflow", func(t *testing.T) {
		p := chaintest.Params(keys, consensus.Coin)
		build(p)
		huge := chaintest.Tx(p, keys[1], keys[5].Address(), 1, ^uint64(0)-p.Reward(1), 0)
		bc := newChain(t, p, nil)
		m := miner.New(bc, &source{txs: []*chain.Tx{txs[0], huge, txs[2]}, greedy: true}, miner.Config{Address: minerAddr})
		b, err := m.MineOne(ctxT(t), "")
		if err != nil {
			t.Fatal(err)
		}
		requireTip(t, bc, b)
		if len(b.Txs) != 2 || b.Txs[1].ID() != txs[0].ID() {
			t.Fatalf("block has %d transactions, want the coinbase and the first one", len(b.Txs))
		}
	})
}

func TestContinuousMining(t *testing.T) {
	p := consensus.Regtest()
	bc := newChain(t, p, nil)
	base := runtime.NumGoroutine()
	m := miner.New(bc, nil, miner.Config{Address: minerAddr})
	m.Start()
	m.Start() // a second Start is a no-op
	if !m.Stats().Running {
		t.Fatal("not running after Start")
	}
	const target = 20
	waitFor(t, "continuous mining to extend the chain", func() bool { return bc.Height() >= target })
	if r := m.HashRate(); r <= 0 {
		t.Fatalf("hash rate %v while mining", r)
	}
	// MineOne interleaves with continuous mining.
	b, err := m.MineOne(ctxT(t), "on demand")
	if err != nil {
		t.Fatal(err)
	}
	if info, ok := bc.BlockInfo(b.Hash()); !ok || !info.MainChain || string(b.Data) != "on demand" {
		t.Fatalf("MineOne's block is not on the main chain (known %v)", ok)
	}
	waitFor(t, "mining to go on after MineOne", func() bool { return bc.Height() > b.Header.Height })

	start := time.Now()
	m.Stop()
	if d := time.Since(start); d > stopDeadline {
		t.Fatalf("Stop took %v", d)
	}
	m.Stop() // a second Stop is a no-op
	waitGoroutines(t, base)
	height := bc.Height()
	time.Sleep(50 * time.Millisecond)
	if bc.Height() != height {
		t.Fatal("the chain grew after Stop")
	}
	// One miner, no rivals: every block it found is on the main chain
	// and paid it.
	st := m.Stats()
	if st.Running || st.BlocksFound != uint64(height) || st.BlocksStale != 0 || st.BlocksRejected != 0 {
		t.Fatalf("stats %+v at height %d", st, height)
	}
	if got, want := bc.Account(minerAddr).Balance, uint64(height)*p.Reward(1); got != want {
		t.Fatalf("miner balance %d, want %d", got, want)
	}

	// It can start again.
	m.Start()
	waitFor(t, "mining after a restart", func() bool { return bc.Height() > height })
	m.Stop()
	waitGoroutines(t, base)
}

// TestDevnetDifficultyRises mines on devnet's rules from the easiest
// target (devnet itself starts near a core's rate), where ASERT raises the
// difficulty while blocks come faster than the target spacing: the miner
// must follow the required bits and keep its timestamps acceptable.
func TestDevnetDifficultyRises(t *testing.T) {
	p := consensus.Devnet()
	p.GenesisBits = p.PowLimitBits
	bc := newChain(t, p, nil)
	m := miner.New(bc, nil, miner.Config{Address: minerAddr})
	m.Start()
	const height = 40
	waitFor(t, "devnet blocks", func() bool { return bc.Height() >= height })
	m.Stop()
	tip := bc.Tip()
	genesisTarget, _ := consensus.CompactToBig(p.GenesisBits)
	tipTarget, _ := consensus.CompactToBig(tip.Header.Bits)
	if tipTarget.Cmp(genesisTarget) >= 0 {
		t.Fatalf("target at height %d is %08x, not harder than genesis %08x", tip.Height, tip.Header.Bits, p.GenesisBits)
	}
	latest := time.Now().Unix() + p.MaxFutureTime - 1
	for h := uint32(1); h <= tip.Height; h++ {
		b, err := bc.BlockAt(h)
		if err != nil {
			t.Fatal(err)
		}
		if int64(b.Header.Timestamp) > latest {
			t.Fatalf("block %d timestamp %d beyond now + MaxFutureTime - 1 = %d", h, b.Header.Timestamp, latest)
		}
	}
	if m.Stats().BlocksRejected != 0 {
		t.Fatal("the chain rejected mined blocks")
	}
}

// hardChain shows the miner an impossible target, so it searches until
// the tip moves, and reports every template it hands out.
type hardChain struct {
	*blockchain.Blockchain
	templates chan blockchain.Template
}

func (h *hardChain) NextTemplate() blockchain.Template {
	t := h.Blockchain.NextTemplate()
	t.Bits = impossibleBits
	select {
	case h.templates <- t:
	default:
	}
	return t
}

// drain empties the template channel.
func (h *hardChain) drain() {
	for {
		select {
		case <-h.templates:
		default:
			return
		}
	}
}

// awaitTemplate waits for a template on prev and returns how long it took.
func (h *hardChain) awaitTemplate(t *testing.T, prev chain.Hash, since time.Time) time.Duration {
	t.Helper()
	timeout := time.After(testTimeout)
	for {
		select {
		case tmpl := <-h.templates:
			if tmpl.PrevHash == prev {
				return time.Since(since)
			}
		case <-timeout:
			t.Fatalf("no template on %s", prev)
		}
	}
}

// rival returns a valid block on the tip of bc, mined by someone else.
func rival(bc *blockchain.Blockchain) *chain.Block {
	tip := bc.Tip()
	return chaintest.Block(chaintest.Spec{Parent: &tip.Header, Miner: chain.Address{9}, Reward: bc.Params().Reward(tip.Height + 1)})
}

// switchTimes feeds rival blocks to the chain behind hc while m searches
// and returns how long the search took each time to ask for a template on
// the new tip. m's refresh timer is off, so only the tip change can move it.
func switchTimes(t *testing.T, hc *hardChain, m *miner.Miner) []time.Duration {
	t.Helper()
	bc := hc.Blockchain
	hc.awaitTemplate(t, bc.Tip().Hash, time.Now())
	var ds []time.Duration
	for range tipSwitchTrials {
		hashes := m.Stats().Hashes
		waitFor(t, "hashing", func() bool { return m.Stats().Hashes > hashes })
		hc.drain()
		b := rival(bc)
		start := time.Now()
		if _, err := bc.ProcessBlock(b, blockchain.Requested); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, hc.awaitTemplate(t, b.Hash(), start))
	}
	return ds
}

// requireQuickSwitch checks the median of the switch times, so one
// scheduling hiccup on a loaded machine does not fail the test.
func requireQuickSwitch(t *testing.T, ds []time.Duration) {
	t.Helper()
	t.Logf("moved to the new tip after %v", ds)
	if med := slices.Sorted(slices.Values(ds))[len(ds)/2]; med > tipSwitchDeadline {
		t.Fatalf("median time to move to a new tip %v, want within %v", med, tipSwitchDeadline)
	}
}

func TestTipChangeAbandonsSearch(t *testing.T) {
	p := consensus.Regtest()
	bc := newChain(t, p, nil)
	hc := &hardChain{Blockchain: bc, templates: make(chan blockchain.Template, 64)}
	base := runtime.NumGoroutine()

	t.Run("continuous", func(t *testing.T) {
		m := miner.New(hc, nil, miner.Config{Address: minerAddr})
		miner.SetRefresh(m, time.Hour)
		m.Start()
		defer m.Stop()
		requireQuickSwitch(t, switchTimes(t, hc, m))
	})
	waitGoroutines(t, base)

	t.Run("MineOne", func(t *testing.T) {
		m := miner.New(hc, nil, miner.Config{Address: minerAddr})
		miner.SetRefresh(m, time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := make(chan error, 1)
		hc.drain()
		go func() {
			_, err := m.MineOne(ctx, "never")
			errc <- err
		}()
		requireQuickSwitch(t, switchTimes(t, hc, m))
		cancel()
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("MineOne returned %v, want context.Canceled", err)
			}
		case <-time.After(stopDeadline):
			t.Fatal("MineOne did not return after its context ended")
		}
	})
	waitGoroutines(t, base)
}

// clock is a settable clock shared by the chain and the miner.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func TestTimestamp(t *testing.T) {
	p := consensus.Regtest()
	p.MaxFutureTime = 15 // devnet's tolerance, which a burst reaches
	t0 := time.Unix(int64(p.GenesisTime)+1_000_000, 0)
	clk := &clock{t: t0.Add(400 * time.Millisecond)}
	bc := newChain(t, p, clk.Now)
	m := miner.New(bc, nil, miner.Config{Address: minerAddr, Now: clk.Now})

	// The median time is far behind: the block takes the clock's second.
	b1, err := m.MineOne(ctxT(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if b1.Header.Timestamp != uint32(t0.Unix()) {
		t.Fatalf("timestamp %d, want the clock %d", b1.Header.Timestamp, t0.Unix())
	}

	// Push the median time to t0+14 with blocks stamped up to t0+19 (the
	// chain accepts them while its clock reads t0+4), then step the clock
	// back to t0: the next block needs t0+15 but the miner allows at most
	// t0 + MaxFutureTime - 1 = t0+14, so it must wait for the clock.
	clk.Set(t0.Add(4 * time.Second))
	parent := b1.Header
	for i := range 11 {
		b := chaintest.Block(chaintest.Spec{Parent: &parent, Miner: chain.Address{9},
			Reward: p.Reward(parent.Height + 1), Time: uint32(t0.Unix()) + 9 + uint32(i)})
		if _, err := bc.ProcessBlock(b, blockchain.Requested); err != nil {
			t.Fatal(err)
		}
		parent = b.Header
	}
	minTime := bc.NextTemplate().MinTime
	if minTime != uint32(t0.Unix())+14 || p.MaxFutureTime != 15 {
		t.Fatalf("setup: median time %d, want %d (MaxFutureTime %d)", minTime, t0.Unix()+14, p.MaxFutureTime)
	}
	clk.Set(t0)
	type mined struct {
		b   *chain.Block
		err error
	}
	done := make(chan mined, 1)
	go func() {
		b, err := m.MineOne(ctxT(t), "")
		done <- mined{b, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("mined a block stamped %d (err %v) while the clock allows at most %d", r.b.Header.Timestamp, r.err, t0.Unix()+14)
	case <-time.After(300 * time.Millisecond):
	}
	if bc.Height() != parent.Height {
		t.Fatal("the chain grew while the miner should wait")
	}
	clk.Set(t0.Add(time.Second))
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		requireTip(t, bc, r.b)
		if r.b.Header.Timestamp != minTime+1 {
			t.Fatalf("timestamp %d, want median time + 1 = %d", r.b.Header.Timestamp, minTime+1)
		}
	case <-time.After(testTimeout):
		t.Fatal("MineOne did not finish after the clock caught up")
	}
}
