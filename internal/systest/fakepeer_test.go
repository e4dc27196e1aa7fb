package systest

import (
	"context"
	"encoding/binary"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/netsync"
	"github.com/chaind/chaind/p2p"
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
	claim func(theirs netsync.Status) netsync.Status
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
	must(f.net.HandleRequest(netsync.ProtoStatus, fakeStatusCap, netsync.MaxStatusSize, func(_ context.Context, _ p2p.PeerID, req []byte) ([]byte, error) {
		theirs, err := netsync.DecodeStatus(req)
		if err != nil {
			return nil, err
		}
		f.mu.Lock()
		f.known[theirs.Best] = theirs.Height
		f.mu.Unlock()
		return netsync.EncodeStatus(f.claim(theirs)), nil
	}))
	if f.headers != nil {
		must(f.net.HandleRequest(netsync.ProtoHeaders, netsync.MaxHeadersRequestSize, netsync.MaxHeadersResponseSize, func(_ context.Context, _ p2p.PeerID, req []byte) ([]byte, error) {
			f.headerRequests.Add(1)
			hr, err := netsync.DecodeHeadersRequest(req)
			if err != nil {
				return nil, err
			}
			f.mu.Lock()
			parent, height := f.p.GenesisHash(), uint32(0)
			for _, h := range hr.Locator {
				if ht, ok := f.known[h]; ok {
					parent, height = h, ht
					break
				}
			}
			f.mu.Unlock()
			return netsync.EncodeHeaders(f.headers(parent, height)), nil
		}))
	}
	if f.blocks != nil {
		must(f.net.HandleRequest(netsync.ProtoBlocks, netsync.MaxBlocksRequestSize, netsync.MaxBlocksResponseSize, f.blocks))
	}
	accept := func(p2p.PeerID, []byte) p2p.Verdict { return p2p.Accept }
	must(f.net.HandleGossip(netsync.TopicBlocks, accept))
	must(f.net.HandleGossip(netsync.TopicTxs, accept))
	must(f.net.Start(context.Background()))
	t.Cleanup(func() { _ = f.net.Close() })
}

// claimLow announces genesis only: the victim never syncs from the fake.
func claimLow(p *consensus.Params) func(netsync.Status) netsync.Status {
	return func(netsync.Status) netsync.Status {
		return netsync.Status{Genesis: p.GenesisHash(), Best: p.GenesisHash(), Work: big.NewInt(1)}
	}
}

// claimAhead announces `ahead` blocks and much more work than the asker.
func claimAhead(p *consensus.Params, ahead uint32) func(netsync.Status) netsync.Status {
	return func(theirs netsync.Status) netsync.Status {
		w := new(big.Int).Add(theirs.Work, new(big.Int).Lsh(big.NewInt(1), 64))
		return netsync.Status{Genesis: p.GenesisHash(), Best: chain.HashBytes(w.Bytes()), Height: theirs.Height + ahead, Work: w}
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
