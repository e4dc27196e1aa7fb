package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chaind/chaind/internal/version"
	"github.com/chaind/chaind/node"
)

// Server timeouts and header bounds.
const (
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds reading a whole request, body included; long
	// handlers (streams, mining) lift it once the body is read.
	ReadTimeout = 60 * time.Second
	// WriteTimeout bounds writing an ordinary response; streams extend it
	// by StreamWriteTimeout before each write.
	WriteTimeout = 60 * time.Second
	// IdleTimeout closes keep-alive connections idle this long.
	IdleTimeout = 2 * time.Minute
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes = 16 << 10
	// StreamWriteTimeout bounds one write of a streamed answer (the chain,
	// the event stream): a client that stops reading is dropped.
	StreamWriteTimeout = 10 * time.Second
	// MineTimeout bounds a mining request (GET /mine, POST /mineBlock).
	MineTimeout = 10 * time.Minute
)

// unmatchedRoute labels the latency of requests that matched no route.
const unmatchedRoute = "unmatched"

// Config configures a Server.
type Config struct {
	// Addr is the listen address of Start, e.g. "127.0.0.1:8545";
	// "127.0.0.1:0" picks a free port (see Addr).
	Addr string
	// Token is the bearer token of the protected routes.
	Token string
	// Cookie is a second accepted bearer token: the one of the cookie file
	// the node rewrites at each start, which local tools read.
	Cookie string
	// RequireToken makes the routes that mine, spend the node's coins or
	// change its peers demand Token or Cookie. With both empty they refuse
	// every request.
	RequireToken bool
	// Hosts are names the API is served as, besides localhost, the bind
	// address's host and IP literals (see hostCheck); AnyHost ("*")
	// accepts every Host header.
	Hosts []string
	// Limits bounds what clients may hold (zero fields: the defaults).
	Limits Limits
	// Logger receives request failures; nil discards.
	Logger *slog.Logger
	// Version is the node's version as /api/v1/node shows it; empty takes
	// the Go toolchain's build info.
	Version string
}

// Server serves the API for one node. Handler may be used on its own (for
// example with httptest); Start and Shutdown run it on its own listener.
type Server struct {
	n   *node.Node
	cfg Config
	log *slog.Logger
	hrp string

	mux       *http.ServeMux
	hosts     *hostCheck
	lim       *limiter
	chainJSON *blockJSONCache     // encodings the whole-chain routes share
	inner     http.Handler        // mux behind cross-origin protection
	patterns  map[string]struct{} // registered patterns: the only latency labels
	latency   *prometheus.HistogramVec
	metrics   http.Handler // promhttp over the node's registry
	version   string

	done      chan struct{} // closed by Shutdown: streams end
	closeDone sync.Once

	mu        sync.Mutex
	srv       *http.Server
	ln        net.Listener
	serveDone chan struct{}
	serveErr  error
}

// New builds the server for n. It registers the API latency histogram on
// n.Registry() (reusing it when another Server of the same node did).
func New(n *node.Node, cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		n:         n,
		cfg:       cfg,
		log:       cfg.Logger,
		hrp:       n.Params().AddressPrefix,
		mux:       http.NewServeMux(),
		hosts:     newHostCheck(cfg.Addr, cfg.Hosts),
		lim:       newLimiter(cfg.Limits),
		chainJSON: newBlockJSONCache(),
		patterns:  make(map[string]struct{}),
		version:   cfg.Version,
		done:      make(chan struct{}),
	}
	if s.version == "" {
		s.version = buildVersion()
	}
	s.latency = registerLatency(n.Registry())
	s.metrics = s.newMetricsHandler()
	s.routes()
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &Error{Status: http.StatusForbidden, Msg: "cross-origin request refused: state-changing routes accept only same-origin or non-browser requests"})
	}))
	s.inner = cop.Handler(s.mux)
	return s
}

func registerLatency(reg *prometheus.Registry) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "chaind_api_request_duration_seconds",
		Help:    "API request latency by route pattern and status code.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16), // 0.5 ms .. 16 s
	}, []string{"route", "code"})
	if err := reg.Register(h); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.HistogramVec); ok {
				return existing
			}
		}
		// Registration can only fail on a name clash with another kind
		// of collector: keep serving, unregistered.
		return h
	}
	return h
}

// buildVersion is the build's version and commit (internal/version).
func buildVersion() string {
	v := version.Get()
	if v.Commit == "" {
		return v.Version
	}
	return v.Version + "+" + v.Commit
}

// Handler returns the API's HTTP handler.
func (s *Server) Handler() http.Handler { return s }

// handlerFunc is a route handler: it writes its answer, or returns an
// error for handle to write (an *Error as is, anything else as a 500).
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers fn under pattern.
func (s *Server) handle(pattern string, fn handlerFunc) {
	s.patterns[pattern] = struct{}{}
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// fail writes err: an *Error as it says, anything else as a 500 that is
// logged (it is a bug or a storage failure, not bad input).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		s.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &Error{Status: http.StatusInternalServerError, Msg: "internal error: " + err.Error()}
	}
	writeError(w, e)
}

// ServeHTTP routes r, answers unmatched paths and wrong methods with JSON,
// recovers panics and records the latency by route pattern.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	h, pattern := s.mux.Handler(r)
	route := pattern
	if _, ok := s.patterns[pattern]; !ok {
		route = unmatchedRoute
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { // net/http's own signal: let it through
				s.observe(route, http.StatusInternalServerError, start)
				panic(v)
			}
			s.log.Error("api handler panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			if sw.status != 0 {
				// Headers are out: the only honest signal left is a
				// broken response.
				s.observe(route, http.StatusInternalServerError, start)
				panic(http.ErrAbortHandler)
			}
			writeError(sw, &Error{Status: http.StatusInternalServerError, Msg: fmt.Sprintf("internal error: %v", v)})
		}
		s.observe(route, sw.code(), start)
	}()
	if !s.hosts.allowed(r.Host) {
		refuseHost(sw, r.Host)
		return
	}
	if route == unmatchedRoute {
		s.unmatched(sw, r, h)
		return
	}
	release, refused := s.lim.admitRequest(requestIP(r), classOf(pattern))
	if refused != nil {
		writeError(sw, refused)
		return
	}
	defer release()
	s.inner.ServeHTTP(sw, r)
}

func (s *Server) observe(route string, code int, start time.Time) {
	s.latency.WithLabelValues(route, strconv.Itoa(code)).Observe(time.Since(start).Seconds())
}

// unmatched answers a request no route matched: the mux's own 404, 405 or
// redirect, rewritten as JSON.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request, h http.Handler) {
	c := &captureWriter{header: make(http.Header)}
	h.ServeHTTP(c, r)
	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case status == http.StatusMethodNotAllowed:
		allow := c.header.Get("Allow")
		w.Header().Set("Allow", allow)
		writeError(w, &Error{Status: status, Msg: fmt.Sprintf("method %s not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow)})
	case status >= 300 && status < 400 && c.header.Get("Location") != "":
		loc := c.header.Get("Location")
		w.Header().Set("Location", loc)
		writeError(w, &Error{Status: status, Msg: "moved to " + loc})
	case status == http.StatusNotFound:
		writeError(w, &Error{Status: status, Msg: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)})
	default:
		writeError(w, &Error{Status: status, Msg: http.StatusText(status)})
	}
}

// Start listens on Config.Addr and serves in a goroutine the Server owns
// until Shutdown. ctx bounds only the listen.
func (s *Server) Start(ctx context.Context) error {
	ln, err := Listen(ctx, s.cfg.Addr)
	if err != nil {
		return err
	}
	if err := s.Serve(ln); err != nil {
		ln.Close()
		return err
	}
	return nil
}

// Listen binds addr for a Server's Serve, so that a caller can find out
// that the address is taken or malformed before starting anything else.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("api: listen on %q: %w", addr, err)
	}
	return ln, nil
}

// Serve serves on ln in a goroutine the Server owns until Shutdown, which
// closes ln.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("api: server already started")
	}
	ln = &limitListener{Listener: ln, l: s.lim}
	s.ln = ln
	s.srv = &http.Server{
		Handler:   s,
		ConnState: s.lim.connState,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.serveDone = make(chan struct{})
	go func() {
		defer close(s.serveDone)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("api server stopped", "err", err)
			s.mu.Lock()
			s.serveErr = err
			s.mu.Unlock()
		}
	}()
	s.log.Info("api listening", "addr", ln.Addr().String(), "max_conns", s.lim.lim.MaxConns, "max_conns_per_ip", s.lim.lim.MaxConnsPerIP)
	return nil
}

// Addr returns the address Start bound (with the real port when Config.Addr
// asked for port 0), or "" before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown ends event streams, stops accepting requests and waits for the
// ones in flight until ctx ends, then closes what is left and waits for
// the serving goroutine. Safe to call without Start and more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeDone.Do(func() { close(s.done) })
	s.mu.Lock()
	srv, serveDone := s.srv, s.serveDone
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("api: shutdown: %w", err), srv.Close())
	}
	<-serveDone
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(err, s.serveErr)
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes,
// deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// captureWriter keeps the status and headers of the mux's own answers and
// drops their plain-text bodies.
type captureWriter struct {
	header http.Header
	status int
}

func (c *captureWriter) Header() http.Header { return c.header }

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return len(b), nil
}
