package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/api"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/node"
)

// maxPromBlocks bounds the blocks TestPrometheusScrapesNodes mines while
// waiting for one to reach another node by gossip.
const maxPromBlocks = 20

// propagationCount is the number of blocks n's propagation histogram
// counted.
func propagationCount(t *testing.T, n *node.Node) uint64 {
	t.Helper()
	mfs, err := n.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "chaind_block_propagation_seconds" {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	t.Fatal("no chaind_block_propagation_seconds series")
	return 0
}

// startAPINode starts a regtest node with networking on loopback and its
// API on a free loopback port; it returns the node and the API's host:port.
func startAPINode(t *testing.T, peers []string) (*node.Node, string) {
	t.Helper()
	n, err := node.New(node.Config{Params: consensus.Regtest(), DataDir: t.TempDir(), P2PListen: "127.0.0.1:0", Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := api.New(n, api.Config{Addr: "127.0.0.1:0"})
	if err := srv.Start(ctx); err != nil {
		n.Stop()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		n.Stop()
	})
	return n, srv.Addr()
}

// promResult is one series of a Prometheus instant query.
type promResult struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// promQuery runs an instant query against Prometheus's HTTP API.
func promQuery(base, q string) ([]promResult, error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []promResult `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("query %q: %w", q, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, body.Error)
	}
	return body.Data.Result, nil
}

// TestPrometheusScrapesNodes runs the real Prometheus (Debian's package)
// against three nodes with their APIs on loopback, reads chaind_height of
// all three back through Prometheus's HTTP API once they share a 3-block
// chain, and runs every query of the Grafana dashboard, each of whose
// chaind metrics must exist. Skipped when no prometheus binary is
// installed; when one is, any failure fails.
func TestPrometheusScrapesNodes(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("no prometheus binary (Debian: apt-get install prometheus)")
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		if out, err := exec.Command(promtool, "check", "config", "monitoring/prometheus.yml").CombinedOutput(); err != nil {
			t.Fatalf("promtool check config monitoring/prometheus.yml: %v\n%s", err, out)
		}
	}

	a, apiA := startAPINode(t, nil)
	b, apiB := startAPINode(t, a.ListenAddrs()[:1])
	c, apiC := startAPINode(t, a.ListenAddrs()[:1])
	// Mine at A until B or C has counted a gossiped block in its
	// propagation histogram (blocks that reach them by sync, before the
	// gossip mesh forms, are not counted), at least 3 blocks.
	var height uint32
	for gossiped := false; height < 3 || !gossiped; {
		if height == maxPromBlocks {
			t.Fatalf("no block reached B or C by gossip in %d blocks", maxPromBlocks)
		}
		blk, err := a.Mine(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		height = blk.Header.Height
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end) && !gossiped; time.Sleep(100 * time.Millisecond) {
			gossiped = propagationCount(t, b)+propagationCount(t, c) > 0
		}
	}
	want := strconv.FormatUint(uint64(height), 10)

	// One API request per node, so the API latency histogram the
	// dashboard draws has a series to scrape.
	for _, api := range []string{apiA, apiB, apiC} {
		resp, err := http.Get("http://" + api + "/api/v1/status")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	promAddr := l.Addr().String()
	l.Close()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: chaind
    static_configs:
      - targets: [%q, %q, %q]
`, apiA, apiB, apiC)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	prom := exec.CommandContext(ctx, promBin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr)
	var logs strings.Builder
	prom.Stdout, prom.Stderr = &logs, &logs
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		prom.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	base := "http://" + promAddr

	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := promQuery(base, `chaind_height{job="chaind"}`)
		atTip := 0
		for _, r := range res {
			if r.Value[1] == want {
				atTip++
			}
		}
		if err == nil && atTip == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chaind_height of three nodes at %s not read back through Prometheus within 60s: %v %v", want, res, err)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// The propagation histogram counted the gossiped blocks, read back
	// through Prometheus.
	res, err := promQuery(base, `sum(chaind_block_propagation_seconds_count{job="chaind"})`)
	if err != nil || len(res) != 1 || res[0].Value[1] == "0" {
		t.Fatalf("chaind_block_propagation_seconds_count through Prometheus: %v %v", res, err)
	}
	t.Logf("blocks counted by the propagation histograms: %v", res[0].Value[1])

	// Every dashboard query parses and runs, and every chaind series it
	// names is scraped.
	raw, err := os.ReadFile("monitoring/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	names := map[string]bool{}
	metricName := regexp.MustCompile(`chaind_[a-z_]+`)
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			if _, err := promQuery(base, tg.Expr); err != nil {
				t.Errorf("panel %q: %v", p.Title, err)
			}
			for _, m := range metricName.FindAllString(tg.Expr, -1) {
				names[m] = true
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("the dashboard names only %d chaind series: %v", len(names), names)
	}
	for m := range names {
		res, err := promQuery(base, "group("+m+")")
		if err != nil || len(res) == 0 {
			t.Errorf("dashboard series %s not scraped: %v", m, err)
		}
	}
}
