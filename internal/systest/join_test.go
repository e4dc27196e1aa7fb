package systest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/internal/testnet/wait"
	"github.com/chaind/chaind/netsync"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/libp2p"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/store/pebble"
	"github.com/chaind/chaind/wallet"
)

// timeline is a slog.Handler that records when each log record was made,
// relative to a start time, for the join trace.
type timeline struct {
	mu    *sync.Mutex
	start *time.Time
	lines *[]string
	attrs []slog.Attr
}

func newTimeline() *timeline {
	now := time.Now()
	return &timeline{mu: new(sync.Mutex), start: &now, lines: new([]string)}
}

func (t *timeline) Enabled(context.Context, slog.Level) bool { return true }

func (t *timeline) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	t.mu.Lock()
	fmt.Fprintf(&b, "%9.3f ms  %s", float64(r.Time.Sub(*t.start).Microseconds())/1000, r.Message)
	for _, a := range t.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	*t.lines = append(*t.lines, b.String())
	t.mu.Unlock()
	return nil
}

func (t *timeline) WithAttrs(as []slog.Attr) slog.Handler {
	c := *t
	c.attrs = append(append([]slog.Attr(nil), t.attrs...), as...)
	return &c
}

func (t *timeline) WithGroup(string) slog.Handler { return t }

func (t *timeline) mark(msg string) {
	_ = t.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, msg, 0))
}

func (t *timeline) reset() {
	t.mu.Lock()
	*t.start = time.Now()
	*t.lines = nil
	t.mu.Unlock()
}

// TestJoinTimeline prints the timeline of one late join over libp2p on
// loopback (CHAIND_JOIN_TRACE=blocks, e.g. 2000): when the dial, the
// status, each headers round, each blocks request and answer and the
// connects happened, as the joiner's debug logs record them.
func TestJoinTimeline(t *testing.T) {
	n := 0
	if s := os.Getenv("CHAIND_JOIN_TRACE"); s != "" {
		fmt.Sscan(s, &n)
	}
	if n <= 0 {
		t.Skip("set CHAIND_JOIN_TRACE=blocks to print a join's timeline")
	}
	keys := chaintest.Keys(4)
	p := chaintest.Params(keys, 1<<50)
	br := chaintest.NewBranch(p, keys)
	var blocks []*chain.Block
	for i := 0; i < n; i++ {
		blocks = append(blocks, br.Next(nil, chaintest.Spec{}))
	}
	seed, err := blockchain.New(blockchain.Config{Params: p, Store: store.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		if _, err := seed.ProcessBlock(b, blockchain.Requested); err != nil {
			t.Fatal(err)
		}
	}
	npeers := 1
	if s := os.Getenv("CHAIND_JOIN_PEERS"); s != "" {
		fmt.Sscan(s, &npeers)
	}
	var seeds []*libp2p.Host
	for i := 0; i < npeers; i++ {
		sh := traceHost(t, p)
		ss, err := netsync.New(netsync.Config{Chain: seed, Net: sh})
		if err != nil {
			t.Fatal(err)
		}
		if err := sh.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := ss.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ss.Stop(); _ = sh.Close() })
		seeds = append(seeds, sh)
	}

	runs := 1
	if s := os.Getenv("CHAIND_JOIN_RUNS"); s != "" {
		fmt.Sscan(s, &runs)
	}
	want := blocks[len(blocks)-1].Hash()
	var walls, cpus []time.Duration
	for i := 0; i < runs; i++ {
		wall, cpu, lines, tm := joinOnce(t, p, seeds, want)
		walls, cpus = append(walls, wall), append(cpus, cpu)
		if i == runs-1 {
			for _, l := range lines {
				t.Log(l)
			}
			t.Logf("store %v (sync %v, %d syncs), validate %v", tm.Store, tm.Sync, tm.Syncs, tm.Validate)
		}
	}
	t.Logf("%d blocks from %d peer(s): wall %v, CPU of the process (joiner and seeds) %v: medians of %d (walls %v, CPU %v)",
		n, npeers, medianOf(walls), medianOf(cpus), runs, walls, cpus)
}

func medianOf(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// joinOnce starts a fresh joiner on Pebble, dials the seeds and waits for
// want as its tip: the wall and process CPU time from the first dial, the
// joiner's timeline and the chain's timings.
func joinOnce(t *testing.T, p *consensus.Params, seeds []*libp2p.Host, want chain.Hash) (wall, cpu time.Duration, lines []string, tm blockchain.Timings) {
	tl := newTimeline()
	jh := traceHost(t, p)
	ps, err := pebble.Open(t.TempDir(), p.Name, p.GenesisHash())
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: ps})
	if err != nil {
		t.Fatal(err)
	}
	js, err := netsync.New(netsync.Config{Chain: bc, Net: jh, Logger: slog.New(tl)})
	if err != nil {
		t.Fatal(err)
	}
	if err := jh.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := js.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() { js.Stop(); _ = jh.Close(); _ = bc.Close() }()
	reached := make(chan struct{})
	var first sync.Once
	bc.Subscribe(func(nt blockchain.Notification) {
		if nt.Type == blockchain.BlockConnected {
			first.Do(func() { tl.mark("first block connected") })
		}
		if nt.Type == blockchain.TipChanged && nt.Hash == want {
			tl.mark("tip reached")
			close(reached)
		}
	})
	tl.reset()
	cpu0, start := cpuTime(t), time.Now()
	tl.mark("dial")
	for _, sh := range seeds {
		if _, err := jh.Connect(context.Background(), traceAddr(t, sh)); err != nil {
			t.Fatal(err)
		}
		tl.mark("connected (identified)")
	}
	select {
	case <-reached:
	case <-time.After(time.Minute):
		t.Fatal("no tip after a minute")
	}
	wall, cpu = time.Since(start), cpuTime(t)-cpu0
	tl.mu.Lock()
	lines = slices.Clone(*tl.lines)
	tl.mu.Unlock()
	return wall, cpu, lines, bc.Timings()
}

// traceHost is a loopback libp2p host with discovery off.
func traceHost(t *testing.T, p *consensus.Params) *libp2p.Host {
	t.Helper()
	cfg := libp2p.DefaultConfig(p.GenesisHash().String())
	cfg.Listen = "127.0.0.1:0"
	cfg.DHT, cfg.PeerExchange, cfg.MDNS = false, false, false
	cfg.Logger = slog.New(slog.DiscardHandler)
	h, err := libp2p.NewHost(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// traceAddr is h's TCP multiaddr.
func traceAddr(t *testing.T, h *libp2p.Host) string {
	t.Helper()
	for _, a := range h.ListenAddrs() {
		if strings.Contains(a, "/tcp/") && !strings.Contains(a, "/ws") {
			return a
		}
	}
	t.Fatalf("no TCP address in %v", h.ListenAddrs())
	return ""
}

// sharedChain returns n empty blocks on p's genesis and a chain holding
// them that seeds can share (they only serve).
func sharedChain(t *testing.T, p *consensus.Params, keys []*wallet.Key, n int) ([]*chain.Block, *blockchain.Blockchain) {
	t.Helper()
	br := chaintest.NewBranch(p, keys)
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: store.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	var blocks []*chain.Block
	for i := 0; i < n; i++ {
		b := br.Next(nil, chaintest.Spec{})
		if _, err := bc.ProcessBlock(b, blockchain.Requested); err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b)
	}
	return blocks, bc
}

// startSyncer builds and starts a syncer on net (started here too).
func startSyncer(t *testing.T, bc *blockchain.Blockchain, net p2p.Network, o netsync.Config) *netsync.Syncer {
	t.Helper()
	o.Chain, o.Net = bc, net
	s, err := netsync.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(); _ = net.Close() })
	return s
}

// TestLibp2pDownloadShared: a fresh node dialling three seeds at once over
// libp2p learns the headers from each and downloads the blocks from more
// than one of them, each block once.
func TestLibp2pDownloadShared(t *testing.T) {
	keys := chaintest.Keys(4)
	p := chaintest.Params(keys, 1<<40)
	blocks, seed := sharedChain(t, p, keys, 3000)
	var seeds []string
	for i := 0; i < 3; i++ {
		h := traceHost(t, p)
		startSyncer(t, seed, h, netsync.Config{})
		seeds = append(seeds, traceAddr(t, h))
	}
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: store.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	jh := traceHost(t, p)
	j := startSyncer(t, bc, jh, netsync.Config{})
	var wg sync.WaitGroup
	for _, a := range seeds {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := jh.Connect(ctx, a); err != nil {
				t.Errorf("connect %s: %v", a, err)
			}
		})
	}
	wg.Wait()
	want := blocks[len(blocks)-1].Hash()
	wait.For(t, 60*time.Second, "the joiner at the tip", func() bool { return bc.Tip().Hash == want })
	var from int
	var total uint64
	var counts []uint64
	for _, ps := range j.Peers() {
		counts = append(counts, ps.BlocksFetched)
		total += ps.BlocksFetched
		if ps.BlocksFetched > 0 {
			from++
		}
	}
	t.Logf("blocks per peer %v", counts)
	if from < 2 {
		t.Errorf("downloaded from %d peer(s), want more than one: %v", from, counts)
	}
	if total != uint64(len(blocks)) {
		t.Errorf("downloaded %d blocks for a %d-block chain: %v", total, len(blocks), counts)
	}
}
