package api

import (
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

func TestConnBudget(t *testing.T) {
	for nofile, want := range map[uint64]int{0: DefaultMaxConns, 20000: DefaultMaxConns, 4096: 4096 - fdReserve, 1024: 512, 256: 128} {
		if got := connBudget(nofile); got != want {
			t.Errorf("connBudget(%d) = %d, want %d", nofile, got, want)
		}
	}
}

func TestLimiterRequests(t *testing.T) {
	l := newLimiter(Limits{MaxRequestsPerIP: 3, MaxHeavy: 2, MaxHeavyPerIP: 1, MaxStreamsPerIP: 1})
	a, b, c := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")
	relHeavy, err := l.admitRequest(a, classHeavy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.admitRequest(a, classHeavy); err == nil || err.Status != http.StatusTooManyRequests {
		t.Fatalf("second heavy request of one client: %v", err)
	}
	if _, err := l.admitRequest(b, classHeavy); err != nil {
		t.Fatalf("another client's heavy request: %v", err)
	}
	if _, err := l.admitRequest(c, classHeavy); err == nil || err.Status != http.StatusServiceUnavailable || err.retryAfter <= 0 {
		t.Fatalf("heavy request over the node's bound: %v", err)
	}
	if _, err := l.admitRequest(a, classStream); err != nil {
		t.Fatal(err)
	}
	if _, err := l.admitRequest(a, classStream); err == nil {
		t.Fatal("second stream of one client admitted")
	}
	if _, err := l.admitRequest(a, classNormal); err != nil {
		t.Fatal(err)
	}
	if _, err := l.admitRequest(a, classNormal); err == nil {
		t.Fatal("fourth request in flight of one client admitted")
	}
	relHeavy()
	if _, err := l.admitRequest(a, classNormal); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	if _, err := l.admitRequest(c, classHeavy); err != nil {
		t.Fatalf("heavy slot not given back: %v", err)
	}
}

func TestLimiterTxRate(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(Limits{TxRatePerIP: 1000, TxBurstPerIP: MaxTxBatch, MaxBatchesPerIP: 1, MaxBatches: 2})
	l.now = func() time.Time { return now }
	ip := netip.MustParseAddr("192.0.2.7")
	charge, release, err := l.admitBatch(ip)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.admitBatch(ip); err == nil {
		t.Fatal("two batches of one client at once")
	}
	charge(MaxTxBatch + 2000) // into debt
	release()
	if _, _, err := l.admitBatch(ip); err == nil || err.retryAfter < 2*time.Second {
		t.Fatalf("batch admitted in debt: %v", err)
	}
	if err := l.takeTxs(ip, 1); err == nil {
		t.Fatal("single transaction admitted in debt")
	}
	now = now.Add(2100 * time.Millisecond) // the debt is paid, 100 tokens back
	if err := l.takeTxs(ip, 50); err != nil {
		t.Fatalf("after the debt is paid: %v", err)
	}
	if _, _, err := l.admitBatch(netip.MustParseAddr("192.0.2.8")); err != nil {
		t.Fatalf("another client: %v", err)
	}
	// Unlimited.
	u := newLimiter(Limits{TxRatePerIP: -1})
	for range 100 {
		if err := u.takeTxs(ip, MaxTxBatch); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLimiterEvictsIdle checks that at MaxConns the connection idle the
// longest is closed for a new one, and that with none idle the new one
// is refused.
func TestLimiterEvictsIdle(t *testing.T) {
	l := newLimiter(Limits{MaxConns: 2, MaxConnsPerIP: -1})
	now := time.Unix(1000, 0)
	l.now = func() time.Time { now = now.Add(time.Second); return now }
	conn := func() (*limitedConn, net.Conn) {
		a, b := net.Pipe()
		return &limitedConn{Conn: a, l: l, ip: netip.MustParseAddr("10.0.0.1")}, b
	}
	c1, p1 := conn()
	c2, _ := conn()
	for _, c := range []*limitedConn{c1, c2} {
		if msg, _ := l.admitConn(c); msg != "" {
			t.Fatal(msg)
		}
	}
	l.connState(c1, http.StateActive)
	l.connState(c2, http.StateActive)
	c3, _ := conn()
	if msg, status := l.admitConn(c3); msg == "" || status != http.StatusServiceUnavailable {
		t.Fatalf("admitted over the bound with none idle: %q", msg)
	}
	l.connState(c1, http.StateIdle)
	if msg, _ := l.admitConn(c3); msg != "" {
		t.Fatalf("not admitted with one idle: %s", msg)
	}
	if _, err := p1.Read(make([]byte, 1)); err == nil {
		t.Fatal("the idle connection was not closed")
	}
	if n := l.openConns(); n != 2 {
		t.Fatalf("%d connections counted, want 2", n)
	}
	c2.Close()
	c2.Close()
	if n := l.openConns(); n != 1 {
		t.Fatalf("%d connections counted after a (double) close, want 1", n)
	}
}
