package consensus

import (
	"crypto/ed25519"
	"runtime"

	"github.com/hdevalence/ed25519consensus"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/parallel"
)

// minTxsPerWorker is the smallest share of a list worth a goroutine of its
// own in VerifyTxs: below it the fork-join overhead is a visible part of
// the work.
const minTxsPerWorker = 4

// appendSigningMessage appends tx.SigningMessage(networkID) to b[:0],
// reusing b's storage, so a loop over many transactions allocates nothing.
func appendSigningMessage(b []byte, tx *chain.Tx, networkID *chain.Hash) []byte {
	return tx.AppendSigningMessage(b[:0], *networkID)
}

// VerifyTx reports whether tx carries a valid signature by tx.From over
// tx.SigningMessage(networkID), by the ZIP-215 rules. A coinbase (zero
// From) has no signature to check and is reported as not verified; callers
// that accept coinbases decide that by position, as VerifyTxs does.
func VerifyTx(tx *chain.Tx, networkID chain.Hash) bool {
	if tx == nil || tx.IsCoinbase() {
		return false
	}
	var buf [chain.MaxSigningMessageSize]byte
	return verifyOne(tx, &networkID, buf[:0])
}

// verifyOne checks one signed transaction using buf for its message.
func verifyOne(tx *chain.Tx, networkID *chain.Hash, buf []byte) bool {
	msg := appendSigningMessage(buf, tx, networkID)
	return ed25519consensus.Verify(ed25519.PublicKey(tx.From[:]), msg, tx.Signature[:])
}

// VerifyTxs checks the signatures of txs for networkID on all cores and
// returns (-1, true) when every one is valid. Otherwise it returns the
// index of the first invalid transaction and false; a nil entry counts as
// invalid. Coinbase transactions (zero From) are skipped, so a block's full
// list may be passed as is; that a coinbase appears only first is a
// consensus rule checked elsewhere (CheckBlockSanity).
//
// The list is cut into up to runtime.GOMAXPROCS(0) contiguous chunks, each
// batch-verified on its own goroutine; VerifyTxs returns only after every
// goroutine has finished. A chunk whose batch fails is re-checked one
// signature at a time to find its first bad index. Single and batch
// verification apply the same ZIP-215 rules, so the result does not depend
// on how the list was cut.
func VerifyTxs(txs []*chain.Tx, networkID chain.Hash) (bad int, ok bool) {
	return verifyTxs(txs, &networkID, runtime.GOMAXPROCS(0))
}

// verifyTxs is VerifyTxs with at most workers goroutines.
func verifyTxs(txs []*chain.Tx, networkID *chain.Hash, workers int) (bad int, ok bool) {
	workers = min(workers, parallel.Workers(len(txs), minTxsPerWorker))
	if workers <= 1 {
		return verifyChunk(txs, 0, networkID)
	}
	// firstBad[w] is the index of the first invalid tx of chunk w, or -1;
	// each goroutine writes only its own slot.
	firstBad := make([]int, workers)
	parallel.Range(len(txs), workers, func(w, lo, hi int) {
		firstBad[w], _ = verifyChunk(txs[lo:hi], lo, networkID)
	})
	for _, i := range firstBad {
		if i >= 0 {
			return i, false
		}
	}
	return -1, true
}

// verifyChunk verifies txs, which start at index base of the caller's list,
// as one batch, and on failure finds the first invalid one singly. It
// returns (-1, true) or (base+i, false) for the first invalid txs[i].
func verifyChunk(txs []*chain.Tx, base int, networkID *chain.Hash) (int, bool) {
	var buf [chain.MaxSigningMessageSize]byte
	bv := ed25519consensus.NewPreallocatedBatchVerifier(len(txs))
	signed := 0
	for i, tx := range txs {
		if tx == nil {
			// Report it now unless an earlier tx is bad, which the single
			// pass over txs[:i] finds.
			if j := firstInvalid(txs[:i], networkID, buf[:0]); j >= 0 {
				return base + j, false
			}
			return base + i, false
		}
		if tx.IsCoinbase() {
			continue
		}
		// Add keeps no reference to the message, so buf is reused.
		bv.Add(ed25519.PublicKey(tx.From[:]), appendSigningMessage(buf[:0], tx, networkID), tx.Signature[:])
		signed++
	}
	if signed == 0 || bv.Verify() {
		return -1, true
	}
	if j := firstInvalid(txs, networkID, buf[:0]); j >= 0 {
		return base + j, false
	}
	// Unreachable under ZIP-215: a batch of individually valid signatures
	// always passes. The single checks define validity, so they win.
	return -1, true
}

// firstInvalid returns the index of the first signed transaction of txs
// whose signature fails single verification, or -1. Coinbases and nil
// entries are not looked at.
func firstInvalid(txs []*chain.Tx, networkID *chain.Hash, buf []byte) int {
	for i, tx := range txs {
		if tx == nil || tx.IsCoinbase() {
			continue
		}
		if !verifyOne(tx, networkID, buf) {
			return i
		}
	}
	return -1
}

// VerifySignatures verifies every non-coinbase signature of txs for this
// network on all cores.
func VerifySignatures(p *Params, txs []*chain.Tx) error {
	if bad, ok := VerifyTxs(txs, p.GenesisHash()); !ok {
		return ruleErr(CodeBadSignature, "transaction %d (%s) has an invalid signature", bad, txs[bad].ID())
	}
	return nil
}
