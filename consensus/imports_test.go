package consensus_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRulesDoNotDependOnWallet checks the import graph: the packages that
// decide validity verify signatures with package consensus and never reach
// package wallet (keys, signing, keystore), so wallet code cannot change
// what the network accepts.
func TestRulesDoNotDependOnWallet(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	rules := []string{"../consensus", "../state", "../blockchain", "../mempool", "../miner", "../netsync"}
	out, err := exec.Command(goTool, append([]string{"list", "-deps"}, rules...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "github.com/chaind/chaind/wallet" || strings.HasPrefix(pkg, "github.com/chaind/chaind/wallet/") {
			t.Fatalf("the rules depend on %s", pkg)
		}
	}
}
