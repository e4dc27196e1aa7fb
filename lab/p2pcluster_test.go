package lab

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestP2PDevnetStartStop starts four full nodes on libp2p over loopback in
// a ring, has one mine, sees every node follow, stops and restarts one,
// and stops them all.
func TestP2PDevnetStartStop(t *testing.T) {
	if testing.Short() {
		t.Skip("libp2p hosts")
	}
	n, err := ParseNetwork([]byte(`
name: p2p4
topology: ring
nodes:
  - {name: a, share: 100}
  - {name: b, mining: false}
  - {name: c, mining: false}
  - {name: d, mining: false}
`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewP2PCluster(P2PConfig{Network: n, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.SetShare("a", 0); err != nil { // mine on demand only
		t.Fatal(err)
	}
	if _, err := c.Mine(ctx, "a", 2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "four nodes at height 2 "+tips(c), func() bool { return sameTip(c, 2) })

	// Every node serves its own API.
	for _, s := range c.Status() {
		resp, err := http.Get(s.API + "/api/v1/status")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: API %s: %v", s.Name, s.API, err)
		}
		resp.Body.Close()
	}
	if err := c.Stop("c"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Mine(ctx, "c", 1); !errors.Is(err, ErrStopped) {
		t.Errorf("mine on a stopped node: %v", err)
	}
	if err := c.Partition([][]string{{"a"}}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("partition on libp2p: %v", err)
	}
	if _, err := c.Mine(ctx, "a", 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Start("c"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "c catches up after its restart "+tips(c), func() bool { return sameTip(c, 3) })
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if r := c.Observatory().Report(); r.Found != 3 || r.To100.Count == 0 {
		t.Errorf("report: found %d, to 100%% %+v", r.Found, r.To100)
	}
}
