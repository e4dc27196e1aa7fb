package lab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runScenario runs a scenario file on the in-memory cluster and reports
// whether it passed, logging every step.
func runScenario(t *testing.T, path string, seed uint64) bool {
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
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	os.WriteFile(path, []byte(`
name: impossible
inline_network:
  transport: memnet
  simulated_mining: true
  compression: 10
  nodes: [{name: a}]
steps:
  - {at: 0s, expect: height >= 1000000, within: 300ms}
  - {at: 0s, do: stop nosuch}
`), 0o600)
	if runScenario(t, path, 1) {
		t.Fatal("an impossible scenario passed")
	}
}

func TestLoadScenarioRejects(t *testing.T) {
	dir := t.TempDir()
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
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yaml")
		os.WriteFile(p, []byte(body), 0o600)
		if _, err := LoadScenario(p, 0); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
