package lab

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Bounds of the transaction load.
const (
	// MaxLoadTPS bounds the load's rate (transactions per second).
	MaxLoadTPS = 1000
	// loadTick is how often the load sends what is due.
	loadTick = 10 * time.Millisecond
	// loadRefresh is how often the load re-reads which nodes run.
	loadRefresh = time.Second
	// LoadAmount is what each load transaction sends (base units).
	LoadAmount = 1
)

// LoadStatus is the transaction load's state.
type LoadStatus struct {
	TPS     float64  `json:"tps"`
	From    []string `json:"from,omitempty"` // the sending nodes; none: every running node
	Sent    uint64   `json:"sent"`
	Failed  uint64   `json:"failed"`
	LastErr string   `json:"last_error,omitempty"`
}

// Load sends signed transactions through a cluster's running nodes at a
// steady rate: each from one node's funded key to the next running node's
// address (Cluster.Send, so they enter the network through the real nodes'
// pools and gossip), senders (every running node, or the ones asked for)
// taken in turn. Safe for concurrent use; Close stops its goroutine.
type Load struct {
	cl     Cluster
	log    *slog.Logger
	onSent func(txid string) // nil: none

	setMu sync.Mutex // serialises Set and Close

	mu     sync.Mutex
	st     LoadStatus
	stop   chan struct{} // closes the running goroutine; nil when idle
	done   chan struct{}
	closed bool
}

// NewLoad returns an idle load on cl.
func NewLoad(cl Cluster, log *slog.Logger) *Load { return newLoad(cl, log, nil) }

// newLoad returns an idle load that calls onSent (when not nil) from its
// goroutine with every transaction it sent: a scenario keeps their ids to
// check that none was lost.
func newLoad(cl Cluster, log *slog.Logger, onSent func(txid string)) *Load {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Load{cl: cl, log: log, onSent: onSent}
}

// Set changes the rate (0 stops the load) and the sending nodes (from;
// every running node when none is given) and returns the state. An
// unknown or repeated sender is refused and changes nothing.
func (l *Load) Set(tps float64, from ...string) (LoadStatus, error) {
	if !(tps >= 0 && tps <= MaxLoadTPS) {
		return l.Status(), fmt.Errorf("%w: tps %v not in 0..%d", ErrBadRequest, tps, MaxLoadTPS)
	}
	if tps == 0 {
		from = nil
	}
	if len(from) > 0 {
		n := l.cl.Network()
		seen := map[string]bool{}
		for _, name := range from {
			if _, ok := n.Node(name); !ok {
				return l.Status(), fmt.Errorf("%w: load from %q", ErrUnknownNode, name)
			}
			if seen[name] {
				return l.Status(), fmt.Errorf("%w: load from %s twice", ErrBadRequest, name)
			}
			seen[name] = true
		}
		from = slices.Clone(from)
	}
	l.setMu.Lock()
	defer l.setMu.Unlock()
	l.halt()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return l.st, fmt.Errorf("%w: the devnet is stopping", ErrBadRequest)
	}
	l.st.TPS, l.st.From = tps, from
	if tps > 0 {
		l.stop, l.done = make(chan struct{}), make(chan struct{})
		go l.run(tps, from, l.stop, l.done)
	}
	return l.st, nil
}

// Status returns the load's state.
func (l *Load) Status() LoadStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st
}

// Close stops the load for good.
func (l *Load) Close() {
	l.setMu.Lock()
	defer l.setMu.Unlock()
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.halt()
}

// halt stops the running goroutine, if any, and waits for it.
func (l *Load) halt() {
	l.mu.Lock()
	stop, done := l.stop, l.done
	l.stop, l.done = nil, nil
	l.st.TPS, l.st.From = 0, nil
	l.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

func (l *Load) run(tps float64, from []string, stop, done chan struct{}) {
	defer close(done)
	tick := time.NewTicker(loadTick)
	defer tick.Stop()
	start := time.Now()
	var sent uint64 // attempts since start
	var names []string
	var senders []int // indexes in names
	var refreshed time.Time
	next := 0
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			if now.Sub(refreshed) >= loadRefresh {
				names, refreshed = l.running(), now
				senders = sendersOf(names, from)
			}
			if len(names) < 2 || len(senders) == 0 {
				continue
			}
			due := uint64(now.Sub(start).Seconds() * tps)
			if backlog := uint64(tps) + 1; due > sent+backlog {
				sent = due - backlog // fell behind: at most a second's worth at once
			}
			for ; sent < due; sent++ {
				i := senders[next%len(senders)]
				from, to := names[i], names[(i+1)%len(names)]
				next++
				id, err := l.cl.Send(from, to, LoadAmount)
				if err == nil && l.onSent != nil {
					l.onSent(id)
				}
				l.mu.Lock()
				if err != nil {
					l.st.Failed++
					l.st.LastErr = err.Error()
				} else {
					l.st.Sent++
				}
				l.mu.Unlock()
				if err != nil {
					l.log.Debug("load: send", "from", from, "to", to, "err", err)
				}
			}
		}
	}
}

// sendersOf returns the indexes in names of the nodes in from, or of every
// name when from is empty.
func sendersOf(names, from []string) []int {
	var out []int
	for i, n := range names {
		if len(from) == 0 || slices.Contains(from, n) {
			out = append(out, i)
		}
	}
	return out
}

// running lists the running nodes.
func (l *Load) running() []string {
	var out []string
	for _, s := range l.cl.Status() {
		if s.Running {
			out = append(out, s.Name)
		}
	}
	return out
}

// Load returns the controller's transaction load.
func (c *Controller) Load() *Load { return c.load }

// Close stops what the controller runs (the load); the cluster is the
// caller's.
func (c *Controller) Close() { c.load.Close() }

func (c *Controller) loadStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, c.load.Status())
}

func (c *Controller) setLoad(w http.ResponseWriter, r *http.Request) {
	var req struct {
		TPS  *float64 `json:"tps"`
		From []string `json:"from"`
	}
	if err := decode(r, &req); err != nil {
		c.done(w, "load", nil, err)
		return
	}
	if req.TPS == nil {
		c.done(w, "load", nil, fmt.Errorf("%w: tps is required", ErrBadRequest))
		return
	}
	st, err := c.load.Set(*req.TPS, req.From...)
	what := fmt.Sprintf("load %g tps", *req.TPS)
	if len(req.From) > 0 {
		what += " from " + strings.Join(req.From, ",")
	}
	c.done(w, what, st, err)
}
