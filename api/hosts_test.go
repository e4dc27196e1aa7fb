package api

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chaind/chaind/consensus"
)

func TestHostCheck(t *testing.T) {
	hc := newHostCheck("127.0.0.1:3001", []string{"Node1", "explorer.lan."})
	for host, want := range map[string]bool{
		"":                       true, // HTTP/1.0: not a browser
		"localhost":              true,
		"LOCALHOST:3001":         true,
		"127.0.0.1:3001":         true,
		"[::1]:3001":             true,
		"10.1.2.3:3001":          true, // IP literals cannot be rebound
		"node1:3001":             true,
		"explorer.lan":           true,
		"explorer.lan.:80":       true,
		"attacker.example":       false,
		"attacker.example:3001":  false,
		"localhost.attacker.com": false,
		"node2":                  false,
	} {
		if got := hc.allowed(host); got != want {
			t.Errorf("allowed(%q) = %v, want %v", host, got, want)
		}
	}
	if !newHostCheck("0.0.0.0:3001", []string{"*"}).allowed("anything.example") {
		t.Error(`"*" does not accept every name`)
	}
	if !newHostCheck("chaind.internal:3001", nil).allowed("chaind.internal:3001") {
		t.Error("the bind address's name is refused")
	}
}

// TestDNSRebinding sends the requests a web page whose name was rebound to
// the node's address would send (its own name in Host) to every kind of
// route: each is refused with a JSON 403 and nothing changes.
func TestDNSRebinding(t *testing.T) {
	e := newEnv(t, consensus.Regtest(), Config{})
	e.mine() // some coins for the node's key
	to := e.devAddress()
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/mine", ""},
		{"POST", "/mineBlock", `{"data": "rebound"}`},
		{"POST", "/transactions/new", `{"sender": "` + to + `", "recipient": "` + to + `", "amount": 1}`},
		{"POST", "/addPeer", `{"peer": "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"}`},
		{"GET", "/api/v1/node", ""},
		{"GET", "/api/v1/status", ""},
		{"GET", "/no/such/route", ""},
	} {
		req, _ := http.NewRequest(c.method, e.base+c.path, strings.NewReader(c.body))
		req.Host = "rebound.attacker.example:3001"
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(raw), `"error":"host \"rebound.attacker.example:3001\"`) {
			t.Errorf("%s %s with a foreign Host: %d %s", c.method, c.path, resp.StatusCode, raw)
		}
	}
	if h := e.n.Chain.Height(); h != 1 {
		t.Errorf("height %d after refused requests, want 1", h)
	}
	if n := e.n.Pool.Len(); n != 0 {
		t.Errorf("%d transactions pooled after refused requests", n)
	}
	if got := e.n.PeerCount(); got != 0 {
		t.Errorf("%d peers after a refused addPeer", got)
	}
	// With the node's own name the same request goes through.
	req, _ := http.NewRequest("GET", e.base+"/api/v1/status", nil)
	req.Host = "localhost"
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/v1/status as localhost: %d", resp.StatusCode)
	}
}
