package netsync

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/memnet"
	"github.com/chaind/chaind/store"
)

// offlineNode is a node whose network is never started: for calling the
// validators directly.
func offlineNode(t *testing.T, p *consensus.Params) *node {
	mn, err := memnet.New(memnet.Config{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mn.Close)
	return newNode(t, "offline", p, mn.NewNode(), store.NewMemory(), nodeOpts{})
}

// TestGossipBlockVerdicts offers every committed rule vector to the block
// validator on top of the vectors' base chain: rules whose violation
// proves misbehaviour reject, an early block and an orphan are ignored,
// the valid control is accepted, and a known block is ignored.
func TestGossipBlockVerdicts(t *testing.T) {
	base, vectors, err := chaintest.LoadVectors()
	if err != nil {
		t.Fatal(err)
	}
	p := chaintest.VectorParams()
	for _, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			n := offlineNode(t, p)
			n.load(t, base)
			n.sync.peers.add("peer")
			raw, _ := hex.DecodeString(v.Block)
			want := p2p.Reject
			switch v.Code {
			case "":
				want = p2p.Accept
			case consensus.CodeUnknownParent.String(), consensus.CodeTimeTooNew.String():
				want = p2p.Ignore
			}
			if got := n.sync.onGossipBlock("peer", raw); got != want {
				t.Fatalf("verdict %v, want %v (rule %s)", got, want, v.Code)
			}
			if want == p2p.Accept {
				if got := n.sync.onGossipBlock("peer", raw); got != p2p.Ignore {
					t.Fatalf("second copy: verdict %v, want ignore", got)
				}
				if ps, _ := n.sync.peers.get("peer"); ps.BestHeight != uint32(len(base)+1) {
					t.Fatalf("sender's best height %d after its block", ps.BestHeight)
				}
			}
			if v.Code == consensus.CodeUnknownParent.String() {
				if ps, _ := n.sync.peers.get("peer"); !ps.orphanFrom {
					t.Fatal("an orphan did not mark its sender for an ancestor fetch")
				}
			}
		})
	}
}

// TestGossipTxVerdicts: only refusals that prove the sender wrong reject.
func TestGossipTxVerdicts(t *testing.T) {
	keys := chaintest.Keys(4)
	p := chaintest.Params(keys, 1_000_000)
	n := offlineNode(t, p)
	good := chaintest.Tx(p, keys[1], keys[2].Address(), 100, 1, 0)
	badSig := chaintest.Tx(p, keys[1], keys[2].Address(), 101, 1, 0)
	badSig.Signature[3] ^= 1
	zero := chaintest.Tx(p, keys[1], keys[2].Address(), 0, 1, 0)
	otherNet := chaintest.Tx(chaintest.Params(keys[:1], 5), keys[1], keys[2].Address(), 100, 1, 0)
	gap := chaintest.Tx(p, keys[1], keys[2].Address(), 100, 1, 1000)
	poor := chaintest.Tx(p, keys[3], keys[2].Address(), 10_000_000, 1, 0)
	cases := []struct {
		name string
		data []byte
		want p2p.Verdict
	}{
		{"valid", good.Encode(), p2p.Accept},
		{"duplicate", good.Encode(), p2p.Ignore},
		{"malformed", good.Encode()[:50], p2p.Reject},
		{"bad signature", badSig.Encode(), p2p.Reject},
		{"signed for another network", otherNet.Encode(), p2p.Reject},
		{"zero amount", zero.Encode(), p2p.Reject},
		{"nonce far ahead", gap.Encode(), p2p.Ignore},
		{"insufficient funds", poor.Encode(), p2p.Ignore},
	}
	for _, c := range cases {
		if got := n.sync.onGossipTx("peer", c.data); got != c.want {
			t.Errorf("%s: verdict %v, want %v", c.name, got, c.want)
		}
	}
	if !n.pool.Has(good.ID()) || n.pool.Len() != 1 {
		t.Fatalf("pool holds %d txs, want only the valid one", n.pool.Len())
	}
}

// TestPublishRules: every block connected here is published once, a
// gossiped one too (the network, not the syncer, keeps it from going out
// twice); and while syncing far behind, old blocks are not published.
func TestPublishRules(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	blocks := buildChain(p, 4, 30, 0, 4)
	n := offlineNode(t, p)
	n.sync.running.Store(true) // enqueue without a network
	drain := func() []chain.Hash {
		var out []chain.Hash
		for {
			select {
			case it := <-n.sync.pubq:
				b, err := chain.DecodeBlock(it.data)
				if err != nil || it.topic != TopicBlocks {
					t.Fatalf("queued %s: %v", it.topic, err)
				}
				out = append(out, b.Hash())
			case <-time.After(10 * time.Millisecond):
				return out
			}
		}
	}
	n.load(t, blocks[:1])
	if got := drain(); len(got) != 1 || got[0] != blocks[0].Hash() {
		t.Fatalf("a locally connected block: published %d", len(got))
	}
	if v := n.sync.onGossipBlock("peer", blocks[1].Encode()); v != p2p.Accept {
		t.Fatalf("verdict %v", v)
	}
	if got := drain(); len(got) != 1 || got[0] != blocks[1].Hash() {
		t.Fatalf("a gossiped block that connected: published %d, want it once", len(got))
	}
	n.load(t, blocks[1:2]) // a duplicate connects nothing
	if got := drain(); len(got) != 0 {
		t.Fatal("a duplicate was published")
	}
	n.sync.syncTarget.Store(30)
	n.load(t, blocks[2:25]) // heights 3..25: only 22..25 are within RelayTipDepth of 30
	got := drain()
	if len(got) != 4 || got[0] != blocks[21].Hash() {
		t.Fatalf("while syncing to 30, published %d blocks", len(got))
	}
	// A block mined now is announced however far the sync target is.
	n.sync.syncTarget.Store(100_000)
	mined := n.mine(t, false)
	if got := drain(); len(got) != 1 || got[0] != mined.Hash() {
		t.Fatalf("a block mined while syncing to 100000: published %d", len(got))
	}
}
