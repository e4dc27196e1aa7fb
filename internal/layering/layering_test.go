// Package layering holds the test that keeps the import graph true to the
// design: nothing below package node knows libp2p, Pebble, HTTP or the
// Prometheus client.
package layering

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// below are the packages under node: chain rules, state, storage and
// network interfaces, sync, pool and miner.
var below = []string{
	"chain", "consensus", "state", "store", "store/storetest", "blockchain",
	"mempool", "miner", "netsync", "p2p", "p2p/memnet", "p2p/p2ptest", "wallet",
}

// forbidden are import-path fragments those packages must not depend on,
// directly or through others.
var forbidden = []string{
	"github.com/libp2p/",
	"github.com/cockroachdb/pebble",
	"github.com/prometheus/",
	"net/http",
	"github.com/chaind/chaind/node",
	"github.com/chaind/chaind/api",
	"github.com/chaind/chaind/p2p/libp2p",
	"github.com/chaind/chaind/store/pebble",
}

func TestNothingBelowNodeKnowsTheHeavyImplementations(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	for _, pkg := range below {
		path := "github.com/chaind/chaind/" + pkg
		out, err := exec.Command("go", "list", "-deps", path).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", path, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}

// lightTests are the packages whose own tests run on the memory store and
// memnet: their test binaries compile neither libp2p nor Pebble (the
// tests that need those live in internal/systest and the implementations'
// own packages).
var lightTests = []string{"chain", "consensus", "state", "store", "blockchain", "mempool", "miner", "netsync", "p2p/memnet"}

// heavy are the import-path fragments of the heavy implementations.
var heavy = []string{
	"github.com/libp2p/",
	"github.com/cockroachdb/pebble",
	"github.com/chaind/chaind/p2p/libp2p",
	"github.com/chaind/chaind/store/pebble",
}

func TestUnitTestsCompileNoHeavyImplementation(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	for _, pkg := range lightTests {
		path := "github.com/chaind/chaind/" + pkg
		out, err := exec.Command("go", "list", "-test", "-deps", path).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -test -deps %s: %v\n%s", path, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range heavy {
				if dep == f || strings.HasPrefix(dep, f) {
					t.Errorf("the tests of %s compile %s", pkg, dep)
				}
			}
		}
	}
}

// rules are the packages that decide what is valid.
var rules = []string{"chain", "consensus", "state", "blockchain", "mempool", "miner", "netsync"}

// TestRulesDoNotDependOnWallet: signatures are verified by package
// consensus, and the rules never reach package wallet (keys, signing,
// keystore), so wallet code cannot change what the network accepts.
func TestRulesDoNotDependOnWallet(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	args := []string{"list", "-deps"}
	for _, pkg := range rules {
		args = append(args, "github.com/chaind/chaind/"+pkg)
	}
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/chaind/chaind/wallet" {
			t.Errorf("the rules (%s) depend on %s", strings.Join(rules, ", "), dep)
		}
	}
}

// TestOneLogKeyForTheSubsystem: loggers name their subsystem with the key
// "sys" (STYLE.md), never "subsystem" or "component", so one filter
// (sys=netsync) finds a subsystem's lines.
func TestOneLogKeyForTheSubsystem(t *testing.T) {
	other := regexp.MustCompile(`\.With\(\s*"(subsystem|component)"`)
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if m := other.Find(src); m != nil {
			t.Errorf("%s: %s: use the key \"sys\" for the subsystem", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
