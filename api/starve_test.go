package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/wallet"
)

// The starvation tests run one attack from 127.0.0.1 while a probe from
// 127.0.0.2 (another client, as far as the limits go) asks GET
// /api/v1/status one request after another, and assert the probe's p99
// stays under probeBound of the same probe with no attack, measured in
// the same test just before, with no failures. CHAIND_LONG=1 runs them
// longer and bigger.

// The bound on the probe's p99 under an attack: probeFactor times its p99
// with no attack, measured in the same test (so a machine loaded by other
// work, which slows both, does not fail the test: a fixed 500 ms failed
// once at load average 38), and at least probeFloor (a quiet run's
// no-attack p99 is a few ms, and a loaded machine's scheduling stalls
// reach hundreds). The attacks these tests guard against stalled every
// client for 20 s to 150 s before their limits: the floor is 20 times
// below that.
const (
	probeFactor = 25
	probeFloor  = time.Second
	// baselineFor is how long the no-attack probe runs.
	baselineFor = time.Second
)

func probeBound(baseline probeResult) time.Duration {
	return max(probeFloor, probeFactor*baseline.p99)
}

// probeBaseline measures the probe with no attack and logs it.
func probeBaseline(t *testing.T, base string) probeResult {
	t.Helper()
	r := probe(t, base, baselineFor)
	t.Logf("no attack: GET /api/v1/status: %v; bound under attack %v", r, probeBound(r))
	if r.failures > 0 {
		t.Fatalf("%d of %d status requests failed with no attack; first: %s", r.failures, r.n, r.firstErr)
	}
	return r
}

// starveScale is the size of the attacks and how long the probe runs.
type starveScale struct {
	chainLen    int           // blocks of the chain GET /chain streams
	chainConns  int           // concurrent GET /chain clients
	sseClients  int           // event-stream clients that never read
	idleConns   int           // idle connections
	batchSize   int           // unfunded transactions per batch
	batchConns  int           // concurrent batch senders
	probeFor    time.Duration // how long the probe measures
	chainTxsPer int           // transactions per block of the chain
}

func scale() starveScale {
	if os.Getenv("CHAIND_LONG") == "1" {
		return starveScale{chainLen: 5000, chainConns: 2000, sseClients: 70, idleConns: 8000, batchSize: MaxTxBatch, batchConns: 8, probeFor: 20 * time.Second, chainTxsPer: 4}
	}
	return starveScale{chainLen: 1000, chainConns: 2000, sseClients: 70, idleConns: 1500, batchSize: 2000, batchConns: 4, probeFor: 3 * time.Second, chainTxsPer: 2}
}

// probeClient is an HTTP client whose connections come from 127.0.0.2.
func probeClient() *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}}
}

// attackClient is an HTTP client for the attacker (127.0.0.1) that opens
// as many connections as it is asked to.
func attackClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 10_000, MaxConnsPerHost: 0, DisableCompression: true}}
}

// probeResult is the probe's latency distribution.
type probeResult struct {
	n        int
	failures int
	firstErr string
	p50, p99 time.Duration
	max      time.Duration
}

func (r probeResult) String() string {
	return fmt.Sprintf("n=%d p50=%v p99=%v max=%v failures=%d", r.n, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.max.Round(10*time.Microsecond), r.failures)
}

// probe asks GET /api/v1/status from 127.0.0.2 back to back for d.
func probe(t testing.TB, base string, d time.Duration) probeResult {
	t.Helper()
	end := time.Now().Add(d)
	return probeWhile(t, base, func() bool { return time.Now().Before(end) })
}

// probeWhile asks GET /api/v1/status from 127.0.0.2 back to back while
// more() holds.
func probeWhile(t testing.TB, base string, more func() bool) probeResult {
	t.Helper()
	c := probeClient()
	defer c.Transport.(*http.Transport).CloseIdleConnections()
	var lat []time.Duration
	var res probeResult
	for more() {
		start := time.Now()
		resp, err := c.Get(base + "/api/v1/status")
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		lat = append(lat, time.Since(start))
		if err != nil {
			res.failures++
			if res.firstErr == "" {
				res.firstErr = err.Error()
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	slices.Sort(lat)
	res.n = len(lat)
	if res.n > 0 {
		res.p50 = lat[res.n/2]
		res.p99 = lat[min(res.n-1, res.n*99/100)]
		res.max = lat[res.n-1]
	}
	return res
}

// checkProbe fails the test when the probe saw failures or a p99 over the
// bound tied to the baseline, and logs the figures.
func checkProbe(t *testing.T, attack string, baseline, r probeResult) {
	t.Helper()
	bound := probeBound(baseline)
	t.Logf("%s: GET /api/v1/status from another client: %v (bound %v)", attack, r, bound)
	if r.failures > 0 {
		t.Errorf("%s: %d of %d status requests failed; first: %s", attack, r.failures, r.n, r.firstErr)
	}
	if r.p99 > bound {
		t.Errorf("%s: status p99 %v over %v (%d x the no-attack p99 %v, at least %v)", attack, r.p99, bound, probeFactor, baseline.p99, probeFloor)
	}
}

// longChainEnv is a regtest node with a chain of n blocks of txsPer
// transfers each, built directly (no mining).
func longChainEnv(t *testing.T, n, txsPer int, cfg Config) *testEnv {
	t.Helper()
	keys := chaintest.Keys(8)
	p := chaintest.Params(keys, 1000*1e8)
	e := startEnv(t, node.Config{Params: p, DataDir: t.TempDir(), Threads: 1}, cfg)
	br := chaintest.NewBranch(p, keys)
	rng := rand.New(rand.NewSource(1))
	for range n {
		b := br.Next(br.RandomTxs(rng, txsPer), chaintest.Spec{})
		if _, err := e.n.Chain.ProcessBlock(b, blockchain.Requested); err != nil {
			t.Fatalf("block %d: %v", b.Header.Height, err)
		}
	}
	return e
}

// TestStarveChain runs many concurrent GET /chain on a longish chain from
// another process: a few are streamed, the rest refused at once, and
// other clients are served throughout.
func TestStarveChain(t *testing.T) {
	sc := scale()
	e := longChainEnv(t, sc.chainLen, sc.chainTxsPer, Config{})
	baseline := probeBaseline(t, e.base)

	var peakHeap atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
		}
	})
	atk := startAttack(t, "chain", e.base, sc.chainConns, sc.probeFor, nil)
	r := probe(t, e.base, sc.probeFor)
	res := atk.wait(t)
	close(stop)
	wg.Wait()
	t.Logf("%d concurrent GET /chain (%d blocks) from another process: %v; node peak heap in use %d MiB",
		sc.chainConns, sc.chainLen, res, peakHeap.Load()>>20)
	checkProbe(t, "GET /chain flood", baseline, r)
	if res.OK == 0 || res.Limited == 0 {
		t.Errorf("want some chains streamed and the excess refused: %v", res)
	}
}

// TestStarveEventStreams opens event streams that never read: a client
// gets at most MaxStreamsPerIP, another client still subscribes and
// receives events, and status answers throughout.
func TestStarveEventStreams(t *testing.T) {
	sc := scale()
	e := newEnv(t, consensus.Regtest(), Config{})
	baseline := probeBaseline(t, e.base)
	host := strings.TrimPrefix(e.base, "http://")
	var conns []net.Conn
	opened, refused := 0, 0
	for range sc.sseClients {
		nc, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, nc)
		fmt.Fprintf(nc, "GET /api/v1/events HTTP/1.1\r\nHost: %s\r\n\r\n", host)
	}
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	// Read only the status lines: the streams stay unread after.
	for _, nc := range conns {
		_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(io.LimitReader(nc, 64)).ReadString('\n')
		switch {
		case err == nil && strings.Contains(line, " 200 "):
			opened++
		case err == nil && strings.Contains(line, " 429 "):
			refused++
		}
	}
	t.Logf("%d event streams that never read: %d opened, %d refused", sc.sseClients, opened, refused)
	if opened > DefaultMaxStreamsPerIP || opened+refused != sc.sseClients {
		t.Errorf("one client opened %d event streams (bound %d), %d refused", opened, DefaultMaxStreamsPerIP, refused)
	}

	// Another client subscribes and sees a block mined now.
	pc := probeClient()
	req, _ := http.NewRequest("GET", e.base+"/api/v1/events", nil)
	resp, err := pc.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("another client's event stream: %v %v", err, resp)
	}
	defer resp.Body.Close()
	got := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if sc.Text() == "event: block" {
				got <- true
				return
			}
		}
		got <- false
	}()
	done := make(chan struct{})
	var mineWG sync.WaitGroup
	mineWG.Go(func() { // events keep flowing while the probe runs
		for {
			select {
			case <-done:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if _, err := e.n.Mine(ctx, "event"); err != nil {
				t.Errorf("mine: %v", err)
				cancel()
				return
			}
			cancel()
			time.Sleep(20 * time.Millisecond)
		}
	})
	select {
	case ok := <-got:
		if !ok {
			t.Fatal("the other client's stream ended without a block event")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the other client saw no block event in 10 s")
	}
	r := probe(t, e.base, sc.probeFor)
	close(done)
	mineWG.Wait()
	checkProbe(t, fmt.Sprintf("%d unread event streams", sc.sseClients), baseline, r)
}

// TestStarveIdleConns opens many idle connections: one client is held to
// MaxConnsPerIP, and when many clients together reach MaxConns the
// longest idle are closed to make room, so new clients are still served.
func TestStarveIdleConns(t *testing.T) {
	sc := scale()
	e := newEnv(t, consensus.Regtest(), Config{})
	baseline := probeBaseline(t, e.base)
	host := strings.TrimPrefix(e.base, "http://")
	var conns []net.Conn
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	for range sc.idleConns {
		nc, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatalf("dial after %d: %v", len(conns), err)
		}
		conns = append(conns, nc)
	}
	time.Sleep(100 * time.Millisecond)
	if open := e.s.lim.openConns(); open > DefaultMaxConnsPerIP {
		t.Errorf("one client holds %d API connections, bound %d", open, DefaultMaxConnsPerIP)
	}
	checkProbe(t, fmt.Sprintf("%d idle connections from one client", sc.idleConns), baseline, probe(t, e.base, sc.probeFor))

	// Many clients: the node-wide bound, with eviction of the idle.
	const maxConns = 200
	e2 := newEnv(t, consensus.Regtest(), Config{Limits: Limits{MaxConns: maxConns, MaxConnsPerIP: -1}})
	host2 := strings.TrimPrefix(e2.base, "http://")
	for range sc.idleConns {
		nc, err := net.Dial("tcp", host2)
		if err != nil {
			t.Fatalf("dial after %d: %v", len(conns), err)
		}
		conns = append(conns, nc)
	}
	time.Sleep(100 * time.Millisecond)
	if open := e2.s.lim.openConns(); open > maxConns {
		t.Errorf("%d API connections open, bound %d", open, maxConns)
	}
	r := probe(t, e2.base, sc.probeFor)
	checkProbe(t, fmt.Sprintf("%d idle connections over a bound of %d", sc.idleConns, maxConns), baseline, r)
	t.Logf("descriptor limit %d: default MaxConns %d", openFileLimit(), connBudget(openFileLimit()))
}

// TestStarveTxBatches sends batches of signed transactions from unfunded
// keys from another process: the client is held to its rate and batch
// slots, and status answers throughout.
func TestStarveTxBatches(t *testing.T) {
	sc := scale()
	e := newEnv(t, consensus.Regtest(), Config{})
	baseline := probeBaseline(t, e.base)
	p := e.n.Params()
	atk := startAttack(t, "batches", e.base, sc.batchConns, sc.probeFor, []string{
		"CHAIND_ATTACK_BATCH=" + strconv.Itoa(sc.batchSize),
		"CHAIND_ATTACK_NET=" + p.GenesisHash().String(),
		"CHAIND_ATTACK_HRP=" + p.AddressPrefix,
	})
	r := probe(t, e.base, sc.probeFor)
	res := atk.wait(t)
	t.Logf("%d senders of %d-transaction unfunded batches for %v: %v", sc.batchConns, sc.batchSize, res.Elapsed, res)
	checkProbe(t, "unfunded transaction batches", baseline, r)
	// The burst plus the rate over the run, in whole batches, plus the one
	// that may run into debt.
	maxBatches := (DefaultTxBurstPerIP+int(res.Elapsed.Seconds()*DefaultTxRatePerIP)+sc.batchSize-1)/sc.batchSize + 1
	if res.OK > maxBatches {
		t.Errorf("%d batches processed in %v, the rate allows %d", res.OK, res.Elapsed, maxBatches)
	}
	if res.Limited == 0 {
		t.Errorf("no batch was refused by the limits: %v", res)
	}
}

// attackResult is what an attack process counted.
type attackResult struct {
	OK       int            `json:"ok"`      // answered 200 (a chain streamed, a batch processed)
	Limited  int            `json:"limited"` // answered 429 or 503
	Failed   int            `json:"failed"`  // connection refused or reset
	Statuses map[string]int `json:"statuses"`
	Elapsed  time.Duration  `json:"elapsed"`
}

func (r attackResult) String() string {
	return fmt.Sprintf("%d answered 200, %d refused by limits (429/503), %d connection errors, statuses %v", r.OK, r.Limited, r.Failed, r.Statuses)
}

// attack is a running attack process.
type attack struct {
	cmd *exec.Cmd
	out *bufio.Reader
}

// startAttack runs this test binary as an attacker of kind against base
// with conc concurrent clients for d, and returns once it is ready (its
// setup, such as signing, done). A separate process, so the attacker's
// goroutines do not share the node's scheduler, as on a real network.
func startAttack(t *testing.T, kind, base string, conc int, d time.Duration, env []string) *attack {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestAttackProcess$")
	cmd.Env = append(os.Environ(), append(env,
		"CHAIND_ATTACK="+kind, "CHAIND_ATTACK_URL="+base,
		"CHAIND_ATTACK_CONC="+strconv.Itoa(conc), "CHAIND_ATTACK_FOR="+d.String())...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	a := &attack{cmd: cmd, out: bufio.NewReader(stdout)}
	for {
		line, err := a.out.ReadString('\n')
		if err != nil {
			t.Fatalf("attack process: %v", err)
		}
		if strings.TrimSpace(line) == "ready" {
			break
		}
	}
	time.Sleep(200 * time.Millisecond) // let the attack ramp up
	return a
}

// wait waits for the attack to end and returns its counts.
func (a *attack) wait(t *testing.T) attackResult {
	t.Helper()
	var res attackResult
	for {
		line, err := a.out.ReadString('\n')
		if err != nil {
			t.Fatalf("attack process ended without a result: %v", err)
		}
		if strings.HasPrefix(line, "{") {
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	a.cmd.Wait()
	return res
}

// TestAttackProcess is the attacker process of startAttack; it does
// nothing in a normal run.
func TestAttackProcess(t *testing.T) {
	kind := os.Getenv("CHAIND_ATTACK")
	if kind == "" {
		t.Skip("the attacker process of the starvation tests")
	}
	log.SetOutput(io.Discard) // net/http's client notes every refused connection
	base := os.Getenv("CHAIND_ATTACK_URL")
	conc, _ := strconv.Atoi(os.Getenv("CHAIND_ATTACK_CONC"))
	d, _ := time.ParseDuration(os.Getenv("CHAIND_ATTACK_FOR"))
	var method, path string
	var bodies [][]byte
	switch kind {
	case "chain":
		method, path = "GET", "/chain"
	case "batches":
		method, path = "POST", "/api/v1/txs"
		n, _ := strconv.Atoi(os.Getenv("CHAIND_ATTACK_BATCH"))
		netID, err := chain.ParseHash(os.Getenv("CHAIND_ATTACK_NET"))
		if err != nil {
			t.Fatal(err)
		}
		bodies = unfundedBatches(t, 2, n, netID, os.Getenv("CHAIND_ATTACK_HRP"))
	default:
		t.Fatalf("unknown attack %q", kind)
	}
	fmt.Println("ready")
	ctx, cancel := context.WithTimeout(context.Background(), d+500*time.Millisecond)
	defer cancel()
	c := attackClient(time.Minute)
	var mu sync.Mutex
	res := attackResult{Statuses: map[string]int{}}
	count := func(f func()) { mu.Lock(); f(); mu.Unlock() }
	start := time.Now()
	var wg sync.WaitGroup
	for i := range conc {
		wg.Go(func() {
			for ctx.Err() == nil {
				var body io.Reader
				if bodies != nil {
					body = bytes.NewReader(bodies[i%len(bodies)])
				}
				req, _ := http.NewRequestWithContext(ctx, method, base+path, body)
				req.Header.Set("Content-Type", "application/json")
				resp, err := c.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						count(func() { res.Failed++ })
						// A client refused at connect tries again soon. (Without
						// any pause, 2,000 clients make a connect flood that fills
						// the kernel's accept queue for everyone: a job for SYN
						// cookies and a firewall, below any HTTP server.)
						time.Sleep(200 * time.Millisecond)
					}
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				count(func() {
					res.Statuses[strconv.Itoa(resp.StatusCode)]++
					switch {
					case resp.StatusCode == http.StatusOK && err == nil:
						res.OK++
					case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
						res.Limited++
					}
				})
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

// unfundedBatches signs count batches of n transfers from keys that own
// nothing.
func unfundedBatches(t *testing.T, count, n int, netID chain.Hash, hrp string) [][]byte {
	bodies := make([][]byte, count)
	for i := range bodies {
		keys := make([]*wallet.Key, 64)
		for k := range keys {
			keys[k] = chaintest.Key(1000 + i*64 + k)
		}
		views := make([]apitypes.Tx, n)
		for j := range views {
			tx := &chain.Tx{To: keys[0].Address(), Amount: 1000, Fee: 10, Nonce: uint64(j / len(keys))}
			keys[j%len(keys)].SignTx(tx, netID)
			views[j] = apitypes.TxOf(hrp, tx)
		}
		var err error
		if bodies[i], err = json.Marshal(views); err != nil {
			t.Fatal(err)
		}
	}
	return bodies
}
