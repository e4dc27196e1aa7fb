package netlab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/netsync"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/libp2p"
	"github.com/chaind/chaind/p2p/memnet"
)

// ConnectTimeout bounds a libp2p dial, the status exchange after it and
// the wait for the gossip meshes.
const ConnectTimeout = 20 * time.Second

// gossipOverhead is room for framing around the largest block, as package
// node allows its libp2p host.
const gossipOverhead = 64 << 10

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
	// Params is the members' network: the libp2p hosts' protocols and
	// topics are named after its genesis and their gossip fits its
	// largest block (required on Libp2p).
	Params *consensus.Params
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

// Lab is members on one transport and the links between them. Its
// controls run one at a time (ctl), which guards its fields.
type Lab struct {
	cfg     Config
	net     *memnet.Net // Memnet only
	ctl     sync.Mutex
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
	Dir   string // holds the libp2p identity key

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
		if cfg.Params == nil {
			return nil, errors.New("netlab: libp2p needs the network's Params")
		}
	default:
		return nil, fmt.Errorf("netlab: unknown transport %v", cfg.Transport)
	}
	return l, nil
}

// Memnet returns the in-memory network (nil on Libp2p).
func (l *Lab) Memnet() *memnet.Net { return l.net }

// Add makes a member (not started) with its network endpoint: a memnet
// node, or a libp2p host whose identity key is kept in dir.
func (l *Lab) Add(name, dir string) (*Member, error) {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	if l.closed {
		return nil, p2p.ErrClosed
	}
	m := &Member{lab: l, Index: len(l.members), Name: name, Dir: dir}
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
	l.members = append(l.members, m)
	return m, nil
}

// newHost builds member m's libp2p host (not started) on loopback.
func (l *Lab) newHost(m *Member) (*libp2p.Host, error) {
	cfg := libp2p.DefaultConfig(l.cfg.Params.GenesisHash().String())
	cfg.Listen, cfg.DataDir, cfg.MDNS = "127.0.0.1:0", m.Dir, false
	if !l.cfg.Discovery {
		cfg.DHT, cfg.PeerExchange = false, false
	}
	cfg.MaxGossipSize = l.cfg.Params.MaxBlockSize + gossipOverhead
	cfg.Logger = l.cfg.Logger.With("node", m.Name)
	return libp2p.NewHost(cfg)
}

// check fails unless every index is a member's. Called with ctl held.
func (l *Lab) check(idx ...int) error {
	for _, i := range idx {
		if i < 0 || i >= len(l.members) {
			return fmt.Errorf("netlab: no member %d", i)
		}
	}
	return nil
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
	if h := m.Host(); h != nil {
		for _, a := range h.ListenAddrs() {
			if strings.Contains(a, "/tcp/") && !strings.Contains(a, "/ws") {
				return a
			}
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
	if l.net != nil {
		if m.mem == nil {
			nn, err := l.net.Reopen(m.ID)
			if err != nil {
				return err
			}
			m.mem = nn
		}
		net = m.mem
	} else {
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
	if err := l.check(i); err != nil {
		return err
	}
	return l.members[i].stop(crash)
}

// Start starts a stopped member i (again) on its identity and links; on
// libp2p it cuts and shapes its links as the partition and shapes say and
// dials its linked running peers.
func (l *Lab) Start(i int) error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	if err := l.check(i); err != nil {
		return err
	}
	if l.closed {
		return p2p.ErrClosed
	}
	if err := l.members[i].start(); err != nil || l.net != nil {
		return err
	}
	for k := range l.cuts {
		if k[0] == i || k[1] == i {
			if err := l.canCut(); err != nil {
				return err
			}
			if err := l.setCut(k, true); err != nil {
				return err
			}
		}
	}
	var dial [][2]int
	for k, p := range l.links {
		if k[0] != i && k[1] != i {
			continue
		}
		if p != (memnet.LinkParams{}) {
			if err := l.applyShape(k, p); err != nil {
				return err
			}
		}
		if j := k[0] + k[1] - i; !l.cuts[k] && l.members[j].Running() {
			dial = append(dial, [2]int{i, j})
		}
	}
	return l.dialAll(dial)
}

// key is the links map's key of the pair a, b.
func key(a, b int) [2]int { return [2]int{min(a, b), max(a, b)} }

// Link links each pair (the first dials the second) with the link
// parameters p, or sets p on a pair already linked. On memnet the links
// are memnet's; on libp2p both ends' shapes are set and the new links whose
// ends both run (and are not cut) are dialled: Link returns once each
// end's service knows the other and each is in the other's gossip mesh.
// A link to a stopped member is dialled when it starts.
func (l *Lab) Link(p memnet.LinkParams, pairs ...[2]int) error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	return l.link(p, pairs...)
}

func (l *Lab) link(p memnet.LinkParams, pairs ...[2]int) error {
	for _, pr := range pairs {
		if err := l.check(pr[0], pr[1]); err != nil {
			return err
		}
	}
	if l.net == nil {
		if err := l.checkShape(p); err != nil {
			return err
		}
	}
	var dial [][2]int
	for _, pr := range pairs {
		k := key(pr[0], pr[1])
		old, linked := l.links[k]
		if l.net != nil {
			if err := l.net.Link(l.members[pr[0]].ID, l.members[pr[1]].ID, p); err != nil {
				return fmt.Errorf("link %d-%d: %w", pr[0], pr[1], err)
			}
		} else if linked && old != p || !linked && p != (memnet.LinkParams{}) {
			if err := l.applyShape(k, p); err != nil {
				return err
			}
		}
		l.links[k] = p
		if l.net == nil && !linked && !l.cuts[k] && l.members[pr[0]].Running() && l.members[pr[1]].Running() {
			dial = append(dial, pr)
		}
	}
	return l.dialAll(dial)
}

// Linked returns the parameters of the link between a and b, and whether
// they are linked.
func (l *Lab) Linked(a, b int) (memnet.LinkParams, bool) {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	p, ok := l.links[key(a, b)]
	return p, ok
}

// Unlink removes the link between a and b (on libp2p: closes their
// connections; no start dials it again).
func (l *Lab) Unlink(a, b int) error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	if err := l.check(a, b); err != nil {
		return err
	}
	delete(l.links, key(a, b))
	ma, mb := l.members[a], l.members[b]
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
	if l.net == nil {
		if err := l.checkShape(p); err != nil {
			return err
		}
	}
	if _, linked := l.links[key(a, b)]; !linked {
		return fmt.Errorf("shape %d-%d: no such link", a, b)
	}
	return l.link(p, [2]int{a, b})
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

// checkShape checks p and that every running member can shape links.
func (l *Lab) checkShape(p memnet.LinkParams) error {
	if s := linkShape(p); s.Zero() {
		return s.Check()
	}
	for _, m := range l.members {
		if m.Running() && m.shaperOf() == nil {
			return fmt.Errorf("%w (member %d's network cannot shape links)", ErrUnsupported, m.Index)
		}
	}
	return linkShape(p).Check()
}

// canCut fails unless every running member's network can cut links.
func (l *Lab) canCut() error {
	for _, m := range l.members {
		if m.Running() && m.cutterOf() == nil {
			return fmt.Errorf("%w (member %d's network cannot cut links)", ErrUnsupported, m.Index)
		}
	}
	return nil
}

func linkShape(p memnet.LinkParams) p2p.LinkShape {
	return p2p.LinkShape{Latency: p.Latency, Jitter: p.Jitter, Loss: p.Loss, Bandwidth: p.Bandwidth}
}

// applyShape shapes the link k at each running end.
func (l *Lab) applyShape(k [2]int, p memnet.LinkParams) error {
	for _, e := range [][2]int{{k[0], k[1]}, {k[1], k[0]}} {
		if sh := l.members[e[0]].shaperOf(); sh != nil { // stopped: Start shapes it again
			if err := sh.ShapeLink(l.members[e[1]].ID, linkShape(p)); err != nil {
				return fmt.Errorf("shape %d-%d: %w", k[0], k[1], err)
			}
		}
	}
	return nil
}

// setCut cuts (or lets again) the link k at each running end.
func (l *Lab) setCut(k [2]int, cut bool) error {
	for _, e := range [][2]int{{k[0], k[1]}, {k[1], k[0]}} {
		ct := l.members[e[0]].cutterOf()
		if ct == nil {
			continue // stopped: Start cuts it again
		}
		op := ct.Uncut
		if cut {
			op = ct.Cut
		}
		if err := op(l.members[e[1]].ID); err != nil {
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
	side := make([]int, len(l.members))
	ids := make([][]p2p.PeerID, len(groups))
	for g, idx := range groups {
		if err := l.check(idx...); err != nil {
			return err
		}
		for _, i := range idx {
			side[i] = g + 1
			ids[g] = append(ids[g], l.members[i].ID)
		}
	}
	if l.net != nil {
		l.net.Partition(ids...)
		return nil
	}
	if err := l.canCut(); err != nil {
		return err
	}
	cuts := map[[2]int]bool{}
	for a := range side {
		for b := a + 1; b < len(side); b++ {
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
	old := l.cuts
	l.cuts = cuts
	var dial [][2]int
	for k := range old {
		if cuts[k] {
			continue
		}
		if err := l.setCut(k, false); err != nil {
			return err
		}
		if _, linked := l.links[k]; linked && l.members[k[0]].Running() && l.members[k[1]].Running() {
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

// dialAll dials each pair (the first dials the second) and waits for the
// status exchange both ways, then waits until the two ends of each pair
// dialled are in each other's gossip mesh. Gossipsub grafts a new peer at
// its next heartbeat; until then a transaction one of them relays (rather
// than publishes) does not reach the other. A pair that fails does not
// keep the others from being dialled; the error names every failure.
func (l *Lab) dialAll(pairs [][2]int) error {
	knows := func(m *Member, id p2p.PeerID) bool {
		s := m.Service()
		return s != nil && s.Knows(id)
	}
	var errs []error
	var dialled [][2]int
	for _, pr := range pairs {
		x, y := l.members[pr[0]], l.members[pr[1]]
		hx, addr := x.Host(), y.Addr()
		if hx == nil || addr == "" {
			errs = append(errs, fmt.Errorf("connect %d-%d: both members must be running", pr[0], pr[1]))
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), ConnectTimeout)
		_, err := hx.Connect(ctx, addr)
		cancel()
		if err == nil && !until(func() bool { return knows(x, y.ID) && knows(y, x.ID) }) {
			err = fmt.Errorf("no status exchange within %v", ConnectTimeout)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("connect %d-%d: %w", pr[0], pr[1], err))
			continue
		}
		dialled = append(dialled, pr)
	}
	for _, pr := range dialled {
		x, y := l.members[pr[0]], l.members[pr[1]]
		meshed := func() bool {
			hx, hy := x.Host(), y.Host()
			return hx != nil && hy != nil && hx.GossipMeshed(y.ID) && hy.GossipMeshed(x.ID)
		}
		if !until(meshed) {
			errs = append(errs, fmt.Errorf("connect %d-%d: not in each other's gossip mesh within %v", pr[0], pr[1], ConnectTimeout))
		}
	}
	return errors.Join(errs...)
}

// until polls cond until it holds (true) or ConnectTimeout passes (false).
func until(cond func() bool) bool {
	for deadline := time.Now().Add(ConnectTimeout); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// Close stops every member (at once) and the network; it returns the stop
// errors. Calling it again does nothing.
func (l *Lab) Close() error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	errs := make([]error, len(l.members))
	var wg sync.WaitGroup
	for i, m := range l.members {
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
