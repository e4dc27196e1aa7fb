package lab

import (
	"fmt"
	"log/slog"
	"net/http"
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
	TPS     float64 `json:"tps"`
	Sent    uint64  `json:"sent"`
	Failed  uint64  `json:"failed"`
	LastErr string  `json:"last_error,omitempty"`
}

// Load sends signed transactions through a cluster's running nodes at a
// steady rate: each from one node's funded key to the next node's address
// (Cluster.Send, so they enter the network through the real nodes' pools
// and gossip), senders taken in turn. Safe for concurrent use; Close stops
// its goroutine.
type Load struct {
	cl  Cluster
	log *slog.Logger

	setMu sync.Mutex // serialises Set and Close

	mu     sync.Mutex
	st     LoadStatus
	stop   chan struct{} // closes the running goroutine; nil when idle
	done   chan struct{}
	closed bool
}

// NewLoad returns an idle load on cl.
func NewLoad(cl Cluster, log *slog.Logger) *Load {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Load{cl: cl, log: log}
}

// Set changes the rate (0 stops the load) and returns the state.
func (l *Load) Set(tps float64) (LoadStatus, error) {
	if !(tps >= 0 && tps <= MaxLoadTPS) {
		return l.Status(), fmt.Errorf("%w: tps %v not in 0..%d", ErrBadRequest, tps, MaxLoadTPS)
	}
	l.setMu.Lock()
	defer l.setMu.Unlock()
	l.halt()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return l.st, fmt.Errorf("%w: the devnet is stopping", ErrBadRequest)
	}
	l.st.TPS = tps
	if tps > 0 {
		l.stop, l.done = make(chan struct{}), make(chan struct{})
		go l.run(tps, l.stop, l.done)
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
	l.st.TPS = 0
	l.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

func (l *Load) run(tps float64, stop, done chan struct{}) {
	defer close(done)
	tick := time.NewTicker(loadTick)
	defer tick.Stop()
	start := time.Now()
	var sent uint64 // attempts since start
	var names []string
	var refreshed time.Time
	next := 0
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			if now.Sub(refreshed) >= loadRefresh {
				names, refreshed = l.running(), now
			}
			if len(names) < 2 {
				continue
			}
			due := uint64(now.Sub(start).Seconds() * tps)
			if backlog := uint64(tps) + 1; due > sent+backlog {
				sent = due - backlog // fell behind: at most a second's worth at once
			}
			for ; sent < due; sent++ {
				from, to := names[next%len(names)], names[(next+1)%len(names)]
				next++
				_, err := l.cl.Send(from, to, LoadAmount)
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
		TPS *float64 `json:"tps"`
	}
	if err := decode(r, &req); err != nil {
		c.done(w, "load", nil, err)
		return
	}
	if req.TPS == nil {
		c.done(w, "load", nil, fmt.Errorf("%w: tps is required", ErrBadRequest))
		return
	}
	st, err := c.load.Set(*req.TPS)
	c.done(w, fmt.Sprintf("load %g tps", *req.TPS), st, err)
}
