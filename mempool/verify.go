package mempool

import (
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/parallel"
)

// minSinglesPerWorker is the smallest share of single verifications worth a
// goroutine of its own.
const minSinglesPerWorker = 8

// verifyTxs checks the signatures of txs for networkID. It returns nil
// when all are valid, else a flag per transaction, true for the invalid.
//
// The whole list goes to consensus.VerifyTxs (batch verification on all
// cores). That reports only the first invalid signature, and everything
// before it is valid; the rest is then checked one signature at a time on
// all cores, so a batch full of bad signatures costs at most about twice a
// clean one instead of one batch per bad signature.
func verifyTxs(txs []*chain.Tx, networkID chain.Hash) []bool {
	first, ok := consensus.VerifyTxs(txs, networkID)
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
// over the cores and returning when all have finished.
func verifyEach(txs []*chain.Tx, networkID chain.Hash, bad []bool) {
	parallel.For(len(txs), minSinglesPerWorker, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			bad[i] = !consensus.VerifyTx(txs[i], networkID)
		}
	})
}
