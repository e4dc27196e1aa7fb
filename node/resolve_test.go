package node

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func testResolver() *resolver {
	r := newResolver()
	r.backoff = time.Millisecond
	r.attempts = 3
	return r
}

// TestResolveGood: a node description gives its addresses, the URL's
// host first.
func TestResolveGood(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != nodeInfoPath {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"peer_id":"QmX","listen_addresses":["/ip4/10.9.9.9/tcp/1/p2p/QmX","/ip4/127.0.0.1/tcp/7/p2p/QmX"]}`))
	}))
	defer srv.Close()
	addrs, err := testResolver().resolve(context.Background(), srv.URL)
	if err != nil || len(addrs) != 2 || addrs[0] != "/ip4/127.0.0.1/tcp/7/p2p/QmX" {
		t.Fatalf("resolve = %v, %v", addrs, err)
	}
}

// TestResolveRefusesAndLeaksNothing: redirects are not followed,
// credentials are not sent, junk and errors are reported without quoting
// the answer, and the retry gives up after its attempts.
func TestResolveRefusesAndLeaksNothing(t *testing.T) {
	const secret = "SECRET-ANSWER-TEXT"
	var hits, followed atomic.Int32
	var mode atomic.Value
	mode.Store("")
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Add(1) }))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" {
			t.Errorf("credentials sent: %v", r.Header)
		}
		switch mode.Load().(string) {
		case "redirect":
			w.Header().Set("Location", target.URL+"/"+secret)
			w.WriteHeader(http.StatusFound)
		case "junk":
			w.Write([]byte("<html>" + secret + "</html>"))
		case "error":
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(secret))
		case "empty":
			w.Write([]byte(`{"peer_id":"","listen_addresses":[]}`))
		}
	}))
	defer srv.Close()
	r := testResolver()
	for _, m := range []string{"redirect", "junk", "error", "empty"} {
		mode.Store(m)
		hits.Store(0)
		_, err := r.resolveRetry(context.Background(), srv.URL, nil)
		if err == nil {
			t.Fatalf("%s: resolved", m)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error repeats the answer: %v", m, err)
		}
		if !strings.Contains(err.Error(), "gave up after 3 tries") || hits.Load() != 3 {
			t.Errorf("%s: %d tries, err %v", m, hits.Load(), err)
		}
		t.Logf("%s: %v", m, err)
	}
	if followed.Load() != 0 {
		t.Fatal("a redirect was followed")
	}
	for _, bad := range []string{"http://user:pw@127.0.0.1:1", "ftp://x", "http://", "http://h/?q=1"} {
		if _, err := r.resolveRetry(context.Background(), bad, nil); err == nil || strings.Contains(err.Error(), "pw") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// Unreachable: bounded, and the context ends it early.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r.backoff = time.Second
	start := time.Now()
	if _, err := r.resolveRetry(ctx, "http://127.0.0.1:1", nil); err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("unreachable: %v after %v", err, time.Since(start))
	}
}
