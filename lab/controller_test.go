package lab

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestControllerControls(t *testing.T) {
	c := simNetwork(t, lineSim)
	srv := httptest.NewServer(NewController(c, c.Observatory(), nil))
	defer srv.Close()
	cl := NewClient(srv.URL)
	ctx := context.Background()
	run := func(s string) error {
		cmd, err := ParseCommand(s)
		if err != nil {
			return err
		}
		_, err = cl.Control(ctx, cmd)
		return err
	}
	status := func(err error) int {
		var ce *ControlError
		if errors.As(err, &ce) {
			return ce.Status
		}
		return 0
	}
	waitFor(t, 10*time.Second, "blocks", func() bool { return sameTip(c, 2) })
	for _, s := range []string{"partition a b,c", "heal", "shape a-b --delay 50ms --jitter 5ms --loss 1%", "stop c", "start c",
		"crash b", "start b", "add d --peer a", "hashrate a 30", "mine a 2", "send a c 1000"} {
		if err := run(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	for s, want := range map[string]int{
		"stop zed":                    http.StatusNotFound,
		"mine zed 1":                  http.StatusNotFound,
		"start a":                     http.StatusConflict,
		"add d --peer a":              http.StatusConflict,
		"shape a-b --loss 200%":       0, // refused by the client before it asks
		"shape a-b --bandwidth 1Mbit": http.StatusBadRequest,
		"partition a,zed":             http.StatusNotFound,
		"mine a 0":                    http.StatusBadRequest,
	} {
		err := run(s)
		if err == nil {
			t.Errorf("%s: accepted", s)
			continue
		}
		if want != 0 && status(err) != want {
			t.Errorf("%s: %v, want HTTP %d", s, err, want)
		}
	}
	if err := run("stop c"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"mine c 1", "hashrate c 10", "send c a 5", "stop c", "crash c"} {
		if err := run(s); status(err) != http.StatusConflict || !strings.Contains(err.Error(), "stopped") {
			t.Errorf("%s on a stopped node: %v, want 409 node is stopped", s, err)
		}
	}
	var nodes []NodeStatus
	if err := cl.Do(ctx, http.MethodGet, "/nodes", nil, &nodes); err != nil || len(nodes) != 4 {
		t.Fatalf("nodes: %v %+v", err, nodes)
	}
	var rep Report
	if err := cl.Do(ctx, http.MethodGet, "/report", nil, &rep); err != nil || rep.Found == 0 {
		t.Fatalf("report: %v %+v", err, rep)
	}
	// Bad bodies and hosts.
	resp, err := http.Post(srv.URL+APIPrefix+"/nodes/a/mine", "application/json", strings.NewReader(`{"blocks": 1, "extra": 2}`))
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown field: %v %v", err, resp.Status)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+APIPrefix+"/nodes", nil)
	req.Host = "evil.example:80"
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Host: %v %v", err, resp.Status)
	}
}

func TestControllerEvents(t *testing.T) {
	c := simNetwork(t, lineSim)
	srv := httptest.NewServer(NewController(c, c.Observatory(), nil))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+APIPrefix+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 4096)
	n, err := resp.Body.Read(buf)
	if err != nil || !strings.Contains(string(buf[:n]), `"kind"`) {
		t.Fatalf("events: %v %q", err, buf[:n])
	}
}

// TestControllerCrossOrigin checks a web page on another origin cannot
// steer the devnet (the controls change nothing) while same-origin pages,
// non-browser clients and reads work, and that the network view is served.
func TestControllerCrossOrigin(t *testing.T) {
	c := simNetwork(t, lineSim)
	srv := httptest.NewServer(NewController(c, c.Observatory(), nil))
	defer srv.Close()
	post := func(path string, hdr map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+APIPrefix+path, strings.NewReader(`{}`))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, hdr := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "http://evil.example"},
	} {
		if got := post("/nodes/b/stop", hdr); got != http.StatusForbidden {
			t.Errorf("stop with %v: HTTP %d, want 403", hdr, got)
		}
	}
	for _, s := range c.Status() {
		if !s.Running {
			t.Errorf("%s stopped by a refused cross-origin request", s.Name)
		}
	}
	if got := post("/heal", map[string]string{"Sec-Fetch-Site": "same-origin"}); got != http.StatusOK {
		t.Errorf("same-origin heal: HTTP %d", got)
	}
	if got := post("/heal", nil); got != http.StatusOK {
		t.Errorf("non-browser heal: HTTP %d", got)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+APIPrefix+"/nodes", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("cross-site read: %v %v", err, resp.Status)
	}
	resp, err = http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("network view: %v, CSP %q", resp.Status, resp.Header.Get("Content-Security-Policy"))
	}
}
