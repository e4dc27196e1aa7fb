package libp2p

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/chaind/chaind/p2p"
)

// Peer exchange (protocol /chaind/<netid>/pex/1): a peer asks another for
// the addresses of the peers it is connected to, so that a node that knows
// one peer comes to know the rest. The request is empty; the response is
//
//	count uint16 | count × (idLen uint8 | id | addrCount uint8 | addrCount × (addrLen uint16 | multiaddr bytes))
//
// with ids and multiaddrs in their binary forms. Every count and length is
// bounded below; a malformed answer costs the sender PenaltyProtocol.
//
// Every node serves pex, so it doubles as the mark of this network: a peer
// whose identify does not list it is on another network (or is not a
// chaind node) and is disconnected.
const (
	pexName = "pex/1"
	// MaxPexPeers bounds the peers in one pex answer.
	MaxPexPeers = 64
	// MaxPexAddrs bounds the addresses per peer in one pex answer.
	MaxPexAddrs = 8
	// maxPexAddrLen bounds one binary multiaddr.
	maxPexAddrLen = 256
	maxPeerIDLen  = 128
	pexMaxRequest = 0
	// pexMaxResponse is the largest well-formed answer.
	pexMaxResponse = 2 + MaxPexPeers*(1+maxPeerIDLen+1+MaxPexAddrs*(2+maxPexAddrLen))
	// pexAddrTTL is how long learnt addresses stay in the peerstore.
	pexAddrTTL = 30 * time.Minute
	// pexPeersPerRound is how many peers one discovery round asks.
	pexPeersPerRound = 3
	// maxCandidates bounds the queue of addresses waiting to be dialled.
	maxCandidates = 256
	// maxConcurrentDials bounds discovery's concurrent dials.
	maxConcurrentDials = 8
	// keptAddrTTL keeps the addresses of kept peers for the life of the host.
	keptAddrTTL = 100 * 365 * 24 * time.Hour
)

var errBadPex = errors.New("p2p: malformed peer exchange answer")

func encodePex(infos []peer.AddrInfo) []byte {
	if len(infos) > MaxPexPeers {
		infos = infos[:MaxPexPeers]
	}
	out := binary.BigEndian.AppendUint16(nil, 0)
	n := 0
	for _, ai := range infos {
		id := []byte(ai.ID)
		if len(id) == 0 || len(id) > maxPeerIDLen {
			continue
		}
		var addrs [][]byte
		for _, a := range ai.Addrs {
			b := a.Bytes()
			if len(b) == 0 || len(b) > maxPexAddrLen {
				continue
			}
			addrs = append(addrs, b)
			if len(addrs) == MaxPexAddrs {
				break
			}
		}
		if len(addrs) == 0 {
			continue
		}
		out = append(out, byte(len(id)))
		out = append(out, id...)
		out = append(out, byte(len(addrs)))
		for _, b := range addrs {
			out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
			out = append(out, b...)
		}
		n++
	}
	binary.BigEndian.PutUint16(out, uint16(n))
	return out
}

func decodePex(b []byte) ([]peer.AddrInfo, error) {
	take := func(n int) ([]byte, error) {
		if n > len(b) {
			return nil, fmt.Errorf("%w: truncated", errBadPex)
		}
		v := b[:n]
		b = b[n:]
		return v, nil
	}
	hdr, err := take(2)
	if err != nil {
		return nil, err
	}
	count := int(binary.BigEndian.Uint16(hdr))
	if count > MaxPexPeers {
		return nil, fmt.Errorf("%w: %d peers, limit %d", errBadPex, count, MaxPexPeers)
	}
	out := make([]peer.AddrInfo, 0, count)
	for range count {
		l, err := take(1)
		if err != nil {
			return nil, err
		}
		if l[0] == 0 || int(l[0]) > maxPeerIDLen {
			return nil, fmt.Errorf("%w: peer id length %d", errBadPex, l[0])
		}
		idb, err := take(int(l[0]))
		if err != nil {
			return nil, err
		}
		id, err := peer.IDFromBytes(idb)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errBadPex, err)
		}
		l, err = take(1)
		if err != nil {
			return nil, err
		}
		na := int(l[0])
		if na == 0 || na > MaxPexAddrs {
			return nil, fmt.Errorf("%w: %d addresses, limit %d", errBadPex, na, MaxPexAddrs)
		}
		ai := peer.AddrInfo{ID: id}
		for range na {
			lb, err := take(2)
			if err != nil {
				return nil, err
			}
			al := int(binary.BigEndian.Uint16(lb))
			if al == 0 || al > maxPexAddrLen {
				return nil, fmt.Errorf("%w: address length %d", errBadPex, al)
			}
			ab, err := take(al)
			if err != nil {
				return nil, err
			}
			a, err := ma.NewMultiaddrBytes(ab)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", errBadPex, err)
			}
			ai.Addrs = append(ai.Addrs, a)
		}
		out = append(out, ai)
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBadPex, len(b))
	}
	return out, nil
}

// servePex answers with the listen addresses of this node's other peers.
// Loopback addresses are only shared with a peer that is itself on loopback.
func (h *Host) servePex(_ context.Context, from p2p.PeerID, _ []byte) ([]byte, error) {
	fromLoopback := false
	if pid, err := peer.Decode(string(from)); err == nil {
		for _, c := range h.h.Network().ConnsToPeer(pid) {
			if manet.IsIPLoopback(c.RemoteMultiaddr()) {
				fromLoopback = true
			}
		}
	}
	entries := h.peers.list()
	rand.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
	var infos []peer.AddrInfo
	for _, e := range entries {
		if e.pid == from {
			continue
		}
		ai := peer.AddrInfo{ID: e.id}
		for _, a := range h.h.Peerstore().Addrs(e.id) {
			if manet.IsIPLoopback(a) && !fromLoopback {
				continue
			}
			ai.Addrs = append(ai.Addrs, a)
		}
		if len(ai.Addrs) > 0 {
			infos = append(infos, ai)
		}
		if len(infos) == MaxPexPeers {
			break
		}
	}
	return encodePex(infos), nil
}

// exchangeWith asks p for the peers it knows, remembers their addresses and
// queues the ones not yet connected for dialling.
func (h *Host) exchangeWith(p peer.ID) {
	ctx, cancel := context.WithTimeout(h.ctx, p2p.DefaultRequestTimeout)
	defer cancel()
	id := p2p.PeerID(p.String())
	resp, err := h.Request(ctx, id, pexName, nil)
	if err != nil {
		h.log.Debug("peer exchange failed", "peer", id.Short(), "err", err)
		return
	}
	infos, err := decodePex(resp)
	if err != nil {
		h.Penalize(id, p2p.PenaltyProtocol, err.Error())
		return
	}
	for _, ai := range infos {
		if ai.ID == h.self || ai.ID == p {
			continue
		}
		h.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, pexAddrTTL)
		h.offer(ai)
	}
}

// offer queues a peer for dialling if it is worth dialling now.
func (h *Host) offer(ai peer.AddrInfo) {
	if ai.ID == h.self || h.peers.has(ai.ID) || !h.gater.allowed(ai.ID) {
		return
	}
	if h.peers.len() >= lowWatermark(h.cfg.MaxPeers) {
		return
	}
	select {
	case h.candidates <- ai:
	default: // queue full: discovery will offer it again later
	}
}
