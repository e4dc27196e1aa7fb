package systest

import (
	"context"
	"crypto/rand"
	"io/fs"
	mrand "math/rand"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/internal/testnet"
	"github.com/chaind/chaind/netsync"
	"github.com/chaind/chaind/p2p/libp2p"
)

// dirSize is the total size of the regular files under dir.
func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// junkBlock is a block on parent with n transactions of random bytes
// (well-formed, with full memos, unsigned): about n*200 bytes of junk.
func junkBlock(p *consensus.Params, parent *chain.Header, n int, memo string) *chain.Block {
	txs := make([]*chain.Tx, n)
	for i := range txs {
		tx := &chain.Tx{Amount: 1, Fee: 1, Nonce: uint64(i), Memo: make([]byte, chain.MaxMemoSize)}
		_, _ = rand.Read(tx.From[:])
		_, _ = rand.Read(tx.To[:])
		_, _ = rand.Read(tx.Signature[:])
		_, _ = rand.Read(tx.Memo)
		for j := range tx.Memo {
			tx.Memo[j] = 'a' + tx.Memo[j]%26 // memos are UTF-8
		}
		txs[i] = tx
	}
	return chaintest.Block(chaintest.Spec{Parent: parent, Txs: txs, Reward: p.Reward(parent.Height + 1), Memo: memo})
}

// floodVictim is an honest node on Pebble with 300 blocks, and an
// attacker connected to it over libp2p that claims little work (so the
// victim never syncs from it) and publishes blocks.
func floodVictim(t *testing.T) (p *consensus.Params, victim *testnet.Node, dir string, blocks []*chain.Block, attacker *libp2p.Host) {
	t.Helper()
	p = chaintest.Params(chaintest.Keys(4), 1_000_000_000)
	blocks = buildChain(p, 4, 300, 1, 5)
	c := libp2pCluster(t, testnet.Config{Nodes: 1, Params: p, Pebble: true, StatusInterval: 300 * time.Millisecond})
	victim = c.N(0)
	load(t, victim, blocks)
	bad := newHost(t, p, "")
	startFake(t, &fakePeer{p: p, net: bad, claim: claimLow(p)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := bad.Connect(ctx, victim.Addr()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the victim sees the attacker", func() bool { return hasPeer(victim.Node().Net, bad.Self()) })
	time.Sleep(500 * time.Millisecond) // the gossip subscriptions cross
	return p, victim, victim.Dir, blocks, bad
}

// TestLibp2pSideBranchFlood (issue 8, finding 2): over real libp2p, an
// attacker publishes blocks on a side branch lighter than the victim's
// chain. Blocks whose bodies break a rule (about 1 MB of unsigned junk
// each) get it banned after a few, and none is stored; valid blocks of a
// light branch, unrequested, are not stored either. The store grows by
// less than one such block.
func TestLibp2pSideBranchFlood(t *testing.T) {
	t.Run("junk bodies", func(t *testing.T) {
		p, victim, dir, blocks, bad := floodVictim(t)
		before := dirSize(t, dir)
		fork := &blocks[9].Header // a side branch from height 10
		published := 0
		for i := 0; i < 40 && hasPeer(victim.Node().Net, bad.Self()); i++ {
			b := junkBlock(p, fork, 5000, "junk")
			if err := bad.Publish(netsync.TopicBlocks, b.Encode()); err == nil {
				published++
			}
			fork = &b.Header
			time.Sleep(50 * time.Millisecond)
		}
		waitFor(t, 15*time.Second, "the attacker banned", func() bool { return !hasPeer(victim.Node().Net, bad.Self()) })
		grown := dirSize(t, dir) - before
		t.Logf("%d junk blocks of about 1 MB published before the ban; store grew %d bytes", published, grown)
		if grown > 512<<10 {
			t.Fatalf("store grew %d bytes under a junk side-branch flood", grown)
		}
		if victim.Tip().Hash != blocks[len(blocks)-1].Hash() {
			t.Fatal("the victim's tip moved")
		}
	})
	t.Run("valid light branch", func(t *testing.T) {
		p, victim, dir, blocks, bad := floodVictim(t)
		// A valid branch from genesis, shorter than the victim's chain.
		keys := chaintest.Keys(4)
		br := chaintest.NewBranch(p, keys).Fork("light")
		rng := mrand.New(mrand.NewSource(9))
		side := br.Extend(rng, 100, 100)
		var sideBytes int
		before := dirSize(t, dir)
		for _, b := range side {
			raw := b.Encode()
			sideBytes += len(raw)
			_ = bad.Publish(netsync.TopicBlocks, raw)
		}
		last := side[len(side)-1].Hash()
		// Delivered and judged: the victim's index holds none of it (its
		// later blocks wait as orphans, bounded, as their parents were
		// not kept).
		time.Sleep(2 * time.Second)
		if _, ok := victim.Node().Chain.BlockInfo(last); ok {
			t.Fatal("the light branch's last block is indexed")
		}
		if _, ok := victim.Node().Chain.BlockInfo(side[0].Hash()); ok {
			t.Fatal("the light branch's first block is indexed")
		}
		grown := dirSize(t, dir) - before
		t.Logf("%d valid light blocks (%d bytes) published; store grew %d bytes", len(side), sideBytes, grown)
		if grown > int64(sideBytes)/4 {
			t.Fatalf("store grew %d bytes for %d bytes of unrequested light blocks", grown, sideBytes)
		}
		if victim.Tip().Hash != blocks[len(blocks)-1].Hash() {
			t.Fatal("the victim's tip moved")
		}
	})
}

// TestLibp2pOrphanFlood (issue 8, finding 3): over real libp2p, an
// attacker publishes 48 orphans of about 1 MB each (a branch whose first
// block it never sends): the victim holds at most MaxOrphanBytes and
// MaxOrphans of them at any time, and its chain is untouched.
func TestLibp2pOrphanFlood(t *testing.T) {
	p, victim, _, blocks, bad := floodVictim(t)
	first := junkBlock(p, &p.Genesis().Header, 1, "never sent")
	parent := &first.Header
	var peakBytes, peakCount atomic.Int64
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			peakBytes.Store(max(peakBytes.Load(), int64(victim.Node().Chain.OrphanBytes())))
			peakCount.Store(max(peakCount.Load(), int64(victim.Node().Chain.OrphanCount())))
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	sent := 0
	for range 48 {
		b := junkBlock(p, parent, 5000, "orphan")
		parent = &b.Header
		if err := bad.Publish(netsync.TopicBlocks, b.Encode()); err == nil {
			sent += b.Size()
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitFor(t, 10*time.Second, "orphans arrive", func() bool { return victim.Node().Chain.OrphanCount() > 0 })
	time.Sleep(time.Second)
	close(stop)
	<-watched
	t.Logf("%d bytes of orphans published; the victim held at most %d bytes in %d orphans", sent, peakBytes.Load(), peakCount.Load())
	if peakBytes.Load() > blockchain.MaxOrphanBytes || peakCount.Load() > blockchain.MaxOrphans {
		t.Fatalf("orphans held: %d bytes, %d blocks; bounds %d, %d", peakBytes.Load(), peakCount.Load(), blockchain.MaxOrphanBytes, blockchain.MaxOrphans)
	}
	if int64(sent) <= blockchain.MaxOrphanBytes {
		t.Fatalf("the flood (%d bytes) did not exceed the bound; the test shows nothing", sent)
	}
	if victim.Tip().Hash != blocks[len(blocks)-1].Hash() {
		t.Fatal("the victim's tip moved")
	}
}
