//go:build unix

package lab

import (
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"
)

// TestSimLarge runs examples/bench/sim-1000.yaml (CHAIND_LONG=1) for
// CHAIND_SIM_FOR (default 60s) and logs the report's propagation figures,
// the heap per node and the wall time per simulated hour.
func TestSimLarge(t *testing.T) {
	if os.Getenv("CHAIND_LONG") == "" {
		t.Skip("CHAIND_LONG=1 runs the 1,000-node simulation")
	}
	file := os.Getenv("CHAIND_SIM_NETWORK")
	if file == "" {
		file = "../examples/bench/sim-1000.yaml"
	}
	d := 60 * time.Second
	if s := os.Getenv("CHAIND_SIM_FOR"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			t.Fatal(err)
		}
	}
	n, err := LoadNetwork(file)
	if err != nil {
		t.Fatal(err)
	}
	var rec *Recorder
	if path := os.Getenv("CHAIND_SIM_RECORD"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rec = NewRecorder(f)
	}
	lo, hi := latencyBound(n)
	t.Logf("latency alone (shortest paths, no processing): a miner's block reaches every node in %v on average, %v at most", lo, hi)
	obs := NewObservatory(rec)
	start := time.Now()
	c, err := NewMemCluster(MemConfig{Network: n, Observatory: obs})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d nodes started in %v", len(n.Nodes), time.Since(start))
	warm := 20 * time.Second
	if s := os.Getenv("CHAIND_SIM_WARMUP"); s != "" {
		if warm, err = time.ParseDuration(s); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(warm) // the start's status rounds and syncs
	if path := os.Getenv("CHAIND_SIM_CPU"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
	}
	t0, cpu0 := time.Now(), processCPU(t)
	time.Sleep(d)
	wall, cpu := time.Since(t0), processCPU(t)-cpu0
	pprof.StopCPUProfile()
	runtime.GC()
	if path := os.Getenv("CHAIND_SIM_HEAP"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gs := runtime.NumGoroutine()
	c.Close()
	r := obs.ReportSince(t0)
	t.Logf("heap in use %d MiB (%.0f KiB per node), sys %d MiB, goroutines %d", ms.HeapInuse>>20,
		float64(ms.HeapInuse)/1024/float64(len(n.Nodes)), ms.Sys>>20, gs)
	f := n.Compression
	sim := time.Duration(float64(wall) * f)
	t.Logf("wall %v for %v simulated: %v per simulated hour", wall, sim, time.Duration(float64(time.Hour)*float64(wall)/float64(sim)))
	// The nodes share this machine's cores: when the process keeps them
	// busy, blocks wait for a core and propagation measures the machine,
	// not the network (use less compression).
	t.Logf("CPU %v (%.0f%% of %d cores), %v per block found", cpu.Round(time.Millisecond),
		100*cpu.Seconds()/wall.Seconds()/float64(runtime.NumCPU()), runtime.NumCPU(), (cpu / time.Duration(max(r.Found, 1))).Round(time.Millisecond))
	t.Logf("simulated: to100 p50 %v p90 %v p99 %v; to90 p99 %v; mean delay %v; find interval %v",
		scale(r.To100.Median, f), scale(r.To100.P90, f), scale(r.To100.P99, f), scale(r.To90.P99, f), scale(r.Delay, f), scale(r.FindInterval, f))
	t.Logf("simulated: clean blocks %d of %d main-chain, to 100%% p50 %v p90 %v p99 %v max %v; forks %d (%.1f%%); hash delay %v",
		r.Clean, r.MainChain, scale(r.CleanTo100.Median, f), scale(r.CleanTo100.P90, f), scale(r.CleanTo100.P99, f),
		scale(r.CleanTo100.Max, f), r.Forks, 100*r.ForkRate, scale(r.HashDelay, f))
	t.Logf("found %d main %d stale %d; to50 %+v; to90 %+v; to100 %+v; delay %v; find interval %v",
		r.Found, r.MainChain, r.Stale, r.To50, r.To90, r.To100, r.Delay, r.FindInterval)
}

// processCPU returns the user and system CPU time this process has used.
func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func scale(d time.Duration, f float64) time.Duration { return time.Duration(float64(d) * f) }

// latencyBound returns the mean and the largest, over the network's
// miners, of the time a block takes to reach every node along shortest
// paths by link latency: the propagation of a network that processes
// blocks in no time.
func latencyBound(n *Network) (mean, most time.Duration) {
	adj := map[string][]Link{}
	for _, l := range n.Links {
		adj[l.Pair.A] = append(adj[l.Pair.A], l)
		adj[l.Pair.B] = append(adj[l.Pair.B], l)
	}
	var sum time.Duration
	miners := 0
	for _, src := range n.Nodes {
		if !src.Mining {
			continue
		}
		dist := map[string]time.Duration{src.Name: 0}
		done := map[string]bool{}
		for len(done) < len(dist) {
			var u string
			for v, d := range dist { // O(n^2) Dijkstra: 20 sources of 1,000 nodes
				if !done[v] && (u == "" || d < dist[u]) {
					u = v
				}
			}
			done[u] = true
			for _, l := range adj[u] {
				v := l.Pair.A
				if v == u {
					v = l.Pair.B
				}
				d := dist[u] + time.Duration(l.Shape.Latency)
				if old, ok := dist[v]; !ok || d < old {
					dist[v] = d
				}
			}
		}
		var ecc time.Duration
		for _, d := range dist {
			ecc = max(ecc, d)
		}
		sum += ecc
		most = max(most, ecc)
		miners++
	}
	if miners == 0 {
		return 0, 0
	}
	return sum / time.Duration(miners), most
}
