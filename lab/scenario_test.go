package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
)

// writeScenario writes a scenario file named name in dir and returns its
// path.
func writeScenario(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// scenarioCluster loads a scenario file and starts its network on the
// in-memory cluster; the caller closes the cluster.
func scenarioCluster(t *testing.T, path string, seed uint64) (*Scenario, *MemCluster, *Observatory) {
	t.Helper()
	s, err := LoadScenario(path, seed)
	if err != nil {
		t.Fatal(err)
	}
	obs := NewObservatory(nil)
	c, err := NewMemCluster(MemConfig{Network: s.Network, Observatory: obs})
	if err != nil {
		t.Fatal(err)
	}
	return s, c, obs
}

// runScenario runs a scenario file on the in-memory cluster and reports
// whether it passed, logging every step.
func runScenario(t *testing.T, path string, seed uint64) bool {
	t.Helper()
	s, c, obs := scenarioCluster(t, path, seed)
	defer c.Close()
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, ok := (&Runner{Cluster: c, Observatory: obs, Out: &out}).Run(ctx, s)
	t.Logf("%s (seed %d):\n%s", s.Name, s.Network.Seed, out.String())
	return ok
}

// TestShippedScenarios runs every scenario in examples/scenarios on memnet
// with a fixed seed.
func TestShippedScenarios(t *testing.T) {
	files, err := filepath.Glob("../examples/scenarios/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("scenarios: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			if !runScenario(t, f, 1) {
				t.Fatal("an expectation did not hold")
			}
		})
	}
}

// TestScenarioFailsWhenExpectationFails checks that a scenario can fail:
// an expectation that cannot hold makes Run report false.
func TestScenarioFailsWhenExpectationFails(t *testing.T) {
	path := writeScenario(t, t.TempDir(), "bad.yaml", `
name: impossible
inline_network:
  transport: memnet
  simulated_mining: true
  compression: 10
  nodes: [{name: a}]
steps:
  - {at: 0s, expect: height >= 1000000, within: 300ms}
  - {at: 0s, do: stop nosuch}
`)
	if runScenario(t, path, 1) {
		t.Fatal("an impossible scenario passed")
	}
}

func TestLoadScenarioRejects(t *testing.T) {
	dir := t.TempDir()
	const net = "inline_network: {nodes: [{name: a}, {name: b}]}\nsteps:\n"
	// A broken step is refused with its number, its line and what is wrong.
	for name, c := range map[string]struct{ steps, want string }{
		"load without a rate":     {"  - {do: heal}\n  - {do: load --from a}", "step 2 (line 4): bad request: usage: load --tps N"},
		"load too fast":           {"  - {do: load --tps 5000}", "step 1 (line 3): bad request: tps \"5000\": want a rate in 0..1000"},
		"load with a bad option":  {"  - {do: load --tps 5 --rate 5}", "step 1 (line 3): bad request: unknown option \"rate\""},
		"load with empty senders": {"  - {do: 'load --tps 5 --from ,'}", "step 1 (line 3): bad request: --from wants nodes a,b"},
		"mined load, no load":     {"  - {do: heal}\n  - {expect: mined load}", "step 2 (line 4): \"mined load\": no load step before it"},
		"mined before its send":   {"  - {expect: mined t1}\n  - {do: send a b 5, as: t1}", "step 1 (line 3): \"mined t1\": no send step before it"},
		"contains unremembered":   {"  - {expect: contains a x}", "step 1 (line 3): \"contains a x\": no step before it remembers"},
		"as on a heal":            {"  - {do: heal, as: x}", "step 1 (line 3): as names the transaction of a send step, not of heal"},
		"as load":                 {"  - {do: send a b 5, as: load}", "step 1 (line 3): as: \"load\" names the load's transactions"},
		"mine a lot":              {"  - {do: mine a 5000}", "step 1 (line 3): bad request: blocks 5000 not in 1..1000"},
		"mine what":               {"  - {do: mine a x}", "step 1 (line 3): bad request: blocks \"x\""},
		"send nothing":            {"  - {do: send a b 0}", "step 1 (line 3): bad request: amount \"0\""},
		"a slow link":             {"  - {do: shape a-b --bandwidth 10bit}", "step 1 (line 3): bad request: bad link shape: bandwidth 10 bit/s not in 1kbit..1000Gbit"},
		"remember what":           {"  - {do: remember a}", "step 1 (line 3): bad request: usage: remember NODE NAME"},
		"explode":                 {"  - {do: heal}\n  - {do: explode a}", "step 2 (line 4): unknown command \"explode\" (want partition, heal, shape, stop, crash, start, add, mine, hashrate, send, load, remember)"},
		"mined at":                {"  - {do: load --tps 1}\n  - {expect: mined a b load}", "step 2 (line 4): expectation \"mined a b load\""},
	} {
		p := writeScenario(t, dir, strings.ReplaceAll(name, " ", "_")+".yaml", net+c.steps+"\n")
		_, err := LoadScenario(p, 0)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	cases := map[string]string{
		"no steps":           "inline_network: {nodes: [{name: a}]}\nsteps: []",
		"do and expect":      "inline_network: {nodes: [{name: a}]}\nsteps: [{do: heal, expect: converged}]",
		"unknown command":    "inline_network: {nodes: [{name: a}]}\nsteps: [{do: explode a}]",
		"bad expectation":    "inline_network: {nodes: [{name: a}]}\nsteps: [{expect: happiness >= 1}]",
		"unknown field":      "inline_network: {nodes: [{name: a}]}\nsteps: [{do: heal, when: now}]",
		"missing network":    "network: nowhere.yaml\nsteps: [{do: heal}]",
		"negative time":      "inline_network: {nodes: [{name: a}]}\nsteps: [{at: -1s, do: heal}]",
		"share without node": "inline_network: {nodes: [{name: a}]}\nsteps: [{expect: share >= 1}]",
	}
	for name, body := range cases {
		p := writeScenario(t, dir, strings.ReplaceAll(name, " ", "_")+".yaml", body)
		if _, err := LoadScenario(p, 0); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestScenarioLoad: a load step sends transactions until the step that
// stops it, "mined load" holds once every one is on every node's chain and
// says how many, and the per-node form checks one node; a load that could
// send nothing (one sender and no other running node to pay) fails the
// expectation rather than passing it vacuously.
func TestScenarioLoad(t *testing.T) {
	dir := t.TempDir()
	path := writeScenario(t, dir, "load.yaml", `
name: load
inline_network:
  transport: memnet
  simulated_mining: true
  compression: 10
  topology: line
  link: {latency: 5ms}
  nodes: [{name: a}, {name: b}, {name: c, mining: false}]
steps:
  - {at: 0s, do: "load --tps 30 --from c"}
  - {at: 1s, do: load --tps 0}
  - {at: 1s, expect: mined c load, within: 10s}
  - {at: 1s, expect: mined load, within: 10s}
`)
	s, c, obs := scenarioCluster(t, path, 1)
	defer c.Close()
	var out strings.Builder
	r := &Runner{Cluster: c, Observatory: obs, Out: &out}
	res, ok := r.Run(context.Background(), s)
	t.Logf("\n%s", out.String())
	if !ok {
		t.Fatal("the load scenario failed")
	}
	sent := len(r.loadTxs)
	if sent < 20 || sent > 31 {
		t.Fatalf("the load sent %d transactions in about a second at 30 tps", sent)
	}
	if want := fmt.Sprintf("stopped; %d sent, 0 failed", sent); res[1].Detail != want {
		t.Errorf("stop step: %q, want %q", res[1].Detail, want)
	}
	for i, where := range []string{"c", "every running node"} {
		if want := fmt.Sprintf("all %d load transactions mined at %s", sent, where); !strings.Contains(res[2+i].Detail, want) {
			t.Errorf("%s: %q, want %q", res[2+i].Step, res[2+i].Detail, want)
		}
	}
	// Every one was sent from c's key, to a, the node after it.
	_, a, err := c.running("a")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range r.loadTxs {
		h, _ := chain.ParseHash(id)
		loc, _, err := a.chain().TxLocation(h)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := a.chain().Block(loc.Block)
		tx := b.Txs[loc.Index]
		if tx.From != nodeKey(s.Network.Name, "c").PublicKey() || tx.To != nodeKey(s.Network.Name, "a").Address() {
			t.Fatalf("load transaction %s is not from c to a", id)
		}
	}

	path = writeScenario(t, dir, "no-load.yaml", `
name: no load
inline_network:
  transport: memnet
  simulated_mining: true
  compression: 10
  nodes: [{name: a}]
steps:
  - {at: 0s, do: load --tps 30}
  - {at: 0.3s, expect: mined load, within: 200ms}
`)
	if runScenario(t, path, 1) {
		t.Fatal("mined load held though nothing was sent")
	}
}
