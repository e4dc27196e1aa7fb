package netsync

import (
	"context"
	"encoding/binary"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/memnet"
)

// fakePeer is a hand-driven peer on any p2p.Network: it answers status
// with whatever claim says and headers with whatever headers builds, and
// can publish anything. It learns the heights of the hashes its victims
// announce in their status requests, so its fake headers link where it
// wants them to.
type fakePeer struct {
	p   *consensus.Params
	net p2p.Network

	// claim turns the asker's status into the answer (required).
	claim func(theirs Status) Status
	// headers builds the answer to a headers request that starts after
	// parent at height; nil leaves headers/1 unserved.
	headers func(parent chain.Hash, height uint32) []chain.Header
	// blocks serves blocks/1; nil leaves it unserved.
	blocks p2p.RequestHandler

	headerRequests atomic.Int64

	mu    sync.Mutex
	known map[chain.Hash]uint32
}

// fakeStatusCap lets the fake send status requests far over the real cap.
const fakeStatusCap = 1 << 20

func startFake(t testing.TB, f *fakePeer) {
	t.Helper()
	f.known = map[chain.Hash]uint32{f.p.GenesisHash(): 0}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.net.HandleRequest(ProtoStatus, fakeStatusCap, MaxStatusSize, func(_ context.Context, _ p2p.PeerID, req []byte) ([]byte, error) {
		theirs, err := DecodeStatus(req)
		if err != nil {
			return nil, err
		}
		f.mu.Lock()
		f.known[theirs.Best] = theirs.Height
		f.mu.Unlock()
		return EncodeStatus(f.claim(theirs)), nil
	}))
	if f.headers != nil {
		must(f.net.HandleRequest(ProtoHeaders, MaxHeadersRequestSize, MaxHeadersResponseSize, func(_ context.Context, _ p2p.PeerID, req []byte) ([]byte, error) {
			f.headerRequests.Add(1)
			r, err := DecodeHeadersRequest(req)
			if err != nil {
				return nil, err
			}
			f.mu.Lock()
			parent, height := f.p.GenesisHash(), uint32(0)
			for _, h := range r.Locator {
				if ht, ok := f.known[h]; ok {
					parent, height = h, ht
					break
				}
			}
			f.mu.Unlock()
			return EncodeHeaders(f.headers(parent, height)), nil
		}))
	}
	if f.blocks != nil {
		must(f.net.HandleRequest(ProtoBlocks, MaxBlocksRequestSize, MaxBlocksResponseSize, f.blocks))
	}
	accept := func(p2p.PeerID, []byte) p2p.Verdict { return p2p.Accept }
	must(f.net.HandleGossip(TopicBlocks, accept))
	must(f.net.HandleGossip(TopicTxs, accept))
	must(f.net.Start(context.Background()))
	t.Cleanup(func() { _ = f.net.Close() })
}

// claimLow announces genesis only: the victim never syncs from the fake.
func claimLow(p *consensus.Params) func(Status) Status {
	return func(Status) Status {
		return Status{Genesis: p.GenesisHash(), Best: p.GenesisHash(), Work: big.NewInt(1)}
	}
}

// claimAhead announces `ahead` blocks and much more work than the asker.
func claimAhead(p *consensus.Params, ahead uint32) func(Status) Status {
	return func(theirs Status) Status {
		w := new(big.Int).Add(theirs.Work, new(big.Int).Lsh(big.NewInt(1), 64))
		return Status{Genesis: p.GenesisHash(), Best: chain.HashBytes(w.Bytes()), Height: theirs.Height + ahead, Work: w}
	}
}

// fakeHeaders builds n linked headers after parent; with validPoW false
// each misses its target.
func fakeHeaders(p *consensus.Params, parent chain.Hash, height uint32, n int, validPoW bool) []chain.Header {
	hs := make([]chain.Header, n)
	prev := parent
	var salt [8]byte
	for i := range hs {
		binary.BigEndian.PutUint64(salt[:], uint64(height)+uint64(i))
		h := chain.Header{Version: consensus.BlockVersion, Height: height + 1 + uint32(i), PrevHash: prev,
			MerkleRoot: chain.HashBytes(salt[:]), Timestamp: uint32(time.Now().Unix()), Bits: p.PowLimitBits}
		for (consensus.CheckProofOfWork(&h, p.PowLimit) == nil) != validPoW {
			h.Nonce++
		}
		hs[i] = h
		prev = h.Hash()
	}
	return hs
}

// TestEndlessHeadersBounded (memnet): a peer announcing ten blocks more
// than us but sending full batches of valid headers is blamed after its
// first batch of each session, and banned after five sessions.
func TestEndlessHeadersBounded(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	c := newMemCluster(t, 1, p, nodeOpts{statusInterval: 100 * time.Millisecond})
	victim := c.nodes[0]
	victim.start(t)
	f := &fakePeer{p: p, net: c.net.NewNode(), claim: claimAhead(p, 10),
		headers: func(parent chain.Hash, height uint32) []chain.Header {
			return fakeHeaders(p, parent, height, 2000, true)
		}}
	startFake(t, f)
	if err := c.net.Link(victim.net.Self(), f.net.Self(), memnet.LinkParams{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the endless-headers peer banned", func() bool {
		return f.headerRequests.Load() > 0 && !hasPeer(victim.net, f.net.Self())
	})
	if n := f.headerRequests.Load(); n > p2p.BanThreshold/PenaltyInvalid {
		t.Fatalf("%d headers requests before the ban, want one per session (%d)", n, p2p.BanThreshold/PenaltyInvalid)
	}
	if h := victim.tip().Height; h != 0 {
		t.Fatalf("victim moved to height %d on headers alone", h)
	}
}

// TestBadHeadersPenalised (memnet): headers with bad proof of work, and
// headers that do not link, each cost PenaltyInvalid per session.
func TestBadHeadersPenalised(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	cases := map[string]func(parent chain.Hash, height uint32) []chain.Header{
		"bad-pow": func(parent chain.Hash, height uint32) []chain.Header {
			return fakeHeaders(p, parent, height, 5, false)
		},
		"no-link": func(parent chain.Hash, height uint32) []chain.Header {
			hs := fakeHeaders(p, parent, height, 5, true)
			hs[3].PrevHash[0] ^= 1
			return hs
		},
		"skips-height": func(parent chain.Hash, height uint32) []chain.Header {
			return fakeHeaders(p, parent, height+1, 5, true)
		},
		"unknown-start": func(parent chain.Hash, height uint32) []chain.Header {
			return fakeHeaders(p, chain.HashBytes([]byte("nowhere")), height, 5, true)
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			c := newMemCluster(t, 1, p, nodeOpts{statusInterval: time.Hour})
			victim := c.nodes[0]
			victim.start(t)
			f := &fakePeer{p: p, net: c.net.NewNode(), claim: claimAhead(p, 5), headers: build}
			startFake(t, f)
			if err := c.net.Link(victim.net.Self(), f.net.Self(), memnet.LinkParams{}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "a penalty", func() bool {
				for _, pi := range victim.net.Peers() {
					if pi.ID == f.net.Self() {
						return pi.Penalty >= PenaltyInvalid
					}
				}
				return false
			})
			if victim.tip().Height != 0 {
				t.Fatal("victim moved on bad headers")
			}
		})
	}
}

// TestStallingPeerLosesShare (memnet): a peer that announces the chain
// and serves its headers but never answers block requests is charged
// PenaltyStall per timed-out request; the blocks come from the honest peer.
func TestStallingPeerLosesShare(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	blocks := buildChain(p, 4, 200, 1, 9)
	c := newMemCluster(t, 2, p, nodeOpts{statusInterval: time.Hour, requestTimeout: 300 * time.Millisecond})
	seed, joiner := c.nodes[0], c.nodes[1]
	seed.load(t, blocks)
	tip := seed.tip()
	stall := &fakePeer{p: p, net: c.net.NewNode(),
		claim: func(Status) Status {
			return Status{Genesis: p.GenesisHash(), Best: tip.Hash, Height: tip.Height, Work: tip.Work}
		},
		headers: func(parent chain.Hash, _ uint32) []chain.Header {
			hs, _ := seed.chain.HeadersAfter([]chain.Hash{parent}, chain.Hash{}, 0)
			return hs
		},
		blocks: func(ctx context.Context, _ p2p.PeerID, _ []byte) ([]byte, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}}
	startFake(t, stall)
	c.startAll(t)
	// The staller is linked first, so the session starts with it.
	if err := c.net.Link(joiner.net.Self(), stall.net.Self(), memnet.LinkParams{Latency: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the staller's status", func() bool {
		ps, ok := joiner.sync.peers.get(stall.net.Self())
		return ok && ps.hasStatus
	})
	c.link(t, 1, 0, time.Millisecond)
	waitFor(t, 20*time.Second, "the joiner at the tip", func() bool { return joiner.tip().Hash == tip.Hash })
	st, _ := joiner.sync.peers.get(stall.net.Self())
	sd, _ := joiner.sync.peers.get(seed.net.Self())
	if st.Stalls == 0 || st.BlocksFetched != 0 {
		t.Fatalf("staller: %d stalls, %d blocks", st.Stalls, st.BlocksFetched)
	}
	if sd.BlocksFetched != 200 {
		t.Fatalf("seed served %d blocks, want 200", sd.BlocksFetched)
	}
	var pen int
	for _, pi := range joiner.net.Peers() {
		if pi.ID == stall.net.Self() {
			pen = pi.Penalty
		}
	}
	if pen < PenaltyStall || pen >= p2p.BanThreshold {
		t.Fatalf("staller penalty %d, want small but charged", pen)
	}
}

// TestMalformedRequestsPenalised (memnet): requests that do not decode cost
// PenaltyMalformed and get an error back.
func TestMalformedRequestsPenalised(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	c := newMemCluster(t, 1, p, nodeOpts{statusInterval: time.Hour})
	victim := c.nodes[0]
	victim.start(t)
	f := &fakePeer{p: p, net: c.net.NewNode(), claim: claimLow(p)}
	startFake(t, f)
	if err := c.net.Link(victim.net.Self(), f.net.Self(), memnet.LinkParams{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Within the size caps, so the decoders (not the network) refuse them.
	countTooHigh := make([]byte, MaxBlocksRequestSize)
	countTooHigh[0] = MaxBlocksPerRequest + 1
	dup := encodeHashes([]chain.Hash{{1}, {1}})
	bad := []struct {
		proto string
		req   []byte
	}{
		{ProtoBlocks, countTooHigh},
		{ProtoBlocks, dup},
		{ProtoHeaders, []byte{blockchainMaxLocator + 1}},
		{ProtoStatus, []byte{0}},
		{ProtoMempool, nil}, // well-formed: no penalty expected for this one
	}
	for i, b := range bad[:4] {
		if _, err := f.net.Request(ctx, victim.net.Self(), b.proto, b.req); err == nil {
			t.Fatalf("%s: malformed request answered", b.proto)
		}
		var pen int
		for _, pi := range victim.net.Peers() {
			if pi.ID == f.net.Self() {
				pen = pi.Penalty
			}
		}
		if want := (i + 1) * PenaltyMalformed; pen < want-1 || pen > want {
			t.Fatalf("after %d malformed requests penalty is %d, want %d", i+1, pen, want)
		}
	}
	if _, err := f.net.Request(ctx, victim.net.Self(), bad[4].proto, bad[4].req); err != nil {
		t.Fatalf("well-formed mempool request: %v", err)
	}
}

const blockchainMaxLocator = blockchain.MaxLocatorHashes
