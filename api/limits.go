package api

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Limits bounds what one client (one remote IP address) and all clients
// together may hold of the API, so that no client can starve the others
// or the node: connections, requests in flight, whole-chain streams,
// event streams and transaction submissions. A zero field takes its
// default (DefaultLimits); a negative one turns that limit off.
type Limits struct {
	// MaxConns bounds open API connections. At the bound the connection
	// idle the longest (keep-alive, or no request yet) is closed to make
	// room; with none idle, the new connection is refused. The default
	// keeps it below the process's descriptor limit with room for peers
	// and the store (see connBudget).
	MaxConns int
	// MaxConnsPerIP bounds the open connections of one client.
	MaxConnsPerIP int
	// MaxRequestsPerIP bounds one client's requests in flight.
	MaxRequestsPerIP int
	// MaxHeavy bounds the whole-chain streams (GET /blocks, GET /chain,
	// GET /nodes/resolve) in flight; MaxHeavyPerIP those of one client.
	MaxHeavy      int
	MaxHeavyPerIP int
	// MaxStreamsPerIP bounds one client's event streams (the node bounds
	// them all with node.MaxEventSubscribers).
	MaxStreamsPerIP int
	// MaxBatches bounds the transaction batches being admitted at once;
	// MaxBatchesPerIP those of one client.
	MaxBatches      int
	MaxBatchesPerIP int
	// TxRatePerIP is how many submitted transactions per second one client
	// may send on average, with bursts of TxBurstPerIP (at least
	// MaxTxBatch, so one full batch always fits an idle client).
	TxRatePerIP  int
	TxBurstPerIP int
}

// Default limits. A browser opens at most 6 connections per host and a
// tutorial's curl one: the per-client bounds leave room for a busy local
// user and still keep one client to a small share of the node.
const (
	DefaultMaxConns         = 4096
	DefaultMaxConnsPerIP    = 128
	DefaultMaxRequestsPerIP = 64
	DefaultMaxHeavy         = 4
	DefaultMaxHeavyPerIP    = 2
	DefaultMaxStreamsPerIP  = 8
	DefaultMaxBatches       = 2
	DefaultMaxBatchesPerIP  = 1
	DefaultTxRatePerIP      = 1000
	DefaultTxBurstPerIP     = MaxTxBatch
	// fdReserve is the descriptors kept for everything but the API: peer
	// connections (libp2p's own limits stay well under it), the store's
	// files, the WAL, and the node's own outbound HTTP.
	fdReserve = 1024
	// refuseWriteTimeout bounds writing the short answer to a refused
	// connection.
	refuseWriteTimeout = 100 * time.Millisecond
	// maxClientsTracked bounds the per-client table; above it, entries of
	// clients holding nothing are swept.
	maxClientsTracked = 4096
)

// DefaultLimits returns the defaults, with MaxConns from the process's
// descriptor limit.
func DefaultLimits() Limits {
	return Limits{
		MaxConns:         connBudget(openFileLimit()),
		MaxConnsPerIP:    DefaultMaxConnsPerIP,
		MaxRequestsPerIP: DefaultMaxRequestsPerIP,
		MaxHeavy:         DefaultMaxHeavy,
		MaxHeavyPerIP:    DefaultMaxHeavyPerIP,
		MaxStreamsPerIP:  DefaultMaxStreamsPerIP,
		MaxBatches:       DefaultMaxBatches,
		MaxBatchesPerIP:  DefaultMaxBatchesPerIP,
		TxRatePerIP:      DefaultTxRatePerIP,
		TxBurstPerIP:     DefaultTxBurstPerIP,
	}
}

// connBudget is how many API connections fit under a descriptor limit of
// nofile with fdReserve kept for the rest of the node: DefaultMaxConns,
// less when the limit is low (half of it, at worst), unknown (0) meaning
// the default.
func connBudget(nofile uint64) int {
	if nofile == 0 {
		return DefaultMaxConns
	}
	budget := int64(nofile) - fdReserve
	if budget < int64(nofile)/2 {
		budget = int64(nofile) / 2
	}
	return int(min(budget, DefaultMaxConns))
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	fill := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	fill(&l.MaxConns, d.MaxConns)
	fill(&l.MaxConnsPerIP, d.MaxConnsPerIP)
	fill(&l.MaxRequestsPerIP, d.MaxRequestsPerIP)
	fill(&l.MaxHeavy, d.MaxHeavy)
	fill(&l.MaxHeavyPerIP, d.MaxHeavyPerIP)
	fill(&l.MaxStreamsPerIP, d.MaxStreamsPerIP)
	fill(&l.MaxBatches, d.MaxBatches)
	fill(&l.MaxBatchesPerIP, d.MaxBatchesPerIP)
	fill(&l.TxRatePerIP, d.TxRatePerIP)
	fill(&l.TxBurstPerIP, d.TxBurstPerIP)
	if l.TxBurstPerIP > 0 && l.TxBurstPerIP < MaxTxBatch {
		l.TxBurstPerIP = MaxTxBatch
	}
	return l
}

// over reports whether n has reached bound (a negative bound is none).
func over(n, bound int) bool { return bound >= 0 && n >= bound }

// routeClass is what a route costs and which limits it takes.
type routeClass int

const (
	classNormal routeClass = iota
	classHeavy             // streams the whole chain
	classStream            // an event stream, open until the client leaves
)

// heavyRoutes and streamRoutes name the route patterns of each class.
var (
	heavyRoutes  = map[string]bool{"GET /blocks": true, "GET /chain": true, "GET /nodes/resolve": true}
	streamRoutes = map[string]bool{"GET /api/v1/events": true}
)

func classOf(pattern string) routeClass {
	switch {
	case heavyRoutes[pattern]:
		return classHeavy
	case streamRoutes[pattern]:
		return classStream
	}
	return classNormal
}

// client is what one remote address holds.
type client struct {
	conns, requests, heavy, streams, batches int
	tokens                                   float64   // transaction tokens left
	filled                                   time.Time // when tokens was last brought up to date
}

func (c *client) idle() bool {
	return c.conns == 0 && c.requests == 0 && c.heavy == 0 && c.streams == 0 && c.batches == 0
}

// limiter enforces Limits. It is safe for concurrent use.
type limiter struct {
	lim Limits
	now func() time.Time

	mu      sync.Mutex
	clients map[netip.Addr]*client
	conns   map[*limitedConn]struct{}
	heavy   int
	batches int
}

func newLimiter(lim Limits) *limiter {
	return &limiter{
		lim:     lim.withDefaults(),
		now:     time.Now,
		clients: make(map[netip.Addr]*client),
		conns:   make(map[*limitedConn]struct{}),
	}
}

// client returns ip's entry, creating it; l.mu must be held.
func (l *limiter) client(ip netip.Addr) *client {
	c := l.clients[ip]
	if c == nil {
		if len(l.clients) >= maxClientsTracked {
			l.sweep()
		}
		c = &client{tokens: float64(l.lim.TxBurstPerIP), filled: l.now()}
		l.clients[ip] = c
	}
	return c
}

// sweep forgets clients that hold nothing and whose transaction tokens
// are back to full; l.mu must be held.
func (l *limiter) sweep() {
	for ip, c := range l.clients {
		if c.idle() && l.refill(c) >= float64(l.lim.TxBurstPerIP) {
			delete(l.clients, ip)
		}
	}
}

// refill brings c's transaction tokens up to date and returns them; l.mu
// must be held.
func (l *limiter) refill(c *client) float64 {
	now := l.now()
	if l.lim.TxRatePerIP > 0 {
		c.tokens = min(float64(l.lim.TxBurstPerIP), c.tokens+now.Sub(c.filled).Seconds()*float64(l.lim.TxRatePerIP))
	}
	c.filled = now
	return c.tokens
}

// tooMany is the answer to a client over one of its limits.
func tooMany(retry time.Duration, format string, args ...any) *Error {
	return &Error{Status: http.StatusTooManyRequests, Msg: fmt.Sprintf(format, args...), retryAfter: retry}
}

// busy is the answer when the node as a whole is at a bound.
func busy(retry time.Duration, format string, args ...any) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Msg: fmt.Sprintf(format, args...), retryAfter: retry}
}

// admitRequest takes a request slot (and a heavy or stream slot for those
// routes) for ip, or says which limit refuses it. release gives them back.
func (l *limiter) admitRequest(ip netip.Addr, class routeClass) (release func(), err *Error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.client(ip)
	if over(c.requests, l.lim.MaxRequestsPerIP) {
		return nil, tooMany(time.Second, "too many requests in flight from %s (at most %d); wait for some to finish", ip, l.lim.MaxRequestsPerIP)
	}
	switch class {
	case classHeavy:
		if over(c.heavy, l.lim.MaxHeavyPerIP) {
			return nil, tooMany(time.Second, "too many whole-chain requests in flight from %s (at most %d); page through /api/v1/blocks instead", ip, l.lim.MaxHeavyPerIP)
		}
		if over(l.heavy, l.lim.MaxHeavy) {
			return nil, busy(time.Second, "the node is already streaming the whole chain to %d clients; try again shortly or page through /api/v1/blocks", l.heavy)
		}
		c.heavy++
		l.heavy++
	case classStream:
		if over(c.streams, l.lim.MaxStreamsPerIP) {
			return nil, tooMany(5*time.Second, "too many event streams open from %s (at most %d)", ip, l.lim.MaxStreamsPerIP)
		}
		c.streams++
	}
	c.requests++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		c.requests--
		switch class {
		case classHeavy:
			c.heavy--
			l.heavy--
		case classStream:
			c.streams--
		}
	}, nil
}

// admitBatch takes one of ip's batch slots and one of the node's for a
// batch about to be decoded, if ip has transaction tokens left; charge
// then takes the batch's size, which may leave ip in debt (so a batch is
// refused before the work of decoding it, and the average rate still
// holds: the next batch waits until the debt is paid).
func (l *limiter) admitBatch(ip netip.Addr) (charge func(n int), release func(), err *Error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.client(ip)
	if over(c.batches, l.lim.MaxBatchesPerIP) {
		return nil, nil, tooMany(time.Second, "a batch from %s is still being admitted (at most %d at a time)", ip, l.lim.MaxBatchesPerIP)
	}
	if over(l.batches, l.lim.MaxBatches) {
		return nil, nil, busy(time.Second, "the node is admitting %d batches already; try again shortly", l.batches)
	}
	if l.lim.TxRatePerIP > 0 {
		if have := l.refill(c); have <= 0 {
			wait := time.Duration((1 - have) / float64(l.lim.TxRatePerIP) * float64(time.Second))
			return nil, nil, tooMany(wait, "%s is sending transactions faster than %d per second; try again in %s",
				ip, l.lim.TxRatePerIP, wait.Round(time.Millisecond))
		}
	}
	c.batches++
	l.batches++
	charge = func(n int) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.lim.TxRatePerIP > 0 {
			l.refill(c)
			c.tokens -= float64(n)
		}
	}
	return charge, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		c.batches--
		l.batches--
	}, nil
}

// takeTxs charges ip n transaction tokens (a single submission).
func (l *limiter) takeTxs(ip netip.Addr, n int) *Error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.spend(ip, l.client(ip), n)
}

// spend takes n transaction tokens from c; l.mu must be held.
func (l *limiter) spend(ip netip.Addr, c *client, n int) *Error {
	if l.lim.TxRatePerIP <= 0 {
		return nil
	}
	if have := l.refill(c); have < float64(n) {
		wait := time.Duration((float64(n) - have) / float64(l.lim.TxRatePerIP) * float64(time.Second))
		return tooMany(wait, "%s is sending transactions faster than %d per second; %d more fit in %s",
			ip, l.lim.TxRatePerIP, n, wait.Round(time.Millisecond))
	}
	c.tokens -= float64(n)
	return nil
}

// admitConn registers a new connection from ip, or says why it is
// refused. At MaxConns it first closes the connection idle the longest.
func (l *limiter) admitConn(lc *limitedConn) (refusal string, status int) {
	l.mu.Lock()
	c := l.client(lc.ip)
	if over(c.conns, l.lim.MaxConnsPerIP) {
		l.mu.Unlock()
		return fmt.Sprintf("too many connections from %s (at most %d)", lc.ip, l.lim.MaxConnsPerIP), http.StatusTooManyRequests
	}
	var victim *limitedConn
	if over(len(l.conns), l.lim.MaxConns) {
		victim = l.oldestIdle()
		if victim == nil {
			l.mu.Unlock()
			return fmt.Sprintf("the node has %d API connections open, none idle; try again shortly", len(l.conns)), http.StatusServiceUnavailable
		}
		l.forget(victim) // counted out now, so the room is ours
	}
	c.conns++
	lc.state, lc.since = http.StateNew, l.now()
	l.conns[lc] = struct{}{}
	l.mu.Unlock()
	if victim != nil {
		victim.Close()
	}
	return "", 0
}

// oldestIdle returns the connection that has waited longest without a
// request (keep-alive idle, or new with no request yet); l.mu must be
// held.
func (l *limiter) oldestIdle() *limitedConn {
	var best *limitedConn
	for lc := range l.conns {
		if (lc.state == http.StateIdle || lc.state == http.StateNew) && (best == nil || lc.since.Before(best.since)) {
			best = lc
		}
	}
	return best
}

// forget removes lc from the counts, once; l.mu must be held.
func (l *limiter) forget(lc *limitedConn) {
	if _, ok := l.conns[lc]; !ok {
		return
	}
	delete(l.conns, lc)
	if c := l.clients[lc.ip]; c != nil {
		c.conns--
	}
}

// connState follows http.Server's view of each connection, so the
// limiter knows which are idle.
func (l *limiter) connState(nc net.Conn, state http.ConnState) {
	lc, ok := nc.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, tracked := l.conns[lc]; !tracked {
		return
	}
	switch state {
	case http.StateClosed, http.StateHijacked:
		l.forget(lc)
	default:
		lc.state, lc.since = state, l.now()
	}
}

// openConns returns the number of API connections open.
func (l *limiter) openConns() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// limitedConn is an API connection counted by the limiter.
type limitedConn struct {
	net.Conn
	l  *limiter
	ip netip.Addr

	// Guarded by l.mu.
	state http.ConnState
	since time.Time

	closeOnce sync.Once
}

// Close closes the connection and gives its slot back.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() {
		c.l.mu.Lock()
		c.l.forget(c)
		c.l.mu.Unlock()
	})
	return err
}

// limitListener counts accepted connections per client and in all, and
// answers the ones over a bound with a short HTTP error before closing
// them, without handing them to the server.
type limitListener struct {
	net.Listener
	l *limiter
}

// Accept returns the next connection within the limits.
func (ll *limitListener) Accept() (net.Conn, error) {
	for {
		nc, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc := &limitedConn{Conn: nc, l: ll.l, ip: addrIP(nc.RemoteAddr())}
		msg, status := ll.l.admitConn(lc)
		if msg == "" {
			return lc, nil
		}
		refuseConn(nc, status, msg)
	}
}

// refuseConn writes a minimal HTTP answer with a JSON error on a
// connection that will not be served, then closes it.
func refuseConn(nc net.Conn, status int, msg string) {
	body := `{"error":` + strconv.Quote(msg) + "}\n"
	_ = nc.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
	_, _ = fmt.Fprintf(nc, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
	_ = nc.Close()
}

// addrIP returns the IP of a connection's remote address (IPv4-mapped
// IPv6 addresses as IPv4); the zero Addr when there is none, which is
// then one client of its own.
func addrIP(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return ip.Unmap()
		}
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// requestIP returns the IP a request came from.
func requestIP(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// streamSendBuffer bounds the kernel send buffer of an event stream's
// connection, so a client that stops reading fills it, and meets
// StreamWriteTimeout, after kilobytes rather than megabytes.
const streamSendBuffer = 16 << 10

// connKey is the request context key of the request's connection.
type connKey struct{}

// shrinkSendBuffer applies streamSendBuffer to r's connection.
func shrinkSendBuffer(r *http.Request) {
	if lc, ok := r.Context().Value(connKey{}).(*limitedConn); ok {
		if tc, ok := lc.Conn.(*net.TCPConn); ok {
			_ = tc.SetWriteBuffer(streamSendBuffer)
		}
	}
}
