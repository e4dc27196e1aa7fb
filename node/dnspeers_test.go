package node

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/chaind/chaind/consensus"
)

// serveNodeInfo answers /api/v1/node for n on addr (as the API does).
func serveNodeInfo(t *testing.T, n *Node, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("listen on %s: %v", addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/node" {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"peer_id": n.PeerID(), "listen_addresses": n.ListenAddrs()})
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// startNode starts a node of cfg (by default on regtest, in a temporary
// directory, listening on a free loopback port), stopped when the test ends.
func startNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	if cfg.Params == nil {
		cfg.Params = consensus.Regtest()
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.P2PListen == "" {
		cfg.P2PListen = "127.0.0.1:0"
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	return n
}

// TestPeerDNS gives a node one DNS name that resolves to the APIs of two
// other nodes, to an address where nothing listens and to the node's own
// address, and checks that it connects to both nodes.
func TestPeerDNS(t *testing.T) {
	// Two "hosts" on one port, as replicas behind a service name are.
	probe, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 on this machine: %v", err)
	}
	port := strconv.Itoa(probe.Addr().(*net.TCPAddr).Port)
	probe.Close()

	b := startNode(t, Config{})
	c := startNode(t, Config{})
	serveNodeInfo(t, b, "127.0.0.2:"+port)
	serveNodeInfo(t, c, "127.0.0.3:"+port)

	a, err := New(Config{Params: consensus.Regtest(), DataDir: t.TempDir(), P2PListen: "127.0.0.1:0", PeerDNS: []string{"chaind.test:" + port}})
	if err != nil {
		t.Fatal(err)
	}
	lookups := make(chan string, 100)
	a.dns.lookup = func(_ context.Context, host string) ([]string, error) {
		select {
		case lookups <- host:
		default:
		}
		return []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "10.255.255.1"}, nil
	}
	a.dns.local = func() map[string]bool { return map[string]bool{"10.255.255.1": true} }
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop() })
	serveNodeInfo(t, a, "127.0.0.4:"+port) // a's own API: skipped as self

	deadline := time.Now().Add(30 * time.Second)
	for {
		ids := map[string]bool{}
		for _, p := range a.Net.Peers() {
			ids[string(p.ID)] = true
		}
		if ids[b.PeerID()] && ids[c.PeerID()] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not connected to both nodes behind the name: peers %v", ids)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if h := <-lookups; h != "chaind.test" {
		t.Fatalf("looked up %q", h)
	}
	a.dns.mu.Lock()
	defer a.dns.mu.Unlock()
	if _, ok := a.dns.known["http://10.255.255.1:"+port]; ok {
		t.Fatal("a local address was dialled")
	}
	if len(a.dns.known) != 3 {
		t.Fatalf("known %v, want the three non-local addresses", a.dns.known)
	}
}

func TestCheckPeerDNS(t *testing.T) {
	for _, ok := range []string{"tasks.chaind:3001", "node:3001", "chaind-0.chaind.default.svc.cluster.local:3001"} {
		if err := checkPeerDNS(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"tasks.chaind", ":3001", "node:", ""} {
		if err := checkPeerDNS(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	_, err := New(Config{Params: consensus.Regtest(), DataDir: t.TempDir(), P2PListen: "127.0.0.1:0", PeerDNS: []string{"nope"}})
	if err == nil {
		t.Fatal("a bad PeerDNS entry was accepted")
	}
}
