package netlab

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/memnet"
)

// bare is a service that only runs its network.
type bare struct{ net p2p.Network }

func (b bare) Stop() error           { return b.net.Close() }
func (b bare) Knows(p2p.PeerID) bool { return true }
func startBare(_ *Member, net p2p.Network) (Service, error) {
	return bare{net}, net.Start(context.Background())
}

// opaque hides every optional interface of the network it wraps.
type opaque struct{ p2p.Network }

func newLab(t *testing.T, cfg Config, n int) (*Lab, []*Member) {
	t.Helper()
	cfg.Start = startBare
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	var ms []*Member
	for i := range n {
		m, err := l.Add("m", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Start(i); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return l, ms
}

// TestControlsReturnErrors: controls with bad arguments or in the wrong
// state return errors and change nothing; a member keeps its id and links
// across a crash.
func TestControlsReturnErrors(t *testing.T) {
	l, ms := newLab(t, Config{Transport: Memnet}, 3)
	if err := l.Start(0); err == nil {
		t.Error("start of a running member accepted")
	}
	if err := l.Start(3); err == nil {
		t.Error("start of member 3 of 3 accepted")
	}
	if err := l.Link(memnet.LinkParams{}, [2]int{0, 7}); err == nil {
		t.Error("link to member 7 accepted")
	}
	if err := l.Shape(0, 1, memnet.LinkParams{Latency: time.Millisecond}); err == nil {
		t.Error("shape of a pair not linked accepted")
	}
	if err := l.Partition([]int{0}, []int{-1}); err == nil {
		t.Error("partition with member -1 accepted")
	}
	p := memnet.LinkParams{Latency: 5 * time.Millisecond}
	if err := l.Link(p, [2]int{0, 1}); err != nil {
		t.Fatal(err)
	}
	id := ms[0].ID
	if err := l.Crash(0); err != nil || ms[0].Running() {
		t.Fatalf("crash: %v, running %t", err, ms[0].Running())
	}
	if err := l.Start(0); err != nil {
		t.Fatal(err)
	}
	if got, ok := l.Memnet().LinkParams(id, ms[1].ID); ms[0].ID != id || !ok || got != p {
		t.Errorf("after a restart: id %s (was %s), link %+v %t", ms[0].ID, id, got, ok)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Start(1); !errors.Is(err, p2p.ErrClosed) {
		t.Errorf("start after Close: %v", err)
	}
}

// TestLibp2pWithoutShaper: on networks that can neither cut nor shape,
// Partition and Shape return ErrUnsupported.
func TestLibp2pWithoutShaper(t *testing.T) {
	l, _ := newLab(t, Config{Transport: Libp2p, Params: consensus.Regtest(),
		Wrap: func(_ int, n p2p.Network) p2p.Network { return opaque{n} }}, 2)
	if err := l.Partition([]int{0}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("partition: %v", err)
	}
	if err := l.Link(memnet.LinkParams{Latency: time.Millisecond}, [2]int{0, 1}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("shaped link: %v", err)
	}
	if err := l.Heal(); err != nil {
		t.Errorf("heal with nothing cut: %v", err)
	}
}
