package libp2p

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/chaind/chaind/p2p"
)

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	if err := writeFrame(&buf, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	raw := append([]byte(nil), buf.Bytes()...)
	got, err := readFrame(&buf, 5)
	if err != nil || string(got) != "hello" {
		t.Fatalf("round trip: %q %v", got, err)
	}
	var tooLarge *errFrameTooLarge
	if _, err := readFrame(bytes.NewReader(raw), 4); !errors.As(err, &tooLarge) {
		t.Fatalf("over the cap: %v", err)
	}
	if _, err := readFrame(bytes.NewReader(raw[:6]), 5); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated: %v", err)
	}
	// A huge announced length is refused before any allocation.
	huge := binary.BigEndian.AppendUint32(nil, 0xffffffff)
	if _, err := readFrame(bytes.NewReader(huge), p2p.MaxFrameSize); !errors.As(err, &tooLarge) {
		t.Fatalf("huge length: %v", err)
	}
}

func testPeer(t *testing.T) peer.ID {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestPexEncoding(t *testing.T) {
	a1 := ma.StringCast("/ip4/10.1.2.3/tcp/9333")
	a2 := ma.StringCast("/ip4/10.1.2.3/tcp/9334/ws")
	in := []peer.AddrInfo{{ID: testPeer(t), Addrs: []ma.Multiaddr{a1, a2}}, {ID: testPeer(t), Addrs: []ma.Multiaddr{a1}}}
	out, err := decodePex(encodePex(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].ID != in[0].ID || len(out[0].Addrs) != 2 || !out[0].Addrs[1].Equal(a2) || out[1].ID != in[1].ID {
		t.Fatalf("round trip: %v", out)
	}

	// Peers without addresses are left out; the counts are capped.
	many := make([]peer.AddrInfo, MaxPexPeers+5)
	addrs := make([]ma.Multiaddr, MaxPexAddrs+3)
	for i := range addrs {
		addrs[i] = a1
	}
	for i := range many {
		many[i] = peer.AddrInfo{ID: testPeer(t), Addrs: addrs}
	}
	many[0].Addrs = nil
	enc := encodePex(many)
	if len(enc) > pexMaxResponse {
		t.Fatalf("encoded %d bytes, cap %d", len(enc), pexMaxResponse)
	}
	out, err = decodePex(enc)
	if err != nil || len(out) != MaxPexPeers-1 || len(out[0].Addrs) != MaxPexAddrs {
		t.Fatalf("capped: %d peers, %v", len(out), err)
	}

	good := encodePex(in)
	bad := map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte(nil), good...), 0),
		"too many":  binary.BigEndian.AppendUint16(nil, MaxPexPeers+1),
		"zero id":   {0, 1, 0},
		"bad id":    {0, 1, 3, 1, 2, 3, 1, 0, 1, 0},
	}
	for name, b := range bad {
		if _, err := decodePex(b); !errors.Is(err, errBadPex) {
			t.Errorf("%s: %v, want errBadPex", name, err)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"blocks", "status/1", "headers-by-locator/2", "a.b_c"} {
		if err := p2p.CheckName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "/status", "status/", "Blocks", "a b", string(make([]byte, p2p.MaxNameLength+1))} {
		if err := p2p.CheckName(bad); !errors.Is(err, p2p.ErrBadName) {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := p2p.CheckCaps(-1, 1); err == nil {
		t.Error("negative cap accepted")
	}
	if err := p2p.CheckCaps(1, p2p.MaxFrameSize+1); err == nil {
		t.Error("cap over MaxFrameSize accepted")
	}
}
