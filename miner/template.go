package miner

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
)

// candidate is a block ready for the nonce search: everything but the
// nonce, and the target its hash must meet.
type candidate struct {
	block  *chain.Block
	target [chain.HashSize]byte
}

// fixedSize is the encoded size of a block with a data note of dataLen
// bytes and only a coinbase with the longest extra-nonce memo: what is
// left of the block size limit is for the pending transactions.
func fixedSize(dataLen int) int {
	return chain.BlockOverhead + dataLen + chain.MinTxSize + maxExtraNonceLen
}

// build returns a candidate on the current tip with the data note and the
// coinbase paid to to, or how long to wait before the clock allows a
// timestamp the chain accepts.
func (m *Miner) build(data []byte, to chain.Address) (*candidate, time.Duration, error) {
	t := m.chain.NextTemplate()
	ts, wait, err := m.timestamp(t.MinTime)
	if err != nil || wait > 0 {
		return nil, wait, err
	}
	target, ok := consensus.CompactToBig(t.Bits)
	if !ok || target.Sign() <= 0 {
		return nil, 0, fmt.Errorf("template for height %d has unusable bits %08x", t.Height, t.Bits)
	}
	txs, fees := m.pending(len(data), t.Reward)
	cb := &chain.Tx{To: to, Amount: t.Reward + fees, Nonce: uint64(t.Height)}
	if m.extraNonce > 0 {
		cb.Memo = strconv.AppendUint(nil, m.extraNonce, 10)
	}
	b := &chain.Block{Data: data, Txs: append([]*chain.Tx{cb}, txs...)}
	b.Header = chain.Header{
		Version:    consensus.BlockVersion,
		Height:     t.Height,
		PrevHash:   t.PrevHash,
		MerkleRoot: chain.MerkleRoot(chain.TxIDs(b.Txs)),
		DataHash:   chain.DataHash(data),
		Timestamp:  ts,
		Bits:       t.Bits,
	}
	return &candidate{block: b, target: consensus.TargetBytes(target)}, 0, nil
}

// timestamp returns the timestamp for a block whose median time is
// minTime: the clock, or minTime+1 if that is later, but never above
// now + MaxFutureTime - 1. When minTime+1 is above that, it returns how
// long to wait (at most maxTimeWait) instead.
func (m *Miner) timestamp(minTime uint32) (uint32, time.Duration, error) {
	now := m.now()
	sec := now.Unix()
	ts := max(sec, int64(minTime)+1)
	if latest := sec + m.params.MaxFutureTime - 1; ts > latest {
		// The clock must reach ts - MaxFutureTime + 1.
		wait := time.Unix(ts-m.params.MaxFutureTime+1, 0).Sub(now)
		return 0, min(wait, maxTimeWait), nil
	}
	if ts > math.MaxUint32 {
		return 0, 0, fmt.Errorf("clock %d is beyond the 32-bit timestamp range", sec)
	}
	return uint32(ts), 0, nil
}

// pending takes transactions from the source within the block's limits
// and returns them with their fees. It trusts the source for validity
// (the chain checks that) but not for the limits it was given: whatever
// would break a limit, or overflow reward + fees, is dropped.
func (m *Miner) pending(dataLen int, reward uint64) ([]*chain.Tx, uint64) {
	if m.txs == nil {
		return nil, 0
	}
	maxTxs := m.params.MaxBlockTxs - 1
	maxBytes := m.params.MaxBlockSize - fixedSize(dataLen)
	if maxTxs <= 0 || maxBytes < chain.MinTxSize {
		return nil, 0
	}
	offered := m.txs.Template(maxTxs, maxBytes)
	txs := make([]*chain.Tx, 0, min(len(offered), maxTxs))
	var size int
	var fees uint64
	for i, tx := range offered {
		if tx == nil {
			continue
		}
		total := reward + fees
		if len(txs) == maxTxs || size+tx.Size() > maxBytes || total+tx.Fee < total {
			m.log.Warn("transaction source offered more than the block holds; dropped the rest",
				"offered", len(offered), "dropped", len(offered)-i, "max_txs", maxTxs, "max_bytes", maxBytes)
			break
		}
		txs = append(txs, tx)
		size += tx.Size()
		fees += tx.Fee
	}
	return txs, fees
}
