package lab

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestLoadSendsThroughTheNodes: the load control sends signed
// transactions at about its rate through the nodes, they spread to every
// node and get mined; out-of-range rates are refused; 0 stops it.
func TestLoadSendsThroughTheNodes(t *testing.T) {
	c := simNetwork(t, lineSim)
	ctl := NewController(c, c.Observatory(), nil)
	defer ctl.Close()
	srv := httptest.NewServer(ctl)
	defer srv.Close()
	cl := NewClient(srv.URL)
	ctx := context.Background()
	control := func(s string) (any, error) {
		cmd, err := ParseCommand(s)
		if err != nil {
			return nil, err
		}
		return cl.Control(ctx, cmd)
	}
	for _, bad := range []string{"load --tps 5000", "load --tps -1", "load --tps x", "load", "load --rate 5"} {
		_, err := control(bad)
		var ce *ControlError
		if err == nil {
			t.Errorf("%s: accepted", bad)
		} else if errors.As(err, &ce) && ce.Status != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d, want 400", bad, ce.Status)
		}
	}
	t0 := time.Now()
	if _, err := control("load --tps 40"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	st := ctl.Load().Status()
	if st.TPS != 40 {
		t.Errorf("status %+v, want 40 tps", st)
	}
	if _, err := control("load --tps 0"); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(t0)
	st = ctl.Load().Status()
	if st.Failed > 0 {
		t.Fatalf("load: %+v", st)
	}
	// 40 a second for about elapsed: at least 30 in a second, never more
	// than the rate allows.
	if max := uint64(40*elapsed.Seconds()) + 1; st.Sent < 30 || st.Sent > max {
		t.Fatalf("sent %d in %v at 40 tps", st.Sent, elapsed)
	}
	time.Sleep(100 * time.Millisecond)
	if again := ctl.Load().Status(); again.Sent != st.Sent || again.TPS != 0 {
		t.Fatalf("load goes on after 0: %+v then %+v", st, again)
	}
	waitFor(t, 20*time.Second, "the load's transactions at every node and mined", func() bool {
		r := c.Observatory().Report()
		if r.Txs < int(st.Sent) || r.TxTo100.Count < int(st.Sent) {
			return false
		}
		for _, s := range c.Status() {
			if s.MempoolTxs > 0 {
				return false
			}
		}
		return true
	})

	// Senders: only a's key; an unknown or repeated sender is refused and
	// changes nothing.
	if _, err := control("load --tps 10 --from a"); err != nil {
		t.Fatal(err)
	}
	for bad, want := range map[string]int{"load --tps 20 --from a,zed": http.StatusNotFound, "load --tps 20 --from a,a": http.StatusBadRequest} {
		var ce *ControlError
		if _, err := control(bad); !errors.As(err, &ce) || ce.Status != want {
			t.Errorf("%s: %v, want HTTP %d", bad, err, want)
		}
	}
	if st := ctl.Load().Status(); st.TPS != 10 || len(st.From) != 1 || st.From[0] != "a" {
		t.Errorf("after refused changes: %+v, want 10 tps from a", st)
	}
	if st, err := ctl.Load().Set(0); err != nil || st.TPS != 0 || st.From != nil {
		t.Errorf("stop: %+v %v", st, err)
	}
}
