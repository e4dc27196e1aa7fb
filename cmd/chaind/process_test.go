package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/client"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/store/pebble"
)

// chaindBin is the binary built once for the process tests.
var chaindBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chaind-bin")
	if err != nil {
		panic(err)
	}
	chaindBin = filepath.Join(dir, "chaind")
	if out, err := exec.Command("go", "build", "-o", chaindBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build chaind: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a chaind process under test.
type proc struct {
	cmd  *exec.Cmd
	api  string
	logs *strings.Builder
	done chan struct{}
}

var listenRE = regexp.MustCompile(`msg="HTTP API listening" addr=(\S+)`)

// startNode runs "chaind run" with args and waits until its API listens.
// The API and peer-to-peer ports are picked by the system unless args say.
func startNode(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(chaindBin, append([]string{"run", "--http", "127.0.0.1:0", "--p2p", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: &strings.Builder{}, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.logs.WriteString(line + "\n")
			if m := listenRE.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case a := <-addr:
		p.api = "http://" + a
	case <-p.done:
		t.Fatalf("chaind exited before listening:\n%s", p.logs)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("chaind did not start listening in 30 s")
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return p
}

func (p *proc) status(t *testing.T) (height uint32, tip chain.Hash) {
	t.Helper()
	s, err := client.New(p.api).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.Height, s.Tip
}

func (p *proc) waitHeight(t *testing.T, h uint32, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, _ := p.status(t)
		if got >= h {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("height %d after %v, want %d", got, timeout, h)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// storedTip opens a (stopped) node's store and returns its tip.
func storedTip(t *testing.T, datadir string, p *consensus.Params) chain.Hash {
	t.Helper()
	st, err := pebble.Open(filepath.Join(datadir, "chain"), p.Name, p.GenesisHash())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tip, ok, err := st.Tip()
	if err != nil || !ok {
		t.Fatalf("stored tip: %v %v", ok, err)
	}
	return tip
}

// TestRestartAfterSIGKILL runs the binary, mines 10 blocks, kills it with
// SIGKILL, and starts it again: same tip, and it goes on mining. A clean
// SIGTERM stop in between must keep the tip too.
func TestRestartAfterSIGKILL(t *testing.T) {
	datadir := t.TempDir()
	p := consensus.Devnet()

	n := startNode(t, "--datadir", datadir)
	n.waitHeight(t, 10, 60*time.Second) // devnet: about a block a second once on target
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	n.cmd.Wait()
	killedTip := storedTip(t, datadir, p)

	// Restart without mining: exactly the stored tip.
	n = startNode(t, "--datadir", datadir, "--mine=false")
	if _, tip := n.status(t); tip != killedTip {
		t.Fatalf("tip after restart %s, want %s", tip, killedTip)
	}
	// A clean stop with SIGTERM.
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		t.Fatal("chaind did not stop on SIGTERM within 10 s")
	}
	if err := n.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, n.logs)
	}
	if !strings.Contains(n.logs.String(), "node stopped") {
		t.Fatalf("no clean shutdown in the log:\n%s", n.logs)
	}

	// And it goes on mining from there.
	n = startNode(t, "--datadir", datadir)
	height, tip := n.status(t)
	b, err := client.New(n.api).Block(context.Background(), killedTip.String())
	if err != nil || b.Hash != killedTip {
		t.Fatalf("the killed tip %s is not on the restarted chain (tip %s)", killedTip, tip)
	}
	n.waitHeight(t, height+5, 60*time.Second)
}

// TestRunRefusesBadConfig checks that bad flags fail fast with a clear error.
func TestRunRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--network", "nosuchnet"}, "unknown network"},
		{[]string{"run", "--network", "./missing.json"}, "genesis file"},
		{[]string{"run", "--datadir", t.TempDir(), "--miner-address", "dev1notanaddress", "--http", "127.0.0.1:0"}, "miner address"},
		{[]string{"run", "--log-level", "loud"}, "--log-level"},
		{[]string{"send", "--to", "x"}, "required flag"},
	} {
		out, err := exec.Command(chaindBin, tc.args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("chaind %v: err %v, output %q; want failure mentioning %q", tc.args, err, out, tc.want)
		}
	}
}

// TestEnvironmentFlags checks CHAIND_<FLAG> fills an unset flag.
func TestEnvironmentFlags(t *testing.T) {
	cmd := exec.Command(chaindBin, "run")
	cmd.Env = append(os.Environ(), "CHAIND_NETWORK=nosuchnet-from-env")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "nosuchnet-from-env") {
		t.Fatalf("CHAIND_NETWORK not used: %v %s", err, out)
	}
}

// TestWalletNewAndList creates an encrypted key with the passphrase from
// the environment and lists it; a node on that data directory unlocks it
// with the same passphrase and mines to it.
func TestWalletNewAndList(t *testing.T) {
	datadir := t.TempDir()
	cmd := exec.Command(chaindBin, "wallet", "new", "--network", "regtest", "--datadir", datadir)
	cmd.Env = append(os.Environ(), "CHAIND_PASSPHRASE=correct horse")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("wallet new: %v", err)
	}
	addr := strings.TrimSpace(string(out))
	if _, err := chain.ParseAddress("reg", addr); err != nil {
		t.Fatalf("wallet new printed %q: %v", addr, err)
	}
	out, err = exec.Command(chaindBin, "wallet", "list", "--network", "regtest", "--datadir", datadir).Output()
	if err != nil || strings.TrimSpace(string(out)) != addr {
		t.Fatalf("wallet list: %q %v, want %s", out, err, addr)
	}
	// The keystore is encrypted: no development key was made.
	if _, err := os.Stat(filepath.Join(datadir, "dev.key")); !os.IsNotExist(err) {
		t.Fatalf("dev.key exists next to a keystore: %v", err)
	}
	t.Setenv("CHAIND_PASSPHRASE", "correct horse")
	n := startNode(t, "--network", "regtest", "--datadir", datadir, "--p2p", "")
	if info := nodeInfo(t, n); info.MinerAddress != addr {
		t.Fatalf("node mines to %q, want the keystore key %s", info.MinerAddress, addr)
	}
}
