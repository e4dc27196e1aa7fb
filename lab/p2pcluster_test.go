package lab

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
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
	c := p2pNetwork(t, `
name: p2p4
topology: ring
link: {latency: 2ms, jitter: 1ms}
nodes:
  - {name: a, share: 100}
  - {name: b, mining: false}
  - {name: c, mining: false}
  - {name: d, mining: false}
`)
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
	if err := c.Partition([][]string{{"a", "x"}}); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("partition with an unknown node: %v", err)
	}
	if err := c.Shape(Pair{"a", "a"}, Shape{}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("shape of a node with itself: %v", err)
	}
	// a and c are not linked in the ring: Shape links them, shaped.
	if err := c.Shape(Pair{"c", "a"}, Shape{Latency: Duration(10 * time.Millisecond)}); err != nil {
		t.Fatalf("shape on libp2p: %v", err)
	}
	var shaped bool
	for _, l := range c.Network().Links {
		shaped = shaped || l.Pair == (Pair{"a", "c"}) && l.Shape.Latency == Duration(10*time.Millisecond)
	}
	if !shaped {
		t.Errorf("the new link a-c is not in the network: %+v", c.Network().Links)
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

// TestP2PPartitionHeal: on libp2p, a 2|2 partition lets each side mine its
// own branch (two tips, no connection across), and the heal reconnects the
// sides, which converge on the heavier branch. Then a transaction mined only
// on the minority's branch of a second partition goes back to the
// minority's pools when a later block reorganises them, after the healed
// connections already exchanged their (empty) mempools, so only its
// re-announcement can carry it across; the majority mines it with the
// minority's miners stopped.
func TestP2PPartitionHeal(t *testing.T) {
	if testing.Short() {
		t.Skip("libp2p hosts")
	}
	c := p2pNetwork(t, `
name: p2psplit
topology: mesh
nodes:
  - {name: a, share: 50}
  - {name: b, mining: false}
  - {name: c, share: 50}
  - {name: d, mining: false}
`)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, m := range []string{"a", "c"} {
		if err := c.SetShare(m, 0); err != nil { // mine on demand only
			t.Fatal(err)
		}
	}
	if _, err := c.Mine(ctx, "a", 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "four nodes at height 1 "+tips(c), func() bool { return sameTip(c, 1) })
	status := func(name string) NodeStatus {
		for _, s := range c.Status() {
			if s.Name == name {
				return s
			}
		}
		return NodeStatus{}
	}
	peersAll := func(k int) bool {
		for _, s := range c.Status() {
			if s.Peers != k {
				return false
			}
		}
		return true
	}
	mine := func(name string, k int) []string {
		t.Helper()
		h, err := c.Mine(ctx, name, k)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	split := func() {
		t.Helper()
		if err := c.Partition([][]string{{"a", "b"}, {"c", "d"}}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "one peer each "+tips(c), func() bool { return peersAll(1) })
	}

	// Round 1: the heavier side wins at the heal.
	split()
	minority, majority := mine("a", 1), mine("c", 2)
	waitFor(t, 30*time.Second, "two tips "+tips(c), func() bool {
		return status("b").Tip == minority[0] && status("d").Tip == majority[1]
	})
	time.Sleep(500 * time.Millisecond) // nothing crosses the cut
	if status("d").Tip != majority[1] || status("a").Tip != minority[0] || !peersAll(1) {
		t.Fatalf("the partition leaked: %s", tips(c))
	}
	healed := time.Now()
	if err := c.Heal(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "one tip after the heal "+tips(c), func() bool { return sameTip(c, 3) })
	t.Logf("converged %v after the heal", time.Since(healed))
	if status("a").Tip != majority[1] {
		t.Fatalf("converged on %s, not the heavier branch %s", status("a").Tip, majority[1])
	}
	waitFor(t, 30*time.Second, "the mesh back "+tips(c), func() bool { return peersAll(3) })

	// Round 2: a transaction mined on the minority's branch only.
	split()
	txid, err := c.Send("a", "d", 1000)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // its first announcement goes out (to b) before the heal
	minority, majority = mine("a", 1), mine("c", 1)
	waitFor(t, 30*time.Second, "two tips at one height "+tips(c), func() bool {
		return status("b").Tip == minority[0] && status("d").Tip == majority[0]
	})
	if ok, _ := c.Mined("b", txid); !ok {
		t.Fatal("the transaction is not in the minority's branch")
	}
	if err := c.Heal(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the mesh back "+tips(c), func() bool { return peersAll(3) })
	time.Sleep(time.Second) // the new connections' status and mempool exchanges are done
	mine("c", 1)            // heavier: the minority reorganises
	waitFor(t, 30*time.Second, "one tip "+tips(c), func() bool { return sameTip(c, 5) })
	// The minority's miners stay stopped: only c mines from here on.
	waitFor(t, 20*time.Second, "the re-announced transaction in c's pool", func() bool { return status("c").MempoolTxs == 1 })
	mine("c", 1)
	waitFor(t, 30*time.Second, "the minority's transaction mined on the main chain", func() bool {
		ok, _ := c.Mined("a", txid)
		return ok && sameTip(c, 6)
	})
}

// TestP2PEphemeral: an ephemeral libp2p devnet keeps its chains in memory
// (no Pebble store under the data directory), and a node keeps its chain
// across a crash and a start, with no peer to sync from.
func TestP2PEphemeral(t *testing.T) {
	if testing.Short() {
		t.Skip("libp2p hosts")
	}
	n, err := ParseNetwork([]byte(`
name: eph
topology: line
nodes: [{name: a, share: 0}, {name: b, mining: false}]
`))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c, err := NewP2PCluster(P2PConfig{Network: n, Dir: dir, Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Mine(ctx, "a", 2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "both nodes at height 2 "+tips(c), func() bool { return sameTip(c, 2) })
	for _, name := range []string{"a", "b"} {
		if _, err := os.Stat(filepath.Join(dir, name, "chain")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("node %s: a chain store on disk (%v)", name, err)
		}
	}
	if err := c.Stop("a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Crash("b"); err != nil {
		t.Fatal(err)
	}
	if err := c.Start("b"); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Status() {
		if s.Name == "b" && (!s.Running || s.Height != 2) {
			t.Fatalf("b after a crash and a start, alone: %+v, want running at height 2", s)
		}
	}
}

// p2pNetwork starts a network file's nodes on libp2p over loopback, closed
// when the test ends.
func p2pNetwork(t *testing.T, yaml string) *P2PCluster {
	t.Helper()
	n, err := ParseNetwork([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewP2PCluster(P2PConfig{Network: n, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
