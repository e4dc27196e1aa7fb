package mempool

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/state"
)

// TestConcurrentAdd adds from several goroutines at once: each has senders
// of its own, and all race on one shared sender's nonces with different
// fees, while readers build templates and a writer announces blocks.
func TestConcurrentAdd(t *testing.T) {
	const (
		workers   = 4
		perWorker = 2  // own senders
		perSender = 20 // nonces each
		shared    = 8  // nonces of the shared sender
	)
	p, fc, keys := setup(t, workers*perWorker+2, Config{})
	sharedKey := keys[len(keys)-1]
	to := keys[0].Address()
	var announced atomic.Int64
	p.Subscribe(func(*chain.Tx) { announced.Add(1) })

	own := make([][]*chain.Tx, workers)
	race := make([][]*chain.Tx, workers)
	for w := range workers {
		for s := range perWorker {
			k := keys[w*perWorker+s]
			for n := range uint64(perSender) {
				own[w] = append(own[w], chaintest.Tx(fc.p, k, to, 1, n, n))
			}
		}
		for n := range uint64(shared) {
			// Fees 10, 20, 40, 80: any later one replaces any earlier.
			race[w] = append(race[w], chaintest.Tx(fc.p, sharedKey, to, 1, 10<<w, n))
		}
	}
	// An unrelated sender whose account moves under the pool.
	mover := keys[len(keys)-2]
	moverTxs := make([]*chain.Tx, shared)
	for n := range moverTxs {
		moverTxs[n] = chaintest.Tx(fc.p, mover, to, 1, 1, uint64(n))
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	var (
		failMu sync.Mutex
		failed []error
	)
	fail := func(err error) {
		failMu.Lock()
		failed = append(failed, err)
		failMu.Unlock()
	}
	for w := range workers {
		wg.Go(func() {
			// Half one by one, half as a batch.
			half := len(own[w]) / 2
			for _, tx := range own[w][:half] {
				if err := p.Add(tx); err != nil {
					fail(err)
				}
			}
			for _, err := range p.AddBatch(own[w][half:]) {
				if err != nil {
					fail(err)
				}
			}
			for _, tx := range race[w] {
				if err := p.Add(tx); err != nil && !errors.Is(err, ErrReplacementFee) {
					fail(err)
				}
			}
		})
	}
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			p.Template(50, 1<<20)
			p.Txs()
			p.Pending(sharedKey.Address())
			p.Len()
		}
	})
	readers.Go(func() {
		p.AddBatch(moverTxs)
		for n := 1; n <= shared; n++ {
			fc.set(mover.Address(), state.Account{Balance: funds, Nonce: uint64(n)})
			p.BlockConnected(&chain.Block{Txs: []*chain.Tx{moverTxs[n-1]}})
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d refusals, first: %v", len(failed), failed[0])
	}
	checkInvariants(t, p)
	want := workers*perWorker*perSender + shared
	if p.Len() != want {
		t.Fatalf("pool holds %d, want %d", p.Len(), want)
	}
	// The shared sender ends with the highest fee at every nonce.
	for _, tx := range race[workers-1] {
		if !p.Has(tx.ID()) {
			t.Fatalf("shared nonce %d does not hold the highest fee", tx.Nonce)
		}
	}
	if n, _, _ := p.Pending(mover.Address()); n != 0 {
		t.Fatalf("mover still has %d pending after all were mined", n)
	}
	if announced.Load() < int64(want) {
		t.Fatalf("%d announcements for %d admitted", announced.Load(), want)
	}
}
