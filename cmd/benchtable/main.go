// Command benchtable runs chaind's benchmarks (go test -bench) one package
// at a time, takes the median of each figure over -count runs, checks the
// ratios the issues set, and prints a Markdown table for
// docs/benchmarks.md.
//
//	go run ./cmd/benchtable              # the fast set, 5 runs each
//	go run ./cmd/benchtable -long        # plus the 10,000-block store and sync runs
//	go run ./cmd/benchtable -count 3 -only chain,miner
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// group is one `go test -bench` invocation.
type group struct {
	name      string // for -only
	pkg       string
	benches   []string // benchmark names, anchored
	benchtime string
	long      bool // only with -long
}

var groups = []group{
	{name: "chain", pkg: "./chain", benches: []string{"BenchmarkHeaderNonces", "BenchmarkSHA256Bulk1MiB"}},
	{name: "signatures", pkg: "./consensus", benches: []string{"BenchmarkVerifySingle", "BenchmarkVerifyTxsAllCores"}},
	{name: "blockchain", pkg: "./blockchain", benches: []string{"BenchmarkConnectBlock1000", "BenchmarkVerifyBatchAllCores"}, benchtime: "3x"},
	{name: "store", pkg: "./store/pebble", benches: []string{"BenchmarkPebbleConnect"}},
	{name: "mempool", pkg: "./mempool", benches: []string{"BenchmarkAddBatch1000"}},
	{name: "api", pkg: "./api", benches: []string{"BenchmarkSubmitTxBatch", "BenchmarkSubmitTxSingle"}},
	{name: "miner", pkg: "./miner", benches: []string{"BenchmarkMinerHashRate"}},
	{name: "propagation", pkg: "./internal/systest", benches: []string{"BenchmarkPropagation"}, benchtime: "100x"},
	{name: "pebblechain", pkg: "./internal/systest", benches: []string{"BenchmarkPebbleChain"}, benchtime: "1x", long: true},
	{name: "sync", pkg: "./internal/systest", benches: []string{"BenchmarkConnectDirect", "BenchmarkInitialSync"}, benchtime: "1x", long: true},
	{name: "latejoin", pkg: "./internal/systest", benches: []string{"BenchmarkLateJoin"}, benchtime: "3x", long: true},
}

// key names one figure: benchmark and unit.
type key struct{ bench, unit string }

// ratio is a requirement between two medians: num / (den * denScale) >= min.
type ratio struct {
	label    string
	num, den key
	denScale float64
	min      float64
}

func ratios() []ratio {
	cores := float64(runtime.NumCPU())
	return []ratio{
		{"header nonces per core / SHA-256 64-byte blocks per core (issue: >= 0.8)",
			key{"BenchmarkHeaderNonces", "nonces/s"}, key{"BenchmarkSHA256Bulk1MiB", "blocks64/s"}, 1, 0.8},
		{"block connect tx/s / batch verifier sigs/s, all cores (issue: >= 0.75)",
			key{"BenchmarkConnectBlock1000", "tx/s"}, key{"BenchmarkVerifyBatchAllCores", "sigs/s"}, 1, 0.75},
		{fmt.Sprintf("miner hashes/s / (header nonces/s x %d cores) (issue: >= 0.85)", int(cores)),
			key{"BenchmarkMinerHashRate", "hashes/s"}, key{"BenchmarkHeaderNonces", "nonces/s"}, cores, 0.85},
		{"initial sync from 3 peers / ProcessBlock of the same blocks into Pebble, same process (issue: >= 0.6)",
			key{"BenchmarkInitialSync/peers=3", "vs-connect"}, key{"", ""}, 1, 0.6},
		{"initial sync from 1 peer / ProcessBlock of the same blocks into Pebble, same process",
			key{"BenchmarkInitialSync/peers=1", "vs-connect"}, key{"", ""}, 1, 0.6},
		{"initial sync from 3 peers, blocks/s / blockchain's BenchmarkPebbleChain blocks/s (issue: >= 0.6)",
			key{"BenchmarkInitialSync/peers=3", "blocks/s"}, key{"BenchmarkPebbleChain", "blocks/s"}, 1, 0.6},
		{"API batch tx/s / 20,000 (issue: >= 1)",
			key{"BenchmarkSubmitTxBatch", "tx/s"}, key{"", ""}, 20_000, 1},
	}
}

func main() {
	count := flag.Int("count", 5, "runs of each benchmark; medians are reported")
	long := flag.Bool("long", false, "also run the long benchmarks (10,000-block Pebble chain)")
	only := flag.String("only", "", "comma-separated groups to run: "+groupNames())
	flag.Parse()

	figures := map[key][]float64{}
	var order []key
	for _, g := range groups {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), g.name) {
			continue
		}
		if g.long && !*long && *only == "" {
			continue
		}
		fmt.Fprintf(os.Stderr, "benchtable: %s %v ...\n", g.pkg, g.benches)
		out, err := run(g, *count)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchtable: %s: %v\n%s", g.pkg, err, out)
			os.Exit(1)
		}
		for _, f := range parse(out) {
			if _, ok := figures[f.k]; !ok {
				order = append(order, f.k)
			}
			figures[f.k] = append(figures[f.k], f.v)
		}
	}
	report(figures, order, *count)
}

func groupNames() string {
	var names []string
	for _, g := range groups {
		names = append(names, g.name)
	}
	return strings.Join(names, ",")
}

func run(g group, count int) ([]byte, error) {
	var re []string
	for _, b := range g.benches {
		re = append(re, "^"+b+"$")
	}
	args := []string{"test", "-run", "^$", "-bench", strings.Join(re, "|"), "-count", strconv.Itoa(count), "-timeout", "60m"}
	if g.benchtime != "" {
		args = append(args, "-benchtime", g.benchtime)
	}
	cmd := exec.Command("go", append(args, g.pkg)...)
	cmd.Stderr = os.Stderr
	return cmd.Output()
}

type figure struct {
	k key
	v float64
}

// parse reads benchmark lines: "BenchmarkX-2  N  123 ns/op  4.5 unit ...".
func parse(out []byte) []figure {
	var fs []figure
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i]
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			fs = append(fs, figure{key{name, fields[i+1]}, v})
		}
	}
	return fs
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func report(figures map[key][]float64, order []key, count int) {
	host, _ := os.Hostname()
	fmt.Printf("Run %s on %s: %s/%s, %d CPUs (%s), %s, median of %d.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runtime.Version(), count)
	custom := map[string]bool{} // benchmarks that report their own figures
	for _, k := range order {
		if !strings.Contains("ns/op B/op allocs/op MB/s", k.unit) {
			custom[k.bench] = true
		}
	}
	fmt.Println("| benchmark | unit | median | min | max |")
	fmt.Println("|---|---|---:|---:|---:|")
	for _, k := range order {
		if k.unit == "B/op" || k.unit == "allocs/op" || (custom[k.bench] && (k.unit == "ns/op" || k.unit == "MB/s")) {
			continue
		}
		vs := figures[k]
		fmt.Printf("| %s | %s | %s | %s | %s |\n", strings.TrimPrefix(k.bench, "Benchmark"), k.unit,
			num(median(vs)), num(slices.Min(vs)), num(slices.Max(vs)))
	}
	header := false
	for _, r := range ratios() {
		n, ok := figures[r.num]
		if !ok {
			continue
		}
		den := r.denScale
		if r.den.bench != "" {
			d, ok := figures[r.den]
			if !ok {
				continue
			}
			den *= median(d)
		}
		got := median(n) / den
		if !header {
			fmt.Println()
			fmt.Println("| requirement | ratio | holds |")
			fmt.Println("|---|---:|---|")
			header = true
		}
		holds := "yes"
		if got < r.min {
			holds = "**no**"
		}
		fmt.Printf("| %s | %.2f | %s |\n", r.label, got, holds)
	}
}

func num(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			if _, v, ok := strings.Cut(line, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return "unknown CPU"
}
