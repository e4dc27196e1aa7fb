package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaind/chaind/lab"
)

// TestDevnetScenarioExitStatus runs `chaind devnet scenario` on a shipped
// scenario (exit 0) and on one whose expectation cannot hold (exit 1), and
// replays the recorded session.
func TestDevnetScenarioExitStatus(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "session.jsonl")
	out, err := exec.Command(chaindBin, "devnet", "scenario", "../../examples/scenarios/duel.yaml", "--seed", "1", "--record", rec).CombinedOutput()
	if err != nil {
		t.Fatalf("duel scenario: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "every expectation held") {
		t.Fatalf("output:\n%s", out)
	}
	out, err = exec.Command(chaindBin, "devnet", "replay", rec, "--json").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"blocks_found"`) {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	// A devnet offered a file that is not a recording for its network
	// view refuses to start, naming it.
	notRec := filepath.Join(dir, "notes.txt")
	os.WriteFile(notRec, []byte("not a recording\n"), 0o600)
	for _, f := range []string{notRec, filepath.Join(dir, "missing.jsonl")} {
		out, err = exec.Command(chaindBin, "devnet", "--sim", "--nodes", "1", "--controller", "127.0.0.1:0", "--for", "1s", "--replay", f).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "--replay") {
			t.Fatalf("devnet --replay %s: %v\n%s", f, err, out)
		}
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`
inline_network: {transport: memnet, simulated_mining: true, compression: 10, nodes: [{name: a}]}
steps:
  - {at: 0s, expect: height >= 100000, within: 200ms}
`), 0o600)
	out, err = exec.Command(chaindBin, "devnet", "scenario", bad).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), lab.ErrScenarioFailed.Error()) {
		t.Fatalf("failing scenario: %v\n%s", err, out)
	}
}

// TestDevnetControlWithoutController checks that a control with no devnet
// running fails with a clear error.
func TestDevnetControlWithoutController(t *testing.T) {
	out, err := exec.Command(chaindBin, "devnet", "heal", "--controller", "127.0.0.1:1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "devnet controller at http://127.0.0.1:1") {
		t.Fatalf("heal without a devnet: %v\n%s", err, out)
	}
}
