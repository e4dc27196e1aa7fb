package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	chaindclient "github.com/chaind/chaind/client"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/node"
)

// testEnv is one real node with its API on a loopback port.
type testEnv struct {
	t      testing.TB
	n      *node.Node
	s      *Server
	base   string
	client *http.Client
	hrp    string
}

// newEnv starts a node on p in a temporary directory and its API on
// 127.0.0.1:0; both stop when the test ends.
func newEnv(t testing.TB, p *consensus.Params, cfg Config) *testEnv {
	t.Helper()
	return startEnv(t, node.Config{Params: p, DataDir: t.TempDir(), Threads: 1}, cfg)
}

// startEnv starts a node with nc and its API on 127.0.0.1:0; both stop
// when the test ends.
func startEnv(t testing.TB, nc node.Config, cfg Config) *testEnv {
	t.Helper()
	n, err := node.New(nc)
	if err != nil {
		t.Fatalf("node.New: %v", err)
	}
	if err := n.Start(context.Background()); err != nil {
		n.Stop()
		t.Fatalf("node.Start: %v", err)
	}
	cfg.Addr = "127.0.0.1:0"
	s := New(n, cfg)
	if err := s.Start(context.Background()); err != nil {
		n.Stop()
		t.Fatalf("api Start: %v", err)
	}
	e := &testEnv{t: t, n: n, s: s, base: "http://" + s.Addr(), client: testHTTPClient(t), hrp: nc.Params.AddressPrefix}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("api Shutdown: %v", err)
		}
		if err := n.Stop(); err != nil {
			t.Errorf("node Stop: %v", err)
		}
	})
	return e
}

// testHTTPClient is the client of a test env: for tests (not benchmarks)
// every exchange is validated against the OpenAPI description (specCheck).
func testHTTPClient(t testing.TB) *http.Client {
	c := &http.Client{Timeout: 30 * time.Second}
	if _, bench := t.(*testing.B); !bench {
		c.Transport = newSpecCheck(t)
	}
	return c
}

// request sends method path with body (a string or []byte as is, anything
// else as JSON) and the headers given as name, value pairs. A JSON body
// gets Content-Type application/json unless a header overrides it.
func (e *testEnv) request(method, path string, body any, hdr ...string) (int, http.Header, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, raw
}

// call is request that wants status and decodes the JSON answer into out
// (when out is not nil).
func (e *testEnv) call(method, path string, body any, want int, out any, hdr ...string) {
	e.t.Helper()
	status, _, raw := e.request(method, path, body, hdr...)
	if status != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, status, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

// apiClient returns a Go client of the env's API.
func (e *testEnv) apiClient() *chaindclient.Client {
	return chaindclient.New(e.base, chaindclient.WithHTTPClient(e.client))
}

func (e *testEnv) addr(a chain.Address) string { return chain.FormatAddress(e.hrp, a) }

// devAddress is the node's own (development) key's address.
func (e *testEnv) devAddress() string {
	e.t.Helper()
	addrs := e.n.Addresses()
	if len(addrs) == 0 {
		e.t.Fatal("node has no key")
	}
	return e.addr(addrs[0])
}

// mine mines one block through the node.
func (e *testEnv) mine() *chain.Block {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := e.n.Mine(ctx, "")
	if err != nil {
		e.t.Fatalf("mine: %v", err)
	}
	return b
}
