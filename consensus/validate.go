package consensus

import (
	"bytes"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/chaind/chaind/chain"
)

// CheckBlockSanity runs the context-free checks on a block, cheapest first:
// proof of work against the block's own bits and the network limit, sizes
// and counts, the data and merkle commitments, and the coinbase's shape.
// It needs no chain state, so it runs before a block is stored or relayed.
func CheckBlockSanity(p *Params, b *chain.Block) error {
	h := &b.Header
	if h.Version != BlockVersion {
		return ruleErr(CodeBadVersion, "header version %d, want %d", h.Version, BlockVersion)
	}
	if err := CheckProofOfWork(h, p.PowLimit); err != nil {
		return err
	}
	if size := b.Size(); size > p.MaxBlockSize {
		return ruleErr(CodeBlockTooBig, "block is %d bytes, limit %d", size, p.MaxBlockSize)
	}
	if len(b.Txs) > p.MaxBlockTxs {
		return ruleErr(CodeTooManyTxs, "block has %d transactions, limit %d", len(b.Txs), p.MaxBlockTxs)
	}
	if len(b.Data) > chain.MaxDataSize {
		return ruleErr(CodeMalformed, "data note of %d bytes exceeds %d", len(b.Data), chain.MaxDataSize)
	}
	if !utf8.Valid(b.Data) {
		return ruleErr(CodeBadEncoding, "data note is not valid UTF-8")
	}
	if chain.DataHash(b.Data) != h.DataHash {
		return ruleErr(CodeBadDataHash, "data hash does not match the data note")
	}
	if len(b.Txs) == 0 || !b.Txs[0].IsCoinbase() {
		return ruleErr(CodeNoCoinbase, "first transaction is not a coinbase")
	}
	if err := checkCoinbaseShape(b.Txs[0], h.Height); err != nil {
		return err
	}
	ids := make([]chain.Hash, len(b.Txs))
	for i, tx := range b.Txs {
		if i > 0 {
			if err := CheckTxSanity(tx); err != nil {
				return withDetailPrefix(err, "transaction %d: ", i)
			}
		}
		ids[i] = tx.ID()
	}
	if chain.MerkleRoot(ids) != h.MerkleRoot {
		return ruleErr(CodeBadMerkleRoot, "merkle root does not match the transactions")
	}
	slices.SortFunc(ids, func(a, b chain.Hash) int { return bytes.Compare(a[:], b[:]) })
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			return ruleErr(CodeDuplicateTx, "transaction %s appears twice", ids[i])
		}
	}
	return nil
}

func checkCoinbaseShape(cb *chain.Tx, height uint32) error {
	if cb.Nonce != uint64(height) {
		return ruleErr(CodeBadCoinbase, "coinbase nonce %d is not the block height %d", cb.Nonce, height)
	}
	if cb.Fee != 0 || cb.Signature != (chain.Signature{}) {
		return ruleErr(CodeBadCoinbase, "coinbase must have no fee and no signature")
	}
	if len(cb.Memo) > chain.MaxMemoSize || !utf8.Valid(cb.Memo) {
		return ruleErr(CodeBadEncoding, "coinbase memo is not valid UTF-8 of at most %d bytes", chain.MaxMemoSize)
	}
	return nil
}

// CheckTxSanity runs the context-free checks on a non-coinbase transaction:
// not a coinbase, a non-zero amount, amount + fee without overflow, a memo
// of valid UTF-8 within bounds. The signature is checked by VerifySignatures.
func CheckTxSanity(tx *chain.Tx) error {
	if tx.IsCoinbase() {
		return ruleErr(CodeExtraCoinbase, "coinbase-shaped transaction outside the first position")
	}
	if tx.Amount == 0 {
		return ruleErr(CodeZeroAmount, "amount is zero")
	}
	if tx.Amount+tx.Fee < tx.Amount {
		return ruleErr(CodeOverflow, "amount %d + fee %d overflows", tx.Amount, tx.Fee)
	}
	if len(tx.Memo) > chain.MaxMemoSize || !utf8.Valid(tx.Memo) {
		return ruleErr(CodeBadEncoding, "memo is not valid UTF-8 of at most %d bytes", chain.MaxMemoSize)
	}
	return nil
}

// ParentContext is what CheckHeaderContext needs to know about the chain a
// header extends.
type ParentContext struct {
	Parent     *chain.Header
	Anchor     *chain.Header // block at AnchorHeight on the branch, nil below it
	MedianTime uint32        // median timestamp of the last MedianTimeBlocks blocks up to Parent
	// GrandparentTime is the timestamp of Parent's parent (0 when Parent
	// is genesis): the relative retarget needs the parent's own gap.
	GrandparentTime uint32
}

// CheckHeaderContext checks a header against its branch: height, the
// target ASERT expects, a timestamp after the median time and not more than
// MaxFutureTime ahead of now.
func CheckHeaderContext(p *Params, h *chain.Header, pc ParentContext, now time.Time) error {
	if h.Height != pc.Parent.Height+1 {
		return ruleErr(CodeBadHeight, "height %d, parent is at %d", h.Height, pc.Parent.Height)
	}
	if want := NextBits(p, pc); h.Bits != want {
		return ruleErr(CodeBadBits, "bits %s, retarget expects %s", bitsString(h.Bits), bitsString(want))
	}
	if h.Timestamp <= pc.MedianTime {
		return ruleErr(CodeTimeTooOld, "timestamp %d not after median time %d", h.Timestamp, pc.MedianTime)
	}
	if limit := now.Unix() + p.MaxFutureTime; int64(h.Timestamp) > limit {
		return ruleErr(CodeTimeTooNew, "timestamp %d more than %ds ahead of local time %d", h.Timestamp, p.MaxFutureTime, now.Unix())
	}
	return nil
}

// MedianTime returns the median of up to MedianTimeBlocks timestamps.
func MedianTime(times []uint32) uint32 {
	if len(times) == 0 {
		return 0
	}
	s := slices.Clone(times)
	slices.Sort(s)
	return s[len(s)/2]
}
