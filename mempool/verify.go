package mempool

import (
	"runtime"
	"sync"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/wallet"
)

// minSinglesPerWorker is the smallest share of single verifications worth a
// goroutine of its own.
const minSinglesPerWorker = 8

// verifyTxs checks the signatures of txs for networkID. It returns nil
// when all are valid, else a flag per transaction, true for the invalid.
//
// The whole list goes to wallet.VerifyTxs (batch verification on all
// cores). That reports only the first invalid signature, and everything
// before it is valid; the rest is then checked one signature at a time on
// all cores, so a batch full of bad signatures costs at most about twice a
// clean one instead of one batch per bad signature.
func verifyTxs(txs []*chain.Tx, networkID chain.Hash) []bool {
	first, ok := wallet.VerifyTxs(txs, networkID)
	if ok {
		return nil
	}
	bad := make([]bool, len(txs))
	bad[first] = true
	rest := txs[first+1:]
	verifyEach(rest, networkID, bad[first+1:])
	return bad
}

// verifyEach sets bad[i] when txs[i] does not verify, splitting the work
// over GOMAXPROCS goroutines and returning when all have finished.
func verifyEach(txs []*chain.Tx, networkID chain.Hash, bad []bool) {
	workers := min(runtime.GOMAXPROCS(0), len(txs)/minSinglesPerWorker)
	if workers <= 1 {
		for i, tx := range txs {
			bad[i] = !wallet.VerifyTx(tx, networkID)
		}
		return
	}
	var wg sync.WaitGroup
	n := len(txs)
	for w := range workers {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				bad[i] = !wallet.VerifyTx(txs[i], networkID)
			}
		})
	}
	wg.Wait()
}
