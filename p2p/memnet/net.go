package memnet

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaind/chaind/p2p"
)

// Bounds of the in-memory network.
const (
	// MaxInbox bounds a node's queue of gossip waiting to be handled; more
	// is dropped (and counted), as gossipsub drops on full queues.
	MaxInbox = 1 << 16
	// SeenCacheSize bounds the message ids a node remembers for dedup.
	SeenCacheSize = 1 << 17
	// AddrPrefix starts a memnet address: "memnet/<node id>".
	AddrPrefix = "memnet/"
)

// LinkParams describe one link.
type LinkParams struct {
	// Latency is the one-way delay of every message on the link.
	Latency time.Duration
	// Jitter adds up to this much extra delay per gossip message
	// (requests use Latency alone, as a stream keeps order).
	Jitter time.Duration
	// Loss is the probability, in [0, 1], that a gossip message on the link is lost.
	Loss float64
	// Bandwidth is the link's capacity in bytes per second in each
	// direction (0: unlimited). A message waits for the ones sent before it
	// in the same direction, then takes len/Bandwidth to cross, then Latency.
	Bandwidth int64
}

func (p LinkParams) check() error {
	if p.Latency < 0 || p.Jitter < 0 || p.Bandwidth < 0 || !(p.Loss >= 0 && p.Loss <= 1) {
		return fmt.Errorf("memnet: bad link params %+v", p)
	}
	return nil
}

// Config configures a Net.
type Config struct {
	// Seed drives loss and jitter.
	Seed uint64
	// Link is used for links made by Node.Connect.
	Link LinkParams
	// BanDuration is how long a node refuses a peer it banned
	// (p2p.DefaultBanDuration if 0).
	BanDuration time.Duration
	// Logger receives the nodes' logs (slog.Default() if nil).
	Logger *slog.Logger
}

// Stats counts gossip traffic over the whole net.
type Stats struct {
	Sent      uint64 // gossip messages put on a link
	Lost      uint64 // lost to link loss
	Dropped   uint64 // link down at delivery, receiver not running, or inbox full
	Delivered uint64 // handed to a receiving node (duplicates included)
	Requests  uint64 // requests sent
}

type pairKey struct{ lo, hi p2p.PeerID }

func keyOf(a, b p2p.PeerID) pairKey {
	if a > b {
		a, b = b, a
	}
	return pairKey{a, b}
}

// link joins two nodes. a dialled b.
type link struct {
	a, b   *Node
	params LinkParams
	up     bool
	since  time.Time

	bwMu sync.Mutex
	free [2]time.Time // per direction (0: a to b), when the link is next idle
}

// transmit reserves the link for size bytes sent in direction dir (0: a
// to b) and returns how long they wait and take to cross at the link's
// bandwidth (0 when it is unlimited). bw is the bandwidth read with the
// link's parameters.
func (l *link) transmit(dir, size int, bw int64) time.Duration {
	if bw <= 0 {
		return 0
	}
	now := time.Now()
	l.bwMu.Lock()
	defer l.bwMu.Unlock()
	start := l.free[dir]
	if start.Before(now) {
		start = now
	}
	l.free[dir] = start.Add(time.Duration(int64(size) * int64(time.Second) / bw))
	return l.free[dir].Sub(now)
}

// other returns the node at the far end from n. Reopen changes a and b:
// callers hold Net.mu.
func (l *link) other(n *Node) *Node {
	if l.a == n {
		return l.b
	}
	return l.a
}

// hopFrom describes l as seen from n. Callers hold Net.mu.
func (l *link) hopFrom(n *Node) hop {
	h := hop{to: l.other(n), params: l.params, link: l}
	if l.b == n {
		h.dir = 1
	}
	return h
}

// Net is an in-memory network of Nodes. Its methods are safe for
// concurrent use.
type Net struct {
	cfg   Config
	log   *slog.Logger
	sched *scheduler

	mu     sync.Mutex // guards everything below
	nodes  map[p2p.PeerID]*Node
	order  []*Node
	links  map[pairKey]*link
	adj    map[p2p.PeerID][]*link // each node's links, by id (a reopened node keeps them)
	groups map[p2p.PeerID]int     // nil when not partitioned
	closed bool

	sent, lost, dropped, delivered, requests atomic.Uint64
}

// New returns an empty network and starts its scheduler.
func New(cfg Config) (*Net, error) {
	if err := cfg.Link.check(); err != nil {
		return nil, err
	}
	if cfg.BanDuration <= 0 {
		cfg.BanDuration = p2p.DefaultBanDuration
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	n := &Net{
		cfg:   cfg,
		log:   cfg.Logger.With("sys", "memnet"),
		sched: newScheduler(),
		nodes: make(map[p2p.PeerID]*Node),
		links: make(map[pairKey]*link),
		adj:   make(map[p2p.PeerID][]*link),
	}
	go n.sched.run()
	return n, nil
}

// NewNode adds a node named "n000", "n001", ... It is not started.
func (n *Net) NewNode() *Node {
	n.mu.Lock()
	defer n.mu.Unlock()
	id := p2p.PeerID(fmt.Sprintf("n%03d", len(n.order)))
	nd := newNode(n, id)
	n.nodes[id] = nd
	n.order = append(n.order, nd)
	return nd
}

// Node returns the node with the given id, or nil.
func (n *Net) Node(id p2p.PeerID) *Node {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.nodes[id]
}

// Nodes returns every node in creation order.
func (n *Net) Nodes() []*Node {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*Node(nil), n.order...)
}

// Link joins a and b (a dials b) with the given parameters, or updates the
// parameters of an existing link. It fails if either node bans the other.
func (n *Net) Link(a, b p2p.PeerID, p LinkParams) error {
	if err := p.check(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return p2p.ErrClosed
	}
	na, nb := n.nodes[a], n.nodes[b]
	if na == nil || nb == nil {
		return fmt.Errorf("memnet: link %s-%s: unknown node", a, b)
	}
	if a == b {
		return p2p.ErrSelf
	}
	if na.bans(b) || nb.bans(a) {
		return fmt.Errorf("%w: link %s-%s", p2p.ErrBanned, a, b)
	}
	k := keyOf(a, b)
	if l := n.links[k]; l != nil {
		l.params = p
		return nil
	}
	l := &link{a: na, b: nb, params: p}
	n.links[k] = l
	n.adj[a] = append(n.adj[a], l)
	n.adj[b] = append(n.adj[b], l)
	n.refresh(l)
	return nil
}

// Shape changes the parameters of the existing link between a and b
// (delay, jitter, loss, bandwidth); messages already on the link keep the
// timing they were sent with.
func (n *Net) Shape(a, b p2p.PeerID, p LinkParams) error {
	if err := p.check(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.links[keyOf(a, b)]
	if l == nil {
		return fmt.Errorf("memnet: shape %s-%s: no such link", a, b)
	}
	l.params = p
	return nil
}

// LinkParams returns the parameters of the link between a and b, and
// whether there is one.
func (n *Net) LinkParams(a, b p2p.PeerID) (LinkParams, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.links[keyOf(a, b)]
	if l == nil {
		return LinkParams{}, false
	}
	return l.params, true
}

// Reopen replaces the closed node id with a fresh, unstarted Node of the
// same id that keeps the old one's links, as a process restarted on the
// same address would find its peers redialling it. The new node has no
// handlers, no seen messages and no bans of its own; other nodes keep
// their view of it (points and bans). It fails while the old node is not
// closed.
func (n *Net) Reopen(id p2p.PeerID) (*Node, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, p2p.ErrClosed
	}
	old := n.nodes[id]
	if old == nil {
		return nil, fmt.Errorf("memnet: reopen %s: unknown node", id)
	}
	if old.state.Load() != stateClosed {
		return nil, fmt.Errorf("memnet: reopen %s: the node is not closed", id)
	}
	nd := newNode(n, id)
	n.nodes[id] = nd
	for i, o := range n.order {
		if o == old {
			n.order[i] = nd
		}
	}
	for _, l := range n.links {
		if l.a == old {
			l.a = nd
		}
		if l.b == old {
			l.b = nd
		}
	}
	return nd, nil
}

// Unlink removes the link between a and b, if any.
func (n *Net) Unlink(a, b p2p.PeerID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.unlinkLocked(a, b)
}

func (n *Net) unlinkLocked(a, b p2p.PeerID) {
	k := keyOf(a, b)
	l := n.links[k]
	if l == nil {
		return
	}
	delete(n.links, k)
	n.adj[a] = slices.DeleteFunc(n.adj[a], func(x *link) bool { return x == l })
	n.adj[b] = slices.DeleteFunc(n.adj[b], func(x *link) bool { return x == l })
	n.setUp(l, false)
}

// Partition splits the nodes into groups that cannot reach each other.
// Nodes not named in any group form one more group together. Links across
// groups go down (their ends get Disconnected events) until Heal.
func (n *Net) Partition(groups ...[]p2p.PeerID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.groups = make(map[p2p.PeerID]int)
	for i, g := range groups {
		for _, id := range g {
			n.groups[id] = i + 1
		}
	}
	n.refreshAll()
}

// Heal ends a partition: links across groups come back up.
func (n *Net) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.groups = nil
	n.refreshAll()
}

// Stats returns the gossip counters.
func (n *Net) Stats() Stats {
	return Stats{
		Sent: n.sent.Load(), Lost: n.lost.Load(), Dropped: n.dropped.Load(),
		Delivered: n.delivered.Load(), Requests: n.requests.Load(),
	}
}

// Close closes every node and stops the scheduler.
func (n *Net) Close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	nodes := append([]*Node(nil), n.order...)
	n.mu.Unlock()
	for _, nd := range nodes {
		_ = nd.Close()
	}
	n.sched.stop()
}

// sameGroup reports whether a and b are on the same side of a partition.
// Called with n.mu held.
func (n *Net) sameGroup(a, b p2p.PeerID) bool {
	if n.groups == nil {
		return true
	}
	return n.groups[a] == n.groups[b]
}

// refresh brings l.up in line with the state of its ends. Called with n.mu held.
func (n *Net) refresh(l *link) {
	want := l.a.running() && l.b.running() && n.sameGroup(l.a.id, l.b.id) &&
		!l.a.bans(l.b.id) && !l.b.bans(l.a.id) && !l.a.cuts[l.b.id] && !l.b.cuts[l.a.id]
	n.setUp(l, want)
}

func (n *Net) refreshAll() {
	for _, l := range n.links {
		n.refresh(l)
	}
}

// refreshNode refreshes every link of nd. Called with n.mu held.
func (n *Net) refreshNode(nd *Node) {
	for _, l := range n.adj[nd.id] {
		if l.a == nd || l.b == nd {
			n.refresh(l)
		}
	}
}

// setUp changes l's state and tells both ends. Called with n.mu held.
func (n *Net) setUp(l *link, up bool) {
	if l.up == up {
		return
	}
	l.up = up
	if up {
		l.since = time.Now()
	}
	l.a.emit(p2p.PeerEvent{Peer: l.b.id, Connected: up, Addr: AddrPrefix + string(l.b.id)})
	l.b.emit(p2p.PeerEvent{Peer: l.a.id, Connected: up, Addr: AddrPrefix + string(l.a.id)})
}

// upLink returns the link from a to b if it is up.
func (n *Net) upLink(a, b p2p.PeerID) *link {
	n.mu.Lock()
	defer n.mu.Unlock()
	if l := n.links[keyOf(a, b)]; l != nil && l.up {
		return l
	}
	return nil
}

// upHop returns the up link from nd to the node to, as seen from nd.
func (n *Net) upHop(nd *Node, to p2p.PeerID) (hop, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.links[keyOf(nd.id, to)]
	if l == nil || !l.up || (l.a != nd && l.b != nd) {
		return hop{}, false
	}
	return l.hopFrom(nd), true
}

// neighbours returns the up links of nd and their parameters.
func (n *Net) neighbours(nd *Node) []hop {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []hop
	for _, l := range n.adj[nd.id] {
		if l.up && (l.a == nd || l.b == nd) {
			out = append(out, l.hopFrom(nd))
		}
	}
	return out
}

// hop is one neighbour reached over a link with params, read under
// Net.mu so that it stays valid when Reopen replaces a node.
type hop struct {
	to     *Node
	params LinkParams
	link   *link
	dir    int // the direction of travel: 0 from the link's a to its b
}

// roll returns a deterministic number in [0, 1) for a message on a link.
func (n *Net) roll(salt byte, from, to p2p.PeerID, msg [32]byte) float64 {
	h := fnv.New64a()
	var b [9]byte
	binary.BigEndian.PutUint64(b[:8], n.cfg.Seed)
	b[8] = salt
	h.Write(b[:])
	h.Write([]byte(from))
	h.Write([]byte{0})
	h.Write([]byte(to))
	h.Write(msg[:])
	return float64(h.Sum64()>>11) / (1 << 53)
}

// sendGossip puts a gossip message on the link from -> hop.to.
func (n *Net) sendGossip(from *Node, hp hop, m gossipMsg) {
	n.sent.Add(1)
	if hp.params.Loss > 0 && n.roll('l', from.id, hp.to.id, m.id) < hp.params.Loss {
		n.lost.Add(1)
		return
	}
	delay := hp.params.Latency + hp.link.transmit(hp.dir, len(m.data), hp.params.Bandwidth)
	if hp.params.Jitter > 0 {
		delay += time.Duration(n.roll('j', from.id, hp.to.id, m.id) * float64(hp.params.Jitter))
	}
	to := hp.to
	m.from = from.id
	n.sched.after(delay, func() {
		if n.upLink(from.id, to.id) == nil || !to.enqueue(m) {
			n.dropped.Add(1)
			return
		}
		n.delivered.Add(1)
	})
}

// scheduler runs functions at given times, in time order (ties in the
// order they were scheduled), from one goroutine. The functions must not
// block.
type scheduler struct {
	mu   sync.Mutex
	q    itemHeap
	seq  uint64
	wake chan struct{}
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

type item struct {
	at  time.Time
	seq uint64
	fn  func()
}

type itemHeap []item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)   { *h = append(*h, x.(item)) }
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = item{}
	*h = old[:len(old)-1]
	return it
}

func newScheduler() *scheduler {
	return &scheduler{wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
}

// after schedules fn to run d from now. It wakes the run loop only when fn
// comes first: the loop already waits for an earlier item, and waking it
// for every message of a thousand nodes' gossip costs a timer reset each.
func (s *scheduler) after(d time.Duration, fn func()) {
	s.mu.Lock()
	s.seq++
	heap.Push(&s.q, item{at: time.Now().Add(d), seq: s.seq, fn: fn})
	first := s.q[0].seq == s.seq
	s.mu.Unlock()
	if !first {
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *scheduler) run() {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var due []func()
	for {
		s.mu.Lock()
		now := time.Now()
		due = due[:0]
		for len(s.q) > 0 && !s.q[0].at.After(now) {
			due = append(due, heap.Pop(&s.q).(item).fn)
		}
		wait := time.Duration(-1)
		if len(s.q) > 0 {
			wait = s.q[0].at.Sub(now)
		}
		s.mu.Unlock()
		for _, fn := range due {
			fn()
		}
		if len(due) > 0 {
			continue
		}
		if wait < 0 {
			select {
			case <-s.wake:
			case <-s.quit:
				return
			}
			continue
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-s.wake:
		case <-s.quit:
			return
		}
	}
}

// stop ends run and waits for it; pending functions are discarded.
func (s *scheduler) stop() {
	s.once.Do(func() { close(s.quit) })
	<-s.done
}
