package systest

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/internal/testnet"
	"github.com/chaind/chaind/netsync"
	"github.com/chaind/chaind/p2p/libp2p"
)

// TestLibp2pMisbehavingPeers: hand-driven libp2p peers misbehave in five
// ways against an honest node that keeps following an honest miner; each
// is banned, and the honest node stays in step.
func TestLibp2pMisbehavingPeers(t *testing.T) {
	p := chaintest.VectorParams()
	base, vectors, err := chaintest.LoadVectors()
	if err != nil {
		t.Fatal(err)
	}
	c := libp2pCluster(t, testnet.Config{Nodes: 2, Params: p, StatusInterval: 300 * time.Millisecond})
	h1, h2 := c.N(0), c.N(1)
	load(t, h1, base)
	load(t, h2, base)
	c.Connect(0, 1)

	// h2 mines all along.
	mineEvery(t, h2, 150*time.Millisecond)

	keys := chaintest.Keys(4)
	cases := []struct {
		name    string
		claim   func(netsync.Status) netsync.Status
		headers func(parent chain.Hash, height uint32) []chain.Header
		act     func(t *testing.T, bad *libp2p.Host)
	}{
		{name: "invalid rule vectors", claim: claimLow(p), act: func(t *testing.T, bad *libp2p.Host) {
			for _, v := range vectors {
				raw, _ := hex.DecodeString(v.Block)
				_ = bad.Publish(netsync.TopicBlocks, raw)
			}
		}},
		{name: "headers with bad proof of work", claim: claimAhead(p, 100),
			headers: func(parent chain.Hash, height uint32) []chain.Header {
				return fakeHeaders(p, parent, height, 10, false)
			}},
		{name: "endless headers", claim: claimAhead(p, 10),
			headers: func(parent chain.Hash, height uint32) []chain.Header {
				return fakeHeaders(p, parent, height, 2000, true)
			}},
		{name: "oversized requests", claim: claimLow(p), act: func(t *testing.T, bad *libp2p.Host) {
			for i := 0; i < 10; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err := bad.Request(ctx, h1.ID, netsync.ProtoStatus, make([]byte, netsync.MaxStatusSize+1000))
				cancel()
				if err == nil {
					t.Error("oversized status request answered")
				}
			}
		}},
		{name: "junk transaction flood", claim: claimLow(p), act: func(t *testing.T, bad *libp2p.Host) {
			// Funded and at the sender's next nonce, so only the
			// signature is wrong (cheaper refusals cost no penalty).
			nonce := h1.Node().Chain.Account(keys[1].Address()).Nonce
			for i := 0; i < 50; i++ {
				tx := chaintest.Tx(p, keys[1], keys[2].Address(), uint64(100+i), 1, nonce)
				tx.Signature[0] ^= 0xff
				_ = bad.Publish(netsync.TopicTxs, tx.Encode())
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			badHost := newHost(t, p, "")
			f := &fakePeer{p: p, net: badHost, claim: tc.claim, headers: tc.headers}
			startFake(t, f)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := badHost.Connect(ctx, h1.Addr()); err != nil {
				t.Fatal(err)
			}
			net := h1.Node().Net
			waitFor(t, 5*time.Second, "h1 sees the bad peer", func() bool { return hasPeer(net, badHost.Self()) })
			if tc.act != nil {
				time.Sleep(500 * time.Millisecond) // the gossip subscriptions cross
				tc.act(t, badHost)
			}
			waitFor(t, 15*time.Second, "the bad peer banned", func() bool { return !hasPeer(net, badHost.Self()) })
			if _, err := badHost.Connect(ctx, h1.Addr()); err == nil {
				waitFor(t, 2*time.Second, "the banned peer refused", func() bool { return !hasPeer(net, badHost.Self()) })
			}
			waitFor(t, 10*time.Second, "the honest nodes in step", func() bool {
				return h1.Tip().Hash == h2.Tip().Hash && h1.Tip().Height > uint32(len(base))
			})
			// Forgotten at once, or at the latest by the next status round.
			waitFor(t, 2*time.Second, "the syncer to forget the banned peer", func() bool {
				_, ok := syncPeer(h1.Node().Sync, badHost.Self())
				return !ok
			})
		})
	}
}
