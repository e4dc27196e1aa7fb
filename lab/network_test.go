package lab

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExamplesLoad(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) < 4 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		n, err := LoadNetwork(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		total := 0.0
		for _, x := range n.Nodes {
			total += x.Share
		}
		if math.Abs(total-1) > 1e-9 {
			t.Errorf("%s: shares add up to %v", f, total)
		}
		if !connected(n) {
			t.Errorf("%s: the network is not connected", f)
		}
	}
}

// connected reports whether every node reaches every other over the links.
func connected(n *Network) bool {
	adj := map[string][]string{}
	for _, l := range n.Links {
		adj[l.Pair.A] = append(adj[l.Pair.A], l.Pair.B)
		adj[l.Pair.B] = append(adj[l.Pair.B], l.Pair.A)
	}
	seen := map[string]bool{n.Nodes[0].Name: true}
	queue := []string{n.Nodes[0].Name}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		for _, y := range adj[x] {
			if !seen[y] {
				seen[y] = true
				queue = append(queue, y)
			}
		}
	}
	return len(seen) == len(n.Nodes)
}

func TestParseNetwork(t *testing.T) {
	n, err := ParseNetwork([]byte(`
name: t
transport: memnet
topology: line
link: {latency: 10ms}
nodes:
  - {name: a, share: 60}
  - {name: b, mining: false}
  - {name: c}
  - {name: d, strategy: selfish}
links:
  - {link: a-d, latency: 200ms, jitter: 20ms, loss: 5%, bandwidth: 10Mbit}
  - {link: b-c}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Node{{"a", 0.6, true, "honest"}, {"b", 0, false, "honest"}, {"c", 0.2, true, "honest"}, {"d", 0.2, true, "selfish"}}
	for i, w := range want {
		g := n.Nodes[i]
		if g.Name != w.Name || math.Abs(g.Share-w.Share) > 1e-12 || g.Mining != w.Mining || g.Strategy != w.Strategy {
			t.Errorf("node %d: %+v, want %+v", i, g, w)
		}
	}
	if len(n.Links) != 4 { // a-b, b-c, c-d from the line, a-d
		t.Fatalf("links %+v", n.Links)
	}
	last := n.Links[3]
	if last.Pair != (Pair{"a", "d"}) || time.Duration(last.Shape.Latency) != 200*time.Millisecond ||
		time.Duration(last.Shape.Jitter) != 20*time.Millisecond || math.Abs(float64(last.Shape.Loss)-0.05) > 1e-12 || last.Shape.Bandwidth != 10e6 {
		t.Errorf("a-d: %+v", last)
	}
	if bc := n.Links[1]; time.Duration(bc.Shape.Latency) != 10*time.Millisecond {
		t.Errorf("b-c without a shape of its own: %+v, want the default link", bc)
	}
}

func TestParseNetworkRejects(t *testing.T) {
	cases := map[string]string{
		"no nodes":           `name: x`,
		"unknown field":      "nodes: [{name: a}]\ncolour: red",
		"bad name":           `nodes: [{name: A}]`,
		"duplicate name":     `nodes: [{name: a}, {name: a}]`,
		"shares over 100":    `nodes: [{name: a, share: 70}, {name: b, share: 40}]`,
		"negative share":     `nodes: [{name: a, share: -1}]`,
		"share not mining":   `nodes: [{name: a, share: 10, mining: false}]`,
		"unknown strategy":   `nodes: [{name: a, strategy: greedy}]`,
		"unknown link node":  "nodes: [{name: a}, {name: b}]\nlinks: [{link: a-z}]",
		"self link":          "nodes: [{name: a}, {name: b}]\nlinks: [{link: a-a}]",
		"loss over 100":      "nodes: [{name: a}, {name: b}]\nlinks: [{link: a-b, loss: 150%}]",
		"negative latency":   "nodes: [{name: a}, {name: b}]\nlinks: [{link: a-b, latency: -5ms}]",
		"bad bandwidth":      "nodes: [{name: a}, {name: b}]\nlinks: [{link: a-b, bandwidth: fast}]",
		"unknown transport":  "transport: carrier-pigeon\nnodes: [{name: a}]",
		"unknown topology":   "topology: star\nnodes: [{name: a}, {name: b}]",
		"random too dense":   "topology: random:5\nnodes: [{name: a}, {name: b}, {name: c}]",
		"sim on libp2p":      "simulated_mining: true\nnodes: [{name: a}]",
		"too many generated": "generate: {count: 5000}",
		"compression huge":   "compression: 1e9\nnodes: [{name: a}]",
		"not yaml":           "nodes: [",
	}
	for name, in := range cases {
		if _, err := ParseNetwork([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTopologies(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e"}
	count := func(kind string) int {
		ps, err := Topology(kind, names, 1)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		return len(ps)
	}
	if got := count("line"); got != 4 {
		t.Errorf("line: %d links", got)
	}
	if got := count("ring"); got != 5 {
		t.Errorf("ring: %d links", got)
	}
	if got := count("mesh"); got != 10 {
		t.Errorf("mesh: %d links", got)
	}
	var many []string
	for i := range 200 {
		many = append(many, "n"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	ps, err := Topology("random:8", many, 3)
	if err != nil {
		t.Fatal(err)
	}
	deg := map[string]int{}
	for _, p := range ps {
		deg[p.A]++
		deg[p.B]++
	}
	for _, x := range many {
		if deg[x] < 8 {
			t.Fatalf("random:8: %s has %d links", x, deg[x])
		}
	}
	n := &Network{}
	for _, x := range many {
		n.Nodes = append(n.Nodes, Node{Name: x})
	}
	for _, p := range ps {
		n.Links = append(n.Links, Link{Pair: p})
	}
	if !connected(n) {
		t.Fatal("random:8 is not connected")
	}
	again, _ := Topology("random:8", many, 3)
	if len(again) != len(ps) || again[0] != ps[0] || again[len(ps)-1] != ps[len(ps)-1] {
		t.Fatal("random topology is not reproducible from its seed")
	}
	for _, bad := range []string{"random:0", "random:x", "star"} {
		if _, err := Topology(bad, names, 1); !errors.Is(err, ErrBadTopology) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestShapeParsing(t *testing.T) {
	if p, err := ParsePercent("5%"); err != nil || math.Abs(float64(p)-0.05) > 1e-12 {
		t.Errorf("5%%: %v %v", p, err)
	}
	if p, err := ParsePercent("0.25"); err != nil || p != 0.25 {
		t.Errorf("0.25: %v %v", p, err)
	}
	if b, err := ParseBandwidth("1.5Gbit"); err != nil || b != 1.5e9 {
		t.Errorf("1.5Gbit: %v %v", b, err)
	}
	if _, err := ParseBandwidth("10MB"); err == nil {
		t.Error("10MB accepted")
	}
	if d, err := ParseDuration("200ms"); err != nil || time.Duration(d) != 200*time.Millisecond {
		t.Errorf("200ms: %v %v", d, err)
	}
	if _, err := ParseDuration("200"); err == nil {
		t.Error("a duration without a unit accepted")
	}
	s := Shape{Latency: Duration(200 * time.Millisecond), Jitter: Duration(20 * time.Millisecond), Bandwidth: 1e6}
	if got := s.Scale(10); time.Duration(got.Latency) != 20*time.Millisecond || time.Duration(got.Jitter) != 2*time.Millisecond ||
		got.Bandwidth != 1e7 {
		t.Errorf("scaled: %+v", got)
	}
	// memnet's bandwidth is bytes per second: 1 Mbit/s compressed tenfold
	// is 1.25 MB/s of real time.
	if lp := s.Scale(10).linkParams(); lp.Latency != 20*time.Millisecond || lp.Jitter != 2*time.Millisecond || lp.Bandwidth != 1_250_000 {
		t.Errorf("memnet link: %+v", lp)
	}
	if lp := (Shape{}).Scale(10).linkParams(); lp.Bandwidth != 0 {
		t.Errorf("an unlimited link got %d B/s", lp.Bandwidth)
	}
	for _, bad := range []Bandwidth{-1, 999, MaxBandwidth * 2} {
		if err := (Shape{Bandwidth: bad}).Check(); !errors.Is(err, ErrBadShape) {
			t.Errorf("bandwidth %v: %v", float64(bad), err)
		}
	}
	if err := (Shape{Bandwidth: MinBandwidth}).Check(); err != nil {
		t.Errorf("bandwidth %v: %v", MinBandwidth, err)
	}
	if p, err := ParsePair("a-b", nil); err != nil || p != (Pair{"a", "b"}) {
		t.Errorf("a-b: %v %v", p, err)
	}
	if p, err := ParsePair("c-a", nil); err != nil || p != (Pair{"a", "c"}) {
		t.Errorf("c-a: %v %v", p, err)
	}
}

// TestLatencySpread checks that topology links get latencies drawn in the
// spread, the same ones for the same seed, and that a bad spread is refused.
func TestLatencySpread(t *testing.T) {
	const file = `
name: spread
topology: random:3
seed: 7
link: {latency: 50ms}
latency_spread: 150ms
generate: {count: 40}
`
	n, err := ParseNetwork([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := ParseNetwork([]byte(file))
	lo, hi := time.Hour, time.Duration(0)
	for i, l := range n.Links {
		d := time.Duration(l.Shape.Latency)
		if d < 50*time.Millisecond || d > 200*time.Millisecond {
			t.Fatalf("link %s: latency %v not in 50..200 ms", l.Pair, d)
		}
		if again.Links[i] != l {
			t.Fatalf("link %d: %v then %v for the same seed", i, l, again.Links[i])
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	if hi-lo < 100*time.Millisecond {
		t.Errorf("latencies only span %v..%v", lo, hi)
	}
	for _, bad := range []string{"latency_spread: -1ms", "latency_spread: 2m"} {
		if _, err := ParseNetwork([]byte("topology: ring\nnodes: [{name: a}, {name: b}]\n" + bad + "\n")); !errors.Is(err, ErrBadNetwork) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
