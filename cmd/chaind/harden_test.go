package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
)

// classnetGenesis is a custom network: not a development network, so its
// protected routes need credentials on loopback too; easy enough to mine
// in a test.
const classnetGenesis = `{"name": "classnet", "address_prefix": "cls", "data": "harden test"}`

// post sends a JSON body with the given headers (name, value pairs) and
// returns the status and body.
func post(t *testing.T, url, body string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestCookieCredentials runs a node of a custom (non-development) network
// on loopback: mining through the API is refused without credentials and
// accepted with the cookie the node wrote (0600) into its default data
// directory; "chaind mine" finds the cookie by itself; a clean stop
// removes it.
func TestCookieCredentials(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	gen := filepath.Join(t.TempDir(), "classnet.json")
	if err := os.WriteFile(gen, []byte(classnetGenesis), 0o600); err != nil {
		t.Fatal(err)
	}
	miner := chain.FormatAddress("cls", chain.Address{1, 2, 3})
	n := startNode(t, "--network", gen, "--mine=false", "--miner-address", miner, "--p2p", "")
	cookiePath := filepath.Join(home, ".chaind", "classnet", CookieFile)
	fi, err := os.Stat(cookiePath)
	if err != nil {
		t.Fatalf("no cookie at start: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cookie mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(cookiePath)
	cookie := strings.TrimSpace(string(raw))

	for _, auth := range []string{"", "Bearer wrong"} {
		if st, body := post(t, n.api+"/mineBlock", `{"data": "x"}`, "Authorization", auth); st != http.StatusUnauthorized {
			t.Fatalf("mineBlock with %q on loopback: %d %s, want 401", auth, st, body)
		}
	}
	if h, _ := n.status(t); h != 0 {
		t.Fatalf("a refused request mined: height %d", h)
	}
	if st, body := post(t, n.api+"/mineBlock", `{"data": "x"}`, "Authorization", "Bearer "+cookie); st != http.StatusOK {
		t.Fatalf("mineBlock with the cookie: %d %s", st, body)
	}
	// Reading stays open.
	if h, _ := n.status(t); h != 1 {
		t.Fatalf("height %d after mining with the cookie", h)
	}

	// The command line: no credential flags.
	out, err := exec.Command(chaindBin, "mine", "--api", n.api, "--data", "cli").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "2 ") {
		t.Fatalf("chaind mine: %v %s", err, out)
	}

	// A clean stop removes the cookie; the next start writes a new one.
	n.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-n.done:
	case <-time.After(20 * time.Second):
		t.Fatal("node did not stop on SIGINT")
	}
	n.cmd.Wait()
	if _, err := os.Stat(cookiePath); !os.IsNotExist(err) {
		t.Fatalf("cookie left after a clean stop: %v", err)
	}
	startNode(t, "--network", gen, "--mine=false", "--miner-address", miner, "--p2p", "")
	raw, err = os.ReadFile(cookiePath)
	if err != nil || strings.TrimSpace(string(raw)) == cookie {
		t.Fatalf("cookie not rewritten at start: %v %q", err, raw)
	}
}

// TestDevnetLoopbackOpenButHostChecked checks that on devnet the tutorials'
// curl examples still work on loopback without credentials, while a
// request a DNS-rebound web page would send (a foreign Host) is refused
// and changes nothing.
func TestDevnetLoopbackOpenButHostChecked(t *testing.T) {
	n := startNode(t, "--datadir", t.TempDir(), "--mine=false", "--p2p", "")
	if st, body := post(t, n.api+"/mineBlock", `{"data": "x"}`, "Host", "attacker.example:3001"); st != http.StatusForbidden || !strings.Contains(body, `"error"`) || !strings.Contains(body, "attacker.example") {
		t.Fatalf("rebound request: %d %s, want 403 with a JSON error", st, body)
	}
	if h, _ := n.status(t); h != 0 {
		t.Fatalf("a refused request mined: height %d", h)
	}
	if st, body := post(t, n.api+"/mineBlock", `{"data": "x"}`, "Host", "localhost:3001"); st != http.StatusOK {
		t.Fatalf("curl-style mineBlock on devnet loopback: %d %s", st, body)
	}
	// A name added with --http-vhosts is accepted.
	n2 := startNode(t, "--datadir", t.TempDir(), "--mine=false", "--p2p", "", "--http-vhosts", "node1,Node2.lan")
	if st, body := post(t, n2.api+"/mineBlock", `{"data": "x"}`, "Host", "node2.lan:3001"); st != http.StatusOK {
		t.Fatalf("mineBlock with a --http-vhosts name: %d %s", st, body)
	}
}

// TestStartErrors checks the errors a new user meets at start are
// reported before the node runs: a taken or malformed HTTP address, a
// taken peer-to-peer port (TCP or its WebSocket port+1), and bootstrap
// peers that cannot be resolved or reached, each with the reason, at the
// default log level and before mining starts.
func TestStartErrors(t *testing.T) {
	// HTTP address in use, or nonsense: fails before the node starts.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, tc := range []struct{ addr, want string }{
		{l.Addr().String(), "address already in use"},
		{"nonsense", "missing port"},
	} {
		out, err := exec.Command(chaindBin, "run", "--datadir", t.TempDir(), "--http", tc.addr, "--p2p", "").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "--http") || !strings.Contains(string(out), tc.want) {
			t.Errorf("--http %s: err %v, output %s; want a failure mentioning %q", tc.addr, err, out, tc.want)
		}
		if strings.Contains(string(out), "mining") || strings.Contains(string(out), "chain loaded") {
			t.Errorf("--http %s: the node got going before failing:\n%s", tc.addr, out)
		}
	}

	// A second node on the same P2P port.
	port := freePortPair(t)
	p2pAddr := fmt.Sprintf("127.0.0.1:%d", port)
	startNode(t, "--datadir", t.TempDir(), "--p2p", p2pAddr, "--mine=false")
	out, err := exec.Command(chaindBin, "run", "--datadir", t.TempDir(), "--http", "127.0.0.1:0", "--p2p", p2pAddr).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "already in use") {
		t.Errorf("second node on P2P port %d: err %v, output %s", port, err, out)
	}

	// Unresolvable and unreachable peers are reported at the default level
	// before mining starts.
	dead := freePortPair(t)
	n := startNode(t, "--datadir", t.TempDir(), "--peer", "http://no-such-host.invalid:3001", "--peer", fmt.Sprintf("http://127.0.0.1:%d", dead))
	deadline := time.Now().Add(20 * time.Second)
	for !(strings.Contains(n.logs.String(), "mining") && strings.Count(n.logs.String(), "level=WARN") >= 2 && strings.Contains(n.logs.String(), "peer=http://no-such-host.invalid")) {
		if time.Now().After(deadline) {
			t.Fatalf("unreachable peers not reported:\n%s", n.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	logs := n.logs.String()
	mining := strings.Index(logs, `msg=mining`)
	for _, want := range []string{"no-such-host.invalid", fmt.Sprintf("127.0.0.1:%d", dead)} {
		i := strings.Index(logs, "level=WARN")
		if j := strings.Index(logs, "peer=http://"+want); j >= 0 {
			i = j // the warning that names the peer (with its reason)
		} else {
			i = -1
		}
		if i < 0 || (mining >= 0 && i > mining) {
			t.Errorf("peer %s not reported before mining:\n%s", want, logs)
		}
	}
	if !strings.Contains(logs, "no such host") || !strings.Contains(logs, "connection refused") {
		t.Errorf("reasons missing from the report:\n%s", logs)
	}
}

// freePortPair finds a loopback port p such that p and p+1 are free.
func freePortPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p+1))
		l.Close()
		if err == nil {
			l2.Close()
			return p
		}
	}
	t.Fatal("no free port pair")
	return 0
}
