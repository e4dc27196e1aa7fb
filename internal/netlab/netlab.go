package netlab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/chaind/chaind/netsync"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/libp2p"
	"github.com/chaind/chaind/p2p/memnet"
)

// ConnectTimeout bounds a libp2p dial, the status exchange after it and
// the wait for the gossip meshes.
const ConnectTimeout = 20 * time.Second

// pollInterval is how often until checks its condition.
const pollInterval = 20 * time.Millisecond

// until polls cond until it holds (true) or timeout passes (false).
func until(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollInterval)
	}
	return true
}

// Transport is the network a Lab's members run on.
type Transport int

const (
	// Memnet is one in-memory network (p2p/memnet).
	Memnet Transport = iota
	// Libp2p gives every member its own libp2p host on 127.0.0.1.
	Libp2p
)

func (tr Transport) String() string {
	switch tr {
	case Memnet:
		return "memnet"
	case Libp2p:
		return "libp2p"
	}
	return fmt.Sprintf("Transport(%d)", int(tr))
}

// ErrUnsupported is returned by a control the members' networks cannot
// carry out: a partition where a running member's network cannot cut
// links (Cutter), a shape where it cannot shape them (p2p.Shaper).
var ErrUnsupported = errors.New("not supported on this transport")

// Service is what runs on a member's network, built by Config.Start.
type Service interface {
	// Stop ends the service; it may close the network it runs on.
	Stop() error
	// Knows reports whether the service has exchanged status with the
	// peer (a libp2p dial waits for it both ways).
	Knows(peer p2p.PeerID) bool
}

// SyncKnows reports whether the syncer has had a status exchange with the
// peer: Service.Knows of a service that syncs with netsync.
func SyncKnows(sy *netsync.Syncer, peer p2p.PeerID) bool {
	if sy == nil {
		return false
	}
	for _, ps := range sy.Peers() {
		if ps.ID == peer && !ps.LastStatus.IsZero() {
			return true
		}
	}
	return false
}

// Cutter is what a partition needs of a member's network on libp2p: cut
// the link to a peer in both directions until Uncut. The libp2p host
// offers it (p2p.Shaper); a Config.Wrap network may offer it too.
type Cutter interface {
	Cut(peer p2p.PeerID) error
	Uncut(peer p2p.PeerID) error
}

// Config configures a Lab.
type Config struct {
	Transport Transport
	// Seed drives memnet's loss and jitter.
	Seed uint64
	// Link is memnet's parameters of links the members' networks make
	// themselves (memnet.Config.Link).
	Link memnet.LinkParams
	// Logger receives the networks' logs, with "node" set to the member's
	// name (default: discarded).
	Logger *slog.Logger
	// NetworkID names the libp2p hosts' protocols and topics (the
	// genesis hash); MaxGossipSize bounds their gossip messages.
	NetworkID     string
	MaxGossipSize int
	// Discovery keeps the libp2p hosts' DHT and peer exchange on (as
	// libp2p.DefaultConfig has them), so they may link beyond the lab's
	// links; off, only the lab's links connect members.
	Discovery bool
	// Wrap, when set, wraps member i's network each time it is started:
	// the service runs on what it returns.
	Wrap func(i int, net p2p.Network) p2p.Network
	// Start builds and starts a member's service on net (required).
	Start func(m *Member, net p2p.Network) (Service, error)
}

// Lab is members on one transport and the links between them.
type Lab struct {
	cfg Config
	net *memnet.Net // Memnet only
	ctl sync.Mutex  // held by every control, so they run one at a time

	mu      sync.Mutex // guards the fields below
	members []*Member
	links   map[[2]int]memnet.LinkParams // a < b
	cuts    map[[2]int]bool              // libp2p: the pairs a partition cut, a < b
	closed  bool
}

// Member is one member of a Lab: its name, index, peer id and directory
// outlive Stop and Crash; its service and network do not.
type Member struct {
	lab   *Lab
	Index int
	Name  string
	ID    p2p.PeerID
	// Dir holds the libp2p identity key ("" on memnet is fine).
	Dir string

	mu   sync.Mutex
	svc  Service      // nil while stopped
	net  p2p.Network  // what svc runs on (Wrap applied); nil while stopped
	mem  *memnet.Node // Memnet: nil while stopped
	host *libp2p.Host // Libp2p: nil while stopped
}

// New returns a Lab without members.
func New(cfg Config) (*Lab, error) {
	if cfg.Start == nil {
		return nil, errors.New("netlab: no Start function")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Lab{cfg: cfg, links: map[[2]int]memnet.LinkParams{}, cuts: map[[2]int]bool{}}
	switch cfg.Transport {
	case Memnet:
		mn, err := memnet.New(memnet.Config{Seed: cfg.Seed, Link: cfg.Link, Logger: cfg.Logger})
		if err != nil {
			return nil, fmt.Errorf("netlab: %w", err)
		}
		l.net = mn
	case Libp2p:
	default:
		return nil, fmt.Errorf("netlab: unknown transport %v", cfg.Transport)
	}
	return l, nil
}

// Memnet returns the in-memory network (nil on Libp2p).
func (l *Lab) Memnet() *memnet.Net { return l.net }

// Transport returns the members' transport.
func (l *Lab) Transport() Transport { return l.cfg.Transport }

// Add makes a member (not started) with its network endpoint: a memnet
// node, or a libp2p host whose identity key is kept in dir.
func (l *Lab) Add(name, dir string) (*Member, error) {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	l.mu.Lock()
	closed, i := l.closed, len(l.members)
	l.mu.Unlock()
	if closed {
		return nil, p2p.ErrClosed
	}
	m := &Member{lab: l, Index: i, Name: name, Dir: dir}
	if l.net != nil {
		m.mem = l.net.NewNode()
		m.ID = m.mem.Self()
	} else {
		h, err := l.newHost(m)
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", name, err)
		}
		m.host, m.ID = h, h.Self()
	}
	l.mu.Lock()
	l.members = append(l.members, m)
	l.mu.Unlock()
	return m, nil
}

// newHost builds member m's libp2p host (not started) on loopback.
func (l *Lab) newHost(m *Member) (*libp2p.Host, error) {
	cfg := libp2p.DefaultConfig(l.cfg.NetworkID)
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = m.Dir
	cfg.MDNS = false
	if !l.cfg.Discovery {
		cfg.DHT, cfg.PeerExchange = false, false
	}
	if l.cfg.MaxGossipSize > 0 {
		cfg.MaxGossipSize = l.cfg.MaxGossipSize
	}
	cfg.Logger = l.cfg.Logger.With("node", m.Name)
	return libp2p.NewHost(cfg)
}

// Len returns the number of members.
func (l *Lab) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.members)
}

// Member returns member i.
func (l *Lab) Member(i int) *Member {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.members[i]
}

// member returns member i, or an error for an index out of range.
func (l *Lab) member(i int) (*Member, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < 0 || i >= len(l.members) {
		return nil, fmt.Errorf("netlab: no member %d", i)
	}
	return l.members[i], nil
}

// Service returns the running service, or nil while the member is stopped.
func (m *Member) Service() Service {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.svc
}

// Running reports whether the member runs.
func (m *Member) Running() bool { return m.Service() != nil }

// Network returns the network the running service is on (nil while
// stopped).
func (m *Member) Network() p2p.Network {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.net
}

// Host returns the member's libp2p host (nil on memnet or while stopped).
func (m *Member) Host() *libp2p.Host {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.svc == nil {
		return nil
	}
	return m.host
}

// Addr returns an address other hosts can dial the member at: its TCP
// loopback multiaddr with /p2p/ on libp2p, "" on memnet or while stopped.
func (m *Member) Addr() string {
	h := m.Host()
	if h == nil {
		return ""
	}
	for _, a := range h.ListenAddrs() {
		if strings.Contains(a, "/tcp/") && !strings.Contains(a, "/ws") {
			return a
		}
	}
	return ""
}

// start builds the member's network if it was closed, and its service.
func (m *Member) start() error {
	l := m.lab
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.svc != nil {
		return fmt.Errorf("%s is running", m.Name)
	}
	var net p2p.Network
	switch {
	case l.net != nil:
		if m.mem == nil {
			nn, err := l.net.Reopen(m.ID)
			if err != nil {
				return err
			}
			m.mem = nn
		}
		net = m.mem
	default:
		if m.host == nil {
			h, err := l.newHost(m)
			if err != nil {
				return err
			}
			if h.Self() != m.ID {
				_ = h.Close()
				return fmt.Errorf("identity changed across the restart: %s, was %s", h.Self(), m.ID)
			}
			m.host = h
		}
		net = m.host
	}
	if l.cfg.Wrap != nil {
		net = l.cfg.Wrap(m.Index, net)
	}
	svc, err := l.cfg.Start(m, net)
	if err != nil {
		m.closeNet()
		return err
	}
	m.svc, m.net = svc, net
	return nil
}

// closeNet closes the member's network and forgets it; the next start
// builds it again. Called with m.mu held.
func (m *Member) closeNet() {
	if m.mem != nil {
		_ = m.mem.Close()
	}
	if m.host != nil {
		_ = m.host.Close()
	}
	m.mem, m.host = nil, nil
}

// stop ends the running service; with crash, its network goes first.
func (m *Member) stop(crash bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.svc == nil {
		return nil
	}
	if crash {
		m.closeNet()
	}
	err := m.svc.Stop()
	m.svc, m.net = nil, nil
	m.closeNet()
	return err
}

// Stop stops member i cleanly: its service first, its network last.
func (l *Lab) Stop(i int) error { return l.halt(i, false) }

// Crash stops member i the abrupt way: its network first.
func (l *Lab) Crash(i int) error { return l.halt(i, true) }

func (l *Lab) halt(i int, crash bool) error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	m, err := l.member(i)
	if err != nil {
		return err
	}
	return m.stop(crash)
}

// Start starts a stopped member i (again) on its identity and links; on
// libp2p it cuts and shapes its links as the partition and shapes say and
// dials its linked running peers.
func (l *Lab) Start(i int) error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	m, err := l.member(i)
	if err != nil {
		return err
	}
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return p2p.ErrClosed
	}
	if err := m.start(); err != nil {
		return err
	}
	if l.net != nil {
		return nil
	}
	l.mu.Lock()
	var cuts, dial [][2]int
	shapes := map[[2]int]memnet.LinkParams{}
	for k := range l.cuts {
		if k[0] == i || k[1] == i {
			cuts = append(cuts, k)
		}
	}
	for k, p := range l.links {
		if k[0] != i && k[1] != i {
			continue
		}
		if p != (memnet.LinkParams{}) {
			shapes[k] = p
		}
		if j := k[0] + k[1] - i; !l.cuts[k] && l.members[j].Running() {
			dial = append(dial, [2]int{i, j})
		}
	}
	l.mu.Unlock()
	if len(cuts) > 0 {
		if err := l.canCut(); err != nil {
			return err
		}
	}
	for _, k := range cuts {
		if err := l.setCut(k, true); err != nil {
			return err
		}
	}
	for k, p := range shapes {
		if err := l.applyShape(k, p); err != nil {
			return err
		}
	}
	return l.dialAll(dial)
}

// key is the links map's key of the pair a, b.
func key(a, b int) [2]int {
	if a > b {
		a, b = b, a
	}
	return [2]int{a, b}
}

// Link links each pair (the first dials the second) with the link
// parameters p, or sets p on a pair already linked. On memnet the links
// are memnet's; on libp2p both ends' shapes are set and the new links whose
// ends both run (and are not cut) are dialled: Link returns once each
// end's service knows the other and each is in the other's gossip mesh.
// A link to a stopped member is dialled when it starts.
func (l *Lab) Link(p memnet.LinkParams, pairs ...[2]int) error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	n := l.Len()
	for _, pr := range pairs {
		if pr[0] == pr[1] || min(pr[0], pr[1]) < 0 || max(pr[0], pr[1]) >= n {
			return fmt.Errorf("netlab: link %d-%d: no such pair", pr[0], pr[1])
		}
	}
	if l.net != nil {
		for _, pr := range pairs {
			if err := l.net.Link(l.Member(pr[0]).ID, l.Member(pr[1]).ID, p); err != nil {
				return fmt.Errorf("link %d-%d: %w", pr[0], pr[1], err)
			}
			l.mu.Lock()
			l.links[key(pr[0], pr[1])] = p
			l.mu.Unlock()
		}
		return nil
	}
	if err := l.checkShape(p); err != nil {
		return err
	}
	var dial [][2]int
	for _, pr := range pairs {
		k := key(pr[0], pr[1])
		l.mu.Lock()
		old, linked := l.links[k]
		l.links[k] = p
		cut := l.cuts[k]
		l.mu.Unlock()
		if linked && old != p || !linked && p != (memnet.LinkParams{}) {
			if err := l.applyShape(k, p); err != nil {
				return err
			}
		}
		if !linked && !cut && l.Member(pr[0]).Running() && l.Member(pr[1]).Running() {
			dial = append(dial, pr)
		}
	}
	return l.dialAll(dial)
}

// Linked returns the parameters of the link between a and b, and whether
// they are linked.
func (l *Lab) Linked(a, b int) (memnet.LinkParams, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.links[key(a, b)]
	return p, ok
}

// Unlink removes the link between a and b (on libp2p: closes their
// connections; no start dials it again).
func (l *Lab) Unlink(a, b int) error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	ma, err := l.member(a)
	if err != nil {
		return err
	}
	mb, err := l.member(b)
	if err != nil {
		return err
	}
	l.mu.Lock()
	delete(l.links, key(a, b))
	l.mu.Unlock()
	if l.net != nil {
		l.net.Unlink(ma.ID, mb.ID)
		return nil
	}
	for _, e := range [][2]*Member{{ma, mb}, {mb, ma}} {
		if h := e[0].Host(); h != nil {
			if err := h.ClosePeer(e[1].ID); err != nil {
				return fmt.Errorf("unlink %d-%d: %w", a, b, err)
			}
		}
	}
	return nil
}

// Shape sets the parameters of the existing link between a and b. On
// libp2p every running member's network must shape links (p2p.Shaper),
// else ErrUnsupported; each end shapes what it sends, and a member started
// again gets its shapes back.
func (l *Lab) Shape(a, b int, p memnet.LinkParams) error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	if l.net != nil {
		ma, err := l.member(a)
		if err != nil {
			return err
		}
		mb, err := l.member(b)
		if err != nil {
			return err
		}
		if err := l.net.Shape(ma.ID, mb.ID, p); err != nil {
			return err
		}
		l.mu.Lock()
		l.links[key(a, b)] = p
		l.mu.Unlock()
		return nil
	}
	if err := l.checkShape(p); err != nil {
		return err
	}
	k := key(a, b)
	l.mu.Lock()
	_, linked := l.links[k]
	if linked {
		l.links[k] = p
	}
	l.mu.Unlock()
	if !linked {
		return fmt.Errorf("shape %d-%d: no such link", a, b)
	}
	return l.applyShape(k, p)
}

// shaperOf returns the running member's network as a p2p.Shaper, or nil.
func (m *Member) shaperOf() p2p.Shaper {
	sh, _ := m.Network().(p2p.Shaper)
	return sh
}

// cutterOf returns the running member's network as a Cutter, or nil.
func (m *Member) cutterOf() Cutter {
	ct, _ := m.Network().(Cutter)
	return ct
}

// running returns the running members.
func (l *Lab) running() []*Member {
	l.mu.Lock()
	ms := append([]*Member(nil), l.members...)
	l.mu.Unlock()
	out := ms[:0]
	for _, m := range ms {
		if m.Running() {
			out = append(out, m)
		}
	}
	return out
}

// checkShape checks p and that every running member can shape links.
func (l *Lab) checkShape(p memnet.LinkParams) error {
	s := linkShape(p)
	if err := s.Check(); err != nil {
		return err
	}
	if s.Zero() {
		return nil
	}
	for _, m := range l.running() {
		if m.shaperOf() == nil {
			return fmt.Errorf("%w (member %d's network cannot shape links)", ErrUnsupported, m.Index)
		}
	}
	return nil
}

// canCut fails unless every running member's network can cut links.
func (l *Lab) canCut() error {
	for _, m := range l.running() {
		if m.cutterOf() == nil {
			return fmt.Errorf("%w (member %d's network cannot cut links)", ErrUnsupported, m.Index)
		}
	}
	return nil
}

func linkShape(p memnet.LinkParams) p2p.LinkShape {
	return p2p.LinkShape{Latency: p.Latency, Jitter: p.Jitter, Loss: p.Loss, Bandwidth: p.Bandwidth}
}

// applyShape shapes the link k at each running end that can shape.
func (l *Lab) applyShape(k [2]int, p memnet.LinkParams) error {
	for _, e := range [][2]int{{k[0], k[1]}, {k[1], k[0]}} {
		sh := l.Member(e[0]).shaperOf()
		if sh == nil {
			continue // stopped: Start shapes it again
		}
		if err := sh.ShapeLink(l.Member(e[1]).ID, linkShape(p)); err != nil {
			return fmt.Errorf("shape %d-%d: %w", k[0], k[1], err)
		}
	}
	return nil
}

// setCut cuts (or lets again) the link k at each running end.
func (l *Lab) setCut(k [2]int, cut bool) error {
	for _, e := range [][2]int{{k[0], k[1]}, {k[1], k[0]}} {
		ct := l.Member(e[0]).cutterOf()
		if ct == nil {
			continue // stopped: Start cuts it again
		}
		peer := l.Member(e[1]).ID
		var err error
		if cut {
			err = ct.Cut(peer)
		} else {
			err = ct.Uncut(peer)
		}
		if err != nil {
			return fmt.Errorf("cut %d-%d (%t): %w", k[0], k[1], cut, err)
		}
	}
	return nil
}

// Partition splits the members into groups (by index) that cannot reach
// each other; members named in no group form one more group. Links across
// groups go down until Heal; links that a previous partition cut and this
// one does not come back (on libp2p: are dialled again).
func (l *Lab) Partition(groups ...[]int) error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	n := l.Len()
	for _, g := range groups {
		for _, i := range g {
			if i < 0 || i >= n {
				return fmt.Errorf("netlab: partition: no member %d", i)
			}
		}
	}
	if l.net != nil {
		ids := make([][]p2p.PeerID, len(groups))
		for g, idx := range groups {
			for _, i := range idx {
				ids[g] = append(ids[g], l.Member(i).ID)
			}
		}
		l.net.Partition(ids...)
		return nil
	}
	if err := l.canCut(); err != nil {
		return err
	}
	side := make([]int, n)
	for i := range side {
		side[i] = len(groups)
	}
	for g, idx := range groups {
		for _, i := range idx {
			side[i] = g
		}
	}
	cuts := map[[2]int]bool{}
	for a := range n {
		for b := a + 1; b < n; b++ {
			if side[a] != side[b] {
				cuts[[2]int{a, b}] = true
			}
		}
	}
	return l.setCuts(cuts)
}

// Heal ends a partition (on libp2p: lifts the cuts and dials the links
// they took down again).
func (l *Lab) Heal() error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	if l.net != nil {
		l.net.Heal()
		return nil
	}
	return l.setCuts(map[[2]int]bool{})
}

// setCuts replaces the cuts: lifts those not in cuts (dialling the links
// among them whose ends run), then makes the new ones.
func (l *Lab) setCuts(cuts map[[2]int]bool) error {
	l.mu.Lock()
	old := l.cuts
	l.cuts = cuts
	l.mu.Unlock()
	var dial [][2]int
	for k := range old {
		if cuts[k] {
			continue
		}
		if err := l.setCut(k, false); err != nil {
			return err
		}
		if _, linked := l.Linked(k[0], k[1]); linked && l.Member(k[0]).Running() && l.Member(k[1]).Running() {
			dial = append(dial, k)
		}
	}
	for k := range cuts {
		if !old[k] {
			if err := l.setCut(k, true); err != nil {
				return err
			}
		}
	}
	return l.dialAll(dial)
}

// dialAll dials each pair (the first dials the second), then waits for
// their gossip meshes.
func (l *Lab) dialAll(pairs [][2]int) error {
	for _, pr := range pairs {
		if err := l.dial(pr[0], pr[1]); err != nil {
			return fmt.Errorf("connect %d-%d: %w", pr[0], pr[1], err)
		}
	}
	return l.waitMeshed(pairs)
}

// dial connects a's libp2p host to b's and waits for the status exchange
// both ways.
func (l *Lab) dial(a, b int) error {
	x, y := l.Member(a), l.Member(b)
	hx, addr := x.Host(), y.Addr()
	if hx == nil || addr == "" {
		return fmt.Errorf("both members must be running (%s: %t, %s: %t)", x.Name, x.Running(), y.Name, y.Running())
	}
	ctx, cancel := context.WithTimeout(context.Background(), ConnectTimeout)
	defer cancel()
	if _, err := hx.Connect(ctx, addr); err != nil {
		return err
	}
	knows := func(m *Member, id p2p.PeerID) bool {
		s := m.Service()
		return s != nil && s.Knows(id)
	}
	if !until(ConnectTimeout, func() bool { return knows(x, y.ID) && knows(y, x.ID) }) {
		return fmt.Errorf("no status exchange within %v", ConnectTimeout)
	}
	return nil
}

// waitMeshed waits until the two ends of each dialled pair are in each
// other's gossip mesh. Gossipsub grafts a new peer at its next heartbeat;
// until then a transaction one of them relays (rather than publishes)
// does not reach the other.
func (l *Lab) waitMeshed(pairs [][2]int) error {
	for _, pr := range pairs {
		x, y := l.Member(pr[0]), l.Member(pr[1])
		meshed := func() bool {
			hx, hy := x.Host(), y.Host()
			return hx != nil && hy != nil && hx.GossipMeshed(y.ID) && hy.GossipMeshed(x.ID)
		}
		if !until(ConnectTimeout, meshed) {
			return fmt.Errorf("connect %d-%d: not in each other's gossip mesh within %v", pr[0], pr[1], ConnectTimeout)
		}
	}
	return nil
}

// Close stops every member (at once) and the network; the first stop
// error is returned. Calling it again does nothing.
func (l *Lab) Close() error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	ms := append([]*Member(nil), l.members...)
	l.mu.Unlock()
	errs := make([]error, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.stop(false); err != nil {
				errs[i] = fmt.Errorf("stop %s: %w", m.Name, err)
			}
			m.mu.Lock()
			m.closeNet() // a network built but never started
			m.mu.Unlock()
		}()
	}
	wg.Wait()
	if l.net != nil {
		l.net.Close()
	}
	return errors.Join(errs...)
}
