package systest

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/internal/testnet"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/libp2p"
)

// TestLibp2pFakeHeaderChain: over real libp2p, an attacker announces far
// more work than it has and serves a long chain of valid-proof-of-work
// headers forked from genesis (100,000 with CHAIND_LONG=1, 10,000 by
// default) and no blocks. A fresh node connected to it and to an honest
// node syncs the honest chain within 10 s, never downloads a block of the
// fake chain, penalises the attacker, and the honest miner's blocks reach
// it throughout.
func TestLibp2pFakeHeaderChain(t *testing.T) {
	fakeN, honestN := 10_000, 1000
	if os.Getenv("CHAIND_LONG") == "1" {
		fakeN, honestN = 100_000, 5000
	}
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	blocks := buildChain(p, 4, honestN, 0, 21)

	// Without the attacker: the baseline.
	base := syncFresh(t, p, blocks, nil, nil)
	t.Logf("fresh node synced %d blocks in %v without an attacker", honestN, base.Round(time.Millisecond))

	fake := fakeHeaders(p, p.GenesisHash(), 0, fakeN, true)
	badHost := newHost(t, p, "")
	served := 0
	var servedMu sync.Mutex
	f := &fakePeer{p: p, net: badHost, claim: claimAhead(p, uint32(fakeN)),
		headers: func(parent chain.Hash, height uint32) []chain.Header {
			end := min(int(height)+2000, len(fake))
			if int(height) >= end {
				return nil
			}
			servedMu.Lock()
			served += end - int(height)
			servedMu.Unlock()
			return fake[height:end]
		}}
	// Blocks are withheld: asked for any (its fake ones, or the honest
	// ones its claimed height covers), it fails.
	f.blocks = func(context.Context, p2p.PeerID, []byte) ([]byte, error) {
		return nil, errors.New("no blocks here")
	}
	startFake(t, f)
	f.mu.Lock()
	for i := range fake {
		f.known[fake[i].Hash()] = fake[i].Height
	}
	f.mu.Unlock()
	var fresh *testnet.Node
	took := syncFresh(t, p, blocks, badHost, &fresh)
	servedMu.Lock()
	t.Logf("fresh node synced %d blocks in %v with a %d-header attacker connected (%d fake headers served)", honestN, took.Round(time.Millisecond), fakeN, served)
	servedMu.Unlock()
	if info, ok := fresh.Node().Chain.BlockInfo(fake[0].Hash()); ok {
		t.Errorf("the fresh node took a fake header in as a block: %+v", info)
	}
	if took > 10*time.Second {
		t.Errorf("sync with the attacker took %v, want under 10 s", took)
	}
}

// syncFresh starts an honest node with blocks that keeps mining, and a
// fresh node connected to the attacker (when not nil) and then to the
// honest node; it returns how long the fresh node took to reach the
// honest node's height at the start, and checks that the honest miner's
// later blocks reach it and that the attacker was penalised.
func syncFresh(t *testing.T, p *consensus.Params, blocks []*chain.Block, bad *libp2p.Host, out **testnet.Node) time.Duration {
	t.Helper()
	c := libp2pCluster(t, testnet.Config{Nodes: 2, Params: p, StatusInterval: 300 * time.Millisecond})
	honest, fresh := c.N(0), c.N(1)
	load(t, honest, blocks)
	if out != nil {
		*out = fresh
	}
	if bad != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := fresh.Host().Connect(ctx, tcpAddr(t, bad)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the fresh node knows the attacker's status", func() bool {
			return fresh.KnowsStatus(bad.Self())
		})
	}
	start := time.Now()
	c.Connect(1, 0)

	mineEvery(t, honest, 200*time.Millisecond)

	target := uint32(len(blocks))
	waitFor(t, 60*time.Second, "the fresh node synced", func() bool { return fresh.Tip().Height >= target })
	took := time.Since(start)
	if !onHonestChain(fresh, honest) {
		t.Fatalf("the fresh node's tip %s is not on the honest chain", fresh.Tip().Hash)
	}
	// The honest miner's new blocks keep arriving.
	h := honest.Tip().Height
	waitFor(t, 5*time.Second, "the honest miner's next blocks reach the fresh node", func() bool {
		return fresh.Tip().Height >= h+2 && onHonestChain(fresh, honest)
	})
	if bad != nil {
		for _, pi := range fresh.Node().Net.Peers() {
			if pi.ID == bad.Self() && pi.Penalty == 0 {
				t.Error("the attacker is connected and was not penalised")
			}
		}
	}
	return took
}

// onHonestChain reports whether a's tip is on b's main chain.
func onHonestChain(a, b *testnet.Node) bool {
	info, ok := b.Node().Chain.BlockInfo(a.Tip().Hash)
	return ok && info.MainChain
}
