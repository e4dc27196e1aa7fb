package lab

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	for _, s := range []string{"partition a b,c", "heal", "shape a-b --delay 50ms --jitter 5ms --loss 1%",
		"shape b-c --delay 20ms --bandwidth 1Mbit", "stop c", "start c",
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
		"shape a-b --loss 200%":       0,                     // refused by the client before it asks
		"shape a-b --bandwidth 10bit": http.StatusBadRequest, // below MinBandwidth
		"shape a-b --bandwidth fast":  http.StatusBadRequest,
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

// TestControllerNetworkView: GET /network carries the partition made
// through the controller (the unnamed nodes as the last group) and the
// links' shapes; heal clears it.
func TestControllerNetworkView(t *testing.T) {
	c := simNetwork(t, lineSim)
	srv := httptest.NewServer(NewController(c, c.Observatory(), nil))
	defer srv.Close()
	cl := NewClient(srv.URL)
	ctx := context.Background()
	view := func() NetworkView {
		t.Helper()
		var v NetworkView
		if err := cl.Do(ctx, http.MethodGet, "/network", nil, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := view(); v.Partition != nil || v.Recording || len(v.Nodes) != 3 {
		t.Fatalf("whole network: %+v", v)
	}
	control := func(s string) error {
		cmd, err := ParseCommand(s)
		if err != nil {
			t.Fatal(err)
		}
		_, err = cl.Control(ctx, cmd)
		return err
	}
	for _, s := range []string{"partition a", "shape a-b --delay 50ms"} {
		if err := control(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	v := view()
	if GroupsString(v.Partition) != "a|b,c" {
		t.Fatalf("partition %v, want a|b,c", v.Partition)
	}
	shaped := false
	for _, l := range v.Links {
		shaped = shaped || l.Pair.String() == "a-b" && l.Shape.Latency == Duration(50*time.Millisecond)
	}
	if !shaped {
		t.Fatalf("links %+v: a-b not shaped to 50ms", v.Links)
	}
	// On the wire the names are the API's (snake case), as the page reads them.
	var raw struct {
		Name      string `json:"name"`
		Transport string `json:"transport"`
		BlockTime int64  `json:"block_time"`
		Links     []struct {
			Pair  map[string]string `json:"pair"`
			Shape map[string]any    `json:"shape"`
		} `json:"links"`
	}
	if err := cl.Do(ctx, http.MethodGet, "/network", nil, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Transport != "memnet" || raw.BlockTime <= 0 || len(raw.Links) == 0 || raw.Links[0].Pair["a"] == "" || raw.Links[0].Pair["b"] == "" {
		t.Fatalf("network on the wire: %+v", raw)
	}
	// A refused partition keeps the one in force.
	if err := control("partition a,zed"); err == nil {
		t.Fatal("partition with an unknown node accepted")
	}
	if GroupsString(view().Partition) != "a|b,c" {
		t.Fatalf("a refused partition changed the view's partition")
	}
	if err := control("heal"); err != nil {
		t.Fatal(err)
	}
	if v := view(); v.Partition != nil {
		t.Fatalf("partition %v after heal", v.Partition)
	}
}

// TestControllerRecording: GET /recording serves the offered recording's
// checked events (a line cut short at the end of a growing file left
// out), 404 when none is offered, and an error for a file that is not a
// recording.
func TestControllerRecording(t *testing.T) {
	c := simNetwork(t, lineSim)
	ctrl := NewController(c, c.Observatory(), nil)
	srv := httptest.NewServer(ctrl)
	defer srv.Close()
	get := func() (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + APIPrefix + "/recording")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(); code != http.StatusNotFound || !strings.Contains(body, "no recording offered") {
		t.Fatalf("no recording: %d %s", code, body)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "session.jsonl")
	var rec strings.Builder
	r := NewRecorder(&rec)
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	r.Record(Event{T: t0, Kind: KindFound, Node: "a", Hash: strings.Repeat("1", 64), Parent: strings.Repeat("0", 64), Height: 1})
	r.Record(Event{T: t0.Add(time.Second), Kind: KindPartition, Detail: "a|b,c"})
	if err := os.WriteFile(path, []byte(rec.String()+`{"t":"2026-11-30T12:00:02Z","ki`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctrl.OfferRecording(path)
	var v NetworkView
	if err := NewClient(srv.URL).Do(context.Background(), http.MethodGet, "/network", nil, &v); err != nil || !v.Recording {
		t.Fatalf("network view does not offer the recording: %v %+v", err, v)
	}
	code, body := get()
	if code != http.StatusOK {
		t.Fatalf("recording: %d %s", code, body)
	}
	evs, err := ReadEvents(strings.NewReader(body))
	if err != nil || len(evs) != 2 || evs[0].Kind != KindFound || evs[1].Detail != "a|b,c" {
		t.Fatalf("recording served %v %+v", err, evs)
	}
	for name, content := range map[string]string{
		"not JSON":      "hello\n",
		"no kind":       `{"t":"2026-11-30T12:00:02Z"}` + "\n",
		"over the size": strings.Repeat(" ", MaxRecordingSize) + "\n",
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, body := get(); code != http.StatusInternalServerError || !strings.Contains(body, "error") {
			t.Errorf("%s: %d %.200s", name, code, body)
		}
	}
	os.Remove(path)
	if code, _ := get(); code != http.StatusInternalServerError {
		t.Errorf("missing file: %d", code)
	}
}
