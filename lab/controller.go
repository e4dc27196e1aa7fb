package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Controller bounds.
const (
	// MaxControlBody bounds a control request's body.
	MaxControlBody = 64 << 10
	// eventBuffer is how many events a live /events reader may fall behind.
	eventBuffer = 1024
	// controlTimeout bounds one control (mine waits for its blocks).
	controlTimeout = 5 * time.Minute
	// MaxRecordingSize bounds the recording GET /recording serves (a
	// longer one is replayed with chaind devnet replay).
	MaxRecordingSize = 32 << 20
)

// APIPrefix is where the controller's routes live.
const APIPrefix = "/api/v1/devnet"

// Controller serves a running devnet's controls and observatory over
// HTTP:
//
//	GET  /api/v1/devnet/nodes                  the nodes (NodeStatus)
//	GET  /api/v1/devnet/network                the network (NetworkView: nodes, links, partition)
//	GET  /api/v1/devnet/recording              the recording offered for replay (JSON lines)
//	GET  /api/v1/devnet/report                 the observatory's report
//	GET  /api/v1/devnet/events                 live events as JSON lines
//	POST /api/v1/devnet/partition              {"groups": [["a","b"],["c","d"]]}
//	POST /api/v1/devnet/heal
//	POST /api/v1/devnet/shape                  {"link": "a-b", "delay": "200ms", "jitter": "20ms", "loss": "5%", "bandwidth": "10Mbit"}
//	POST /api/v1/devnet/nodes                  {"name": "e", "peers": ["a"]}
//	POST /api/v1/devnet/nodes/{name}/stop      (also crash, start)
//	POST /api/v1/devnet/nodes/{name}/mine      {"blocks": 5}
//	POST /api/v1/devnet/nodes/{name}/hashrate  {"percent": 60}
//	POST /api/v1/devnet/nodes/{name}/send      {"to": "b", "amount": 1000}
//	GET  /api/v1/devnet/load                   the transaction load (LoadStatus)
//	POST /api/v1/devnet/load                   {"tps": 100, "from": ["c","d"]} (from: optional; 0 stops it)
//
// Errors are JSON {"error": "..."}: 404 for an unknown node, 409 for a
// control the node's state refuses (stopped, running, exists), 400 for bad
// input. It accepts only loopback Host headers (no DNS rebinding) and
// refuses cross-origin browser requests to its controls
// (http.CrossOriginProtection), so a web page cannot steer a local devnet.
// Every other GET path serves the network view (lab/ui).
type Controller struct {
	cluster Cluster
	obs     *Observatory
	log     *slog.Logger
	mux     *http.ServeMux
	cop     *http.CrossOriginProtection
	load    *Load

	mu        sync.Mutex
	groups    [][]string // the partition made through this controller; nil: whole
	recording string     // the file GET /recording serves; "": none
}

// NetworkView is the answer of GET /network: the cluster's network, the
// partition in force and whether a recording is offered for replay.
type NetworkView struct {
	*Network
	// Partition is the partition in force as groups of node names (the
	// nodes the partition named no group for form the last one); nil when
	// the network is whole. Partitions made through this controller (the
	// only way into a running devnet) are known.
	Partition [][]string `json:"partition"`
	// Recording says GET /recording serves a recording to replay.
	Recording bool `json:"recording"`
}

// NewController serves cl and obs.
func NewController(cl Cluster, obs *Observatory, log *slog.Logger) *Controller {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cluster: cl, obs: obs, log: log, mux: http.NewServeMux(), cop: http.NewCrossOriginProtection(),
		load: NewLoad(cl, log)}
	c.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusForbidden, errors.New("cross-origin request refused: devnet controls accept only same-origin or non-browser requests"))
	}))
	c.mux.HandleFunc("GET "+APIPrefix+"/nodes", c.nodes)
	c.mux.HandleFunc("GET "+APIPrefix+"/network", c.network)
	c.mux.HandleFunc("GET "+APIPrefix+"/report", c.report)
	c.mux.HandleFunc("GET "+APIPrefix+"/recording", c.serveRecording)
	c.mux.HandleFunc("GET "+APIPrefix+"/events", c.events)
	c.mux.HandleFunc("POST "+APIPrefix+"/partition", c.partition)
	c.mux.HandleFunc("POST "+APIPrefix+"/heal", c.heal)
	c.mux.HandleFunc("POST "+APIPrefix+"/shape", c.shape)
	c.mux.HandleFunc("POST "+APIPrefix+"/nodes", c.add)
	c.mux.HandleFunc("POST "+APIPrefix+"/nodes/{name}/{op}", c.nodeOp)
	c.mux.HandleFunc("GET "+APIPrefix+"/load", c.loadStatus)
	c.mux.HandleFunc("POST "+APIPrefix+"/load", c.setLoad)
	c.mux.Handle("GET /", uiHandler())
	return c
}

// ServeHTTP implements http.Handler.
func (c *Controller) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !loopbackHost(r.Host) {
		writeErr(w, http.StatusForbidden, fmt.Errorf("host %q is not a loopback address", r.Host))
		return
	}
	c.cop.Handler(c.mux).ServeHTTP(w, r)
}

// loopbackHost reports whether a Host header names the loopback interface.
func loopbackHost(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeErr(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

// statusOf maps a control's error to an HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrUnknownNode):
		return http.StatusNotFound
	case errors.Is(err, ErrStopped), errors.Is(err, ErrRunning), errors.Is(err, ErrExists):
		return http.StatusConflict
	case errors.Is(err, ErrBadRequest), errors.Is(err, ErrBadShape), errors.Is(err, ErrUnsupported),
		errors.Is(err, ErrBadNetwork), errors.Is(err, ErrBadTopology):
		return http.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// decode reads a JSON body into v, refusing unknown fields and a body over
// MaxControlBody; an empty body leaves v as it is.
func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxControlBody+1))
	if err != nil {
		return fmt.Errorf("%w: read body: %w", ErrBadRequest, err)
	}
	if len(b) > MaxControlBody {
		return fmt.Errorf("%w: body over %d bytes", ErrBadRequest, MaxControlBody)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: JSON body: %w", ErrBadRequest, err)
	}
	return nil
}

// done answers a control.
func (c *Controller) done(w http.ResponseWriter, what string, result any, err error) {
	if err != nil {
		c.log.Info("control refused", "sys", "lab", "control", what, "err", err)
		writeErr(w, statusOf(err), err)
		return
	}
	c.log.Info("control", "sys", "lab", "control", what)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "control": what, "result": result})
}

func (c *Controller) nodes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, c.cluster.Status())
}

// OfferRecording makes GET /recording serve the recording in the file at
// path (the session's own --record file, which grows while it runs, or an
// earlier one), so the network view can replay it. The path comes from the
// operator, never from a request.
func (c *Controller) OfferRecording(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recording = path
}

func (c *Controller) network(w http.ResponseWriter, r *http.Request) {
	n := c.cluster.Network()
	c.mu.Lock()
	v := NetworkView{Network: n, Partition: partitionOf(c.groups, n.Nodes), Recording: c.recording != ""}
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, v)
}

// partitionOf completes the groups of a partition with the group of the
// nodes it did not name; nil for no partition.
func partitionOf(groups [][]string, nodes []Node) [][]string {
	if groups == nil {
		return nil
	}
	named := map[string]bool{}
	out := make([][]string, 0, len(groups)+1)
	for _, g := range groups {
		out = append(out, slices.Clone(g))
		for _, name := range g {
			named[name] = true
		}
	}
	var rest []string
	for _, nd := range nodes {
		if !named[nd.Name] {
			rest = append(rest, nd.Name)
		}
	}
	if rest != nil {
		out = append(out, rest)
	}
	return out
}

// serveRecording answers GET /recording with the offered recording's
// events, checked (ReadEvents) and written again as JSON lines; a line
// still being written at the end of a growing file is left out.
func (c *Controller) serveRecording(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	path := c.recording
	c.mu.Unlock()
	if path == "" {
		writeErr(w, http.StatusNotFound, errors.New("no recording offered: start the devnet with --record FILE or --replay FILE"))
		return
	}
	f, err := os.Open(path)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, fmt.Errorf("recording: %w", err))
		return
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxRecordingSize+1))
	if err != nil {
		writeErr(w, http.StatusInternalServerError, fmt.Errorf("recording %s: %w", path, err))
		return
	}
	if len(b) > MaxRecordingSize {
		writeErr(w, http.StatusInternalServerError, fmt.Errorf("recording %s is over %d bytes: replay it with chaind devnet replay", path, MaxRecordingSize))
		return
	}
	evs, err := ReadEvents(bytes.NewReader(b[:bytes.LastIndexByte(b, '\n')+1]))
	if err != nil {
		writeErr(w, http.StatusInternalServerError, fmt.Errorf("%s: %w", path, err))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	for _, ev := range evs {
		if enc.Encode(ev) != nil {
			return
		}
	}
}

func (c *Controller) report(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, c.obs.Report())
}

// events streams events as JSON lines until the client goes away.
func (c *Controller) events(w http.ResponseWriter, r *http.Request) {
	ch, cancel := c.obs.Subscribe(eventBuffer)
	defer cancel()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	if fl != nil {
		fl.Flush()
	}
	enc := json.NewEncoder(w)
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if enc.Encode(ev) != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
		}
	}
}

func (c *Controller) partition(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Groups [][]string `json:"groups"`
	}
	if err := decode(r, &req); err != nil {
		c.done(w, "partition", nil, err)
		return
	}
	err := c.cluster.Partition(req.Groups)
	if err == nil {
		c.mu.Lock()
		c.groups = req.Groups
		c.mu.Unlock()
	}
	c.done(w, "partition "+GroupsString(req.Groups), nil, err)
}

func (c *Controller) heal(w http.ResponseWriter, r *http.Request) {
	var req struct{}
	if err := decode(r, &req); err != nil {
		c.done(w, "heal", nil, err)
		return
	}
	err := c.cluster.Heal()
	if err == nil {
		c.mu.Lock()
		c.groups = nil
		c.mu.Unlock()
	}
	c.done(w, "heal", nil, err)
}

// ShapeRequest is the body of POST /shape.
type ShapeRequest struct {
	Link      string `json:"link"`
	Delay     string `json:"delay,omitempty"`
	Jitter    string `json:"jitter,omitempty"`
	Loss      string `json:"loss,omitempty"`
	Bandwidth string `json:"bandwidth,omitempty"`
}

// Args renders the request as shape options.
func (s ShapeRequest) Args() []string {
	var a []string
	for _, kv := range [][2]string{{"delay", s.Delay}, {"jitter", s.Jitter}, {"loss", s.Loss}, {"bandwidth", s.Bandwidth}} {
		if kv[1] != "" {
			a = append(a, kv[0]+"="+kv[1])
		}
	}
	return a
}

func (c *Controller) shape(w http.ResponseWriter, r *http.Request) {
	var req ShapeRequest
	if err := decode(r, &req); err != nil {
		c.done(w, "shape", nil, err)
		return
	}
	p, err := ParsePair(req.Link, nil)
	if err != nil {
		c.done(w, "shape", nil, fmt.Errorf("%w: %w", ErrBadRequest, err))
		return
	}
	s, err := ParseShape(req.Args())
	if err != nil {
		c.done(w, "shape", nil, err)
		return
	}
	c.done(w, "shape "+p.String()+" "+s.String(), nil, c.cluster.Shape(p, s))
}

func (c *Controller) add(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name  string   `json:"name"`
		Peers []string `json:"peers"`
	}
	if err := decode(r, &req); err != nil {
		c.done(w, "add", nil, err)
		return
	}
	c.done(w, "add "+req.Name, nil, c.cluster.Add(req.Name, req.Peers))
}

func (c *Controller) nodeOp(w http.ResponseWriter, r *http.Request) {
	name, op := r.PathValue("name"), r.PathValue("op")
	what := op + " " + name
	switch op {
	case "stop", "crash", "start":
		var req struct{}
		if err := decode(r, &req); err != nil {
			c.done(w, what, nil, err)
			return
		}
		var err error
		switch op {
		case "stop":
			err = c.cluster.Stop(name)
		case "crash":
			err = c.cluster.Crash(name)
		default:
			err = c.cluster.Start(name)
		}
		c.done(w, what, nil, err)
	case "mine":
		var req struct {
			Blocks int `json:"blocks"`
		}
		req.Blocks = 1
		if err := decode(r, &req); err != nil {
			c.done(w, what, nil, err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), controlTimeout)
		defer cancel()
		hashes, err := c.cluster.Mine(ctx, name, req.Blocks)
		c.done(w, fmt.Sprintf("%s %d", what, req.Blocks), hashes, err)
	case "hashrate":
		var req struct {
			Percent *float64 `json:"percent"`
		}
		if err := decode(r, &req); err != nil {
			c.done(w, what, nil, err)
			return
		}
		if req.Percent == nil || !(*req.Percent >= 0 && *req.Percent <= 100) {
			c.done(w, what, nil, fmt.Errorf("%w: percent 0..100 is required", ErrBadRequest))
			return
		}
		c.done(w, fmt.Sprintf("%s %g%%", what, *req.Percent), nil, c.cluster.SetShare(name, *req.Percent/100))
	case "send":
		var req struct {
			To     string `json:"to"`
			Amount uint64 `json:"amount"`
		}
		if err := decode(r, &req); err != nil {
			c.done(w, what, nil, err)
			return
		}
		id, err := c.cluster.Send(name, req.To, req.Amount)
		c.done(w, what, id, err)
	default:
		writeErr(w, http.StatusNotFound, fmt.Errorf("unknown control %q (stop, crash, start, mine, hashrate, send)", op))
	}
}
