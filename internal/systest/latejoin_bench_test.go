package systest

import (
	"fmt"
	"math/rand"
	"os"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/store/pebble"
)

// syncEveryUpdate is a store that syncs every update, ignoring Deferred:
// how the chain wrote before group commit, for before/after figures.
type syncEveryUpdate struct{ store.Store }

func (s syncEveryUpdate) ConnectBlock(u *store.Update) error {
	u.Deferred = false
	return s.Store.ConnectBlock(u)
}

func (s syncEveryUpdate) DisconnectBlock(u *store.Update) error {
	u.Deferred = false
	return s.Store.DisconnectBlock(u)
}

// lateJoinChain builds n blocks of txs transfers each (cached per process).
func lateJoinChain(b *testing.B, n, txs int) *benchData {
	key := [2]int{-n, txs} // apart from benchBlocks' entries
	if v, ok := benchCache.Load(key); ok {
		return v.(*benchData)
	}
	keys := chaintest.Keys(200)
	p := chaintest.Params(keys, 1<<50)
	p.MaxBlockTxs = chain.MaxBlockTxs
	p.MaxBlockSize = chain.MaxBlockSize
	br := chaintest.NewBranch(p, keys)
	rng := rand.New(rand.NewSource(1))
	d := &benchData{p: p}
	for i := 0; i < n; i++ {
		var list []*chain.Tx
		if txs > 0 {
			list = br.RandomTxs(rng, txs)
		}
		d.blocks = append(d.blocks, br.Next(list, chaintest.Spec{}))
		d.txs += len(list)
	}
	v, _ := benchCache.LoadOrStore(key, d)
	return v.(*benchData)
}

// BenchmarkLateJoin: a fresh node on a Pebble store is added as a peer of
// one or three nodes holding a chain, over libp2p on loopback, and catches
// up: 2,000 and 10,000 empty blocks, and (with CHAIND_LONG=1) 10,000
// blocks of 100 transfers. Time runs from "add peer" (the first dial) to
// the joiner's tip being the chain's. It reports the time, blocks/s and
// where the time went: disk syncs (sync-s), other store writes (store-s),
// validation (validate-s) and the rest (network and waiting, other-s),
// with group commit (write=grouped) and with a sync per block as before it
// (write=every-block). vs-connect is blocks/s over ProcessBlock of the
// same blocks straight into Pebble in the same run.
func BenchmarkLateJoin(b *testing.B) {
	type shape struct{ blocks, txs int }
	shapes := []shape{{2000, 0}, {10_000, 0}}
	if os.Getenv("CHAIND_LONG") == "1" {
		shapes = append(shapes, shape{10_000, 100})
	}
	for _, sh := range shapes {
		for _, peers := range []int{1, 3} {
			for _, grouped := range []bool{true, false} {
				mode := "grouped"
				if !grouped {
					mode = "every-block"
				}
				b.Run(fmt.Sprintf("blocks=%d/txs=%d/peers=%d/write=%s", sh.blocks, sh.txs, peers, mode), func(b *testing.B) {
					lateJoin(b, lateJoinChain(b, sh.blocks, sh.txs), peers, grouped)
				})
			}
		}
	}
}

func lateJoin(b *testing.B, d *benchData, peers int, grouped bool) {
	seed := d.seedChain(b)
	direct := d.directRate(b)
	var seeds []*syncNode
	for i := 0; i < peers; i++ {
		seeds = append(seeds, startSyncNode(b, d.p, seed, false))
	}
	want := d.blocks[len(d.blocks)-1].Hash()
	var elapsed time.Duration
	var tm blockchain.Timings
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ps, err := pebble.Open(b.TempDir(), d.p.Name, d.p.GenesisHash())
		if err != nil {
			b.Fatal(err)
		}
		var st store.Store = ps
		if !grouped {
			st = syncEveryUpdate{ps}
		}
		bc, err := blockchain.New(blockchain.Config{Params: d.p, Store: st})
		if err != nil {
			b.Fatal(err)
		}
		j := startSyncNode(b, d.p, bc, true)
		reached := make(chan struct{})
		j.chain.Subscribe(func(n blockchain.Notification) {
			if n.Type == blockchain.TipChanged && n.Hash == want {
				close(reached)
			}
		})

		before := j.chain.Timings()
		b.StartTimer()
		start := time.Now()
		for _, s := range seeds {
			connectSync(b, j, s)
		}
		select {
		case <-reached:
		case <-time.After(5 * time.Minute):
			b.Fatalf("joiner at height %d after 5 minutes", bc.Tip().Height)
		}
		took := time.Since(start)
		b.StopTimer()
		elapsed += took
		after := j.chain.Timings()
		tm.Sync += after.Sync - before.Sync
		tm.Store += after.Store - before.Store
		tm.Validate += after.Validate - before.Validate
		tm.Syncs += after.Syncs - before.Syncs
		j.stop()
		_ = bc.Close()
		ps.Close()
		b.StartTimer()
	}
	n := float64(b.N)
	secs := elapsed.Seconds() / n
	b.ReportMetric(secs, "s/join")
	b.ReportMetric(float64(len(d.blocks))/secs, "blocks/s")
	b.ReportMetric(tm.Sync.Seconds()/n, "sync-s")
	b.ReportMetric((tm.Store-tm.Sync).Seconds()/n, "store-s")
	b.ReportMetric(tm.Validate.Seconds()/n, "validate-s")
	b.ReportMetric(secs-(tm.Store+tm.Validate).Seconds()/n, "other-s")
	b.ReportMetric(float64(tm.Syncs)/n, "syncs")
	b.ReportMetric(float64(len(d.blocks))/secs/direct, "vs-connect")
}
