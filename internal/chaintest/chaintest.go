// Package chaintest builds valid and deliberately invalid chain data for
// tests: deterministic keys, a regtest network that funds them, signed
// transactions and solved blocks on any parent. Tests of every layer (chain
// rules, storage, mempool, network) share it, and the rule vectors.
package chaintest

import (
	"crypto/sha256"
	"fmt"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/wallet"
)

// Key returns the i-th deterministic test key.
func Key(i int) *wallet.Key {
	seed := sha256.Sum256([]byte(fmt.Sprintf("chaind test key %d", i)))
	k, err := wallet.KeyFromSeed(seed[:])
	if err != nil {
		panic(err)
	}
	return k
}

// Keys returns test keys 0..n-1.
func Keys(n int) []*wallet.Key {
	ks := make([]*wallet.Key, n)
	for i := range ks {
		ks[i] = Key(i)
	}
	return ks
}

// Params returns a regtest network (trivial PoW, no retarget) whose genesis
// gives each key `each` base units.
func Params(keys []*wallet.Key, each uint64) *consensus.Params {
	p := consensus.Regtest()
	for _, k := range keys {
		p.Allocations = append(p.Allocations, consensus.Allocation{Address: k.Address(), Amount: each})
	}
	return p
}

// Tx returns a transaction from key signed for network p.
func Tx(p *consensus.Params, from *wallet.Key, to chain.Address, amount, fee, nonce uint64) *chain.Tx {
	tx := &chain.Tx{To: to, Amount: amount, Fee: fee, Nonce: nonce}
	from.SignTx(tx, p.GenesisHash())
	return tx
}

// Spec describes a block to build.
type Spec struct {
	Parent *chain.Header
	Bits   uint32 // 0: the parent's bits
	Time   uint32 // 0: parent's time + 1
	Miner  chain.Address
	Data   string
	Txs    []*chain.Tx // after the coinbase
	Reward uint64      // coinbase pays Reward + fees
	Memo   string      // coinbase memo, to make otherwise equal blocks differ
}

// Block builds the block of s with a correct coinbase, merkle root and data
// hash, and solves its proof of work.
func Block(s Spec) *chain.Block {
	b := Unsolved(s)
	Solve(b)
	return b
}

// Unsolved is Block without the proof-of-work search, for tests that
// tamper with a block and then solve it.
func Unsolved(s Spec) *chain.Block {
	var fees uint64
	for _, tx := range s.Txs {
		fees += tx.Fee
	}
	height := s.Parent.Height + 1
	cb := &chain.Tx{To: s.Miner, Amount: s.Reward + fees, Nonce: uint64(height), Memo: []byte(s.Memo)}
	b := &chain.Block{Data: []byte(s.Data), Txs: append([]*chain.Tx{cb}, s.Txs...)}
	bits, t := s.Bits, s.Time
	if bits == 0 {
		bits = s.Parent.Bits
	}
	if t == 0 {
		t = s.Parent.Timestamp + 1
	}
	b.Header = chain.Header{
		Version:   consensus.BlockVersion,
		Height:    height,
		PrevHash:  s.Parent.Hash(),
		Timestamp: t,
		Bits:      bits,
	}
	Seal(b)
	return b
}

// Seal recomputes the merkle root and data hash of b (after tampering).
func Seal(b *chain.Block) {
	b.Header.MerkleRoot = chain.MerkleRoot(chain.TxIDs(b.Txs))
	b.Header.DataHash = chain.DataHash(b.Data)
}

// Solve searches nonces until b's hash meets its target.
func Solve(b *chain.Block) {
	target, ok := consensus.CompactToBig(b.Header.Bits)
	if !ok {
		panic(fmt.Sprintf("chaintest: bad bits %08x", b.Header.Bits))
	}
	tb := consensus.TargetBytes(target)
	hh := chain.NewHeaderHasher(&b.Header)
	for start := uint64(0); ; start += 1 << 20 {
		if nonce, _, found := hh.SearchNonces(start, 1<<20, &tb); found {
			b.Header.Nonce = nonce
			return
		}
	}
}

// Unsolve changes b's nonce until its hash is above its target, for
// proof-of-work failure tests.
func Unsolve(b *chain.Block) {
	target, _ := consensus.CompactToBig(b.Header.Bits)
	for consensus.HashToBig(b.Hash()).Cmp(target) <= 0 {
		b.Header.Nonce++
	}
}
