package netsync

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/internal/testnet/wait"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/memnet"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/wallet"
)

// sharedChain returns n empty blocks on p's genesis and a chain holding
// them that seeds can share (they only serve).
func sharedChain(t *testing.T, p *consensus.Params, keys []*wallet.Key, n int) ([]*chain.Block, *blockchain.Blockchain) {
	t.Helper()
	br := chaintest.NewBranch(p, keys)
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: store.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	var blocks []*chain.Block
	for i := 0; i < n; i++ {
		b := br.Next(nil, chaintest.Spec{})
		if _, err := bc.ProcessBlock(b, blockchain.Requested); err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b)
	}
	return blocks, bc
}

// startSyncer builds and starts a syncer on net (started here too).
func startSyncer(t *testing.T, bc *blockchain.Blockchain, net p2p.Network, o Config) *Syncer {
	t.Helper()
	o.Chain, o.Net = bc, net
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(); _ = net.Close() })
	return s
}

// TestHeadersFromEveryPeer (memnet): a peer that announces more work than
// anyone and never answers a headers request does not hold up the sync of
// the honest chain from another peer: headers are learnt from every peer
// at once, so the honest chain is synced long before the silent peer's
// request times out.
func TestHeadersFromEveryPeer(t *testing.T) {
	keys := chaintest.Keys(4)
	p := chaintest.Params(keys, 1_000_000_000)
	blocks, seed := sharedChain(t, p, keys, 300)
	mn, err := memnet.New(memnet.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mn.Close() })

	// The silent peer: a status with far more work, headers never answered.
	silent := mn.NewNode()
	asked := make(chan struct{}, 1)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(silent.HandleRequest(ProtoStatus, MaxStatusSize, MaxStatusSize, func(_ context.Context, _ p2p.PeerID, req []byte) ([]byte, error) {
		theirs, err := DecodeStatus(req)
		if err != nil {
			return nil, err
		}
		w := new(big.Int).Add(theirs.Work, new(big.Int).Lsh(big.NewInt(1), 64))
		return EncodeStatus(Status{Genesis: p.GenesisHash(), Best: chain.HashBytes(w.Bytes()), Height: theirs.Height + 100_000, Work: w}), nil
	}))
	must(silent.HandleRequest(ProtoHeaders, MaxHeadersRequestSize, MaxHeadersResponseSize, func(ctx context.Context, _ p2p.PeerID, _ []byte) ([]byte, error) {
		select {
		case asked <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	must(silent.Start(context.Background()))

	honest := mn.NewNode()
	startSyncer(t, seed, honest, Config{StatusInterval: time.Hour})
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: store.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	fresh := mn.NewNode()
	const timeout = 20 * time.Second
	startSyncer(t, bc, fresh, Config{StatusInterval: time.Hour, RequestTimeout: timeout})
	// The silent peer first, so a one-at-a-time sync would start with it.
	must(mn.Link(fresh.Self(), silent.Self(), memnet.LinkParams{Latency: time.Millisecond}))
	select {
	case <-asked:
	case <-time.After(10 * time.Second):
		t.Fatal("the fresh node never asked the silent peer for headers")
	}
	must(mn.Link(fresh.Self(), honest.Self(), memnet.LinkParams{Latency: time.Millisecond}))
	want := blocks[len(blocks)-1].Hash()
	took := wait.For(t, timeout/2, "the honest chain synced while the silent peer holds its headers", func() bool {
		return bc.Tip().Hash == want
	})
	t.Logf("synced %d blocks in %v with a silent peer's headers request open", len(blocks), took.Round(time.Millisecond))
}
