package chaintest

import (
	"math/rand"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/parallel"
	"github.com/chaind/chaind/state"
	"github.com/chaind/chaind/wallet"
)

// Branch extends a chain block by block, tracking the state it implies so
// the transactions it makes are valid: nonces in order, spends within
// balances. Copy a branch with Fork to build a competing one.
type Branch struct {
	P      *consensus.Params
	Keys   []*wallet.Key
	Blocks []*chain.Block // Blocks[0] is the branch's base (e.g. genesis)
	State  *state.State
	Miner  chain.Address
	Memo   string // coinbase memo, so two branches never build the same block
}

// NewBranch starts a branch at p's genesis.
func NewBranch(p *consensus.Params, keys []*wallet.Key) *Branch {
	g := p.Genesis()
	s := state.New()
	if _, err := s.ApplyGenesis(g); err != nil {
		panic(err)
	}
	return &Branch{P: p, Keys: keys, Blocks: []*chain.Block{g}, State: s, Miner: keys[0].Address()}
}

// Tip returns the last block.
func (br *Branch) Tip() *chain.Block { return br.Blocks[len(br.Blocks)-1] }

// Fork returns an independent copy of br to extend differently.
func (br *Branch) Fork(memo string) *Branch {
	s := state.New()
	br.State.ForEach(func(a chain.Address, acct state.Account) { s.Set(a, acct) })
	return &Branch{P: br.P, Keys: br.Keys, Blocks: append([]*chain.Block(nil), br.Blocks...), State: s, Miner: br.Miner, Memo: memo}
}

// RandomTxs returns n valid transfers between the branch's keys, given its
// current state, signed on all cores (a benchmark chain signs millions).
func (br *Branch) RandomTxs(rng *rand.Rand, n int) []*chain.Tx {
	pending := map[chain.Address]state.Account{}
	txs := make([]*chain.Tx, 0, n)
	signers := make([]*wallet.Key, 0, n)
	for len(txs) < n {
		from := br.Keys[rng.Intn(len(br.Keys))]
		to := br.Keys[rng.Intn(len(br.Keys))].Address()
		addr := from.Address()
		acct, ok := pending[addr]
		if !ok {
			acct = br.State.Get(addr)
		}
		if acct.Balance < 1000 {
			continue
		}
		amount := 1 + uint64(rng.Int63n(int64(acct.Balance/100)))
		fee := uint64(rng.Intn(10))
		txs = append(txs, &chain.Tx{To: to, Amount: amount, Fee: fee, Nonce: acct.Nonce})
		signers = append(signers, from)
		acct.Balance -= amount + fee
		acct.Nonce++
		pending[addr] = acct
	}
	signAll(txs, signers, br.P.GenesisHash())
	return txs
}

// signAll signs txs[i] with signers[i], spread over all cores.
func signAll(txs []*chain.Tx, signers []*wallet.Key, netID chain.Hash) {
	parallel.For(len(txs), minSignsPerWorker, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			signers[i].SignTx(txs[i], netID)
		}
	})
}

// minSignsPerWorker is the smallest share of signatures worth a goroutine.
const minSignsPerWorker = 4

// Next builds, solves and appends a block with txs, applying it to the
// branch state. Bits and time come from spec when set there.
func (br *Branch) Next(txs []*chain.Tx, spec Spec) *chain.Block {
	parent := &br.Tip().Header
	spec.Parent = parent
	spec.Txs = txs
	if spec.Miner == (chain.Address{}) {
		spec.Miner = br.Miner
	}
	if spec.Memo == "" {
		spec.Memo = br.Memo
	}
	spec.Reward = br.P.Reward(parent.Height + 1)
	if spec.Bits == 0 && !br.P.NoRetarget {
		pc := consensus.ParentContext{Parent: parent}
		if len(br.Blocks) > consensus.AnchorHeight {
			pc.Anchor = &br.Blocks[consensus.AnchorHeight].Header
		}
		if n := len(br.Blocks); n >= 2 {
			pc.GrandparentTime = br.Blocks[n-2].Header.Timestamp
		}
		spec.Bits = consensus.NextBits(br.P, pc)
	}
	if spec.Time == 0 {
		times := []uint32{}
		for i := len(br.Blocks) - 1; i >= 0 && len(times) < consensus.MedianTimeBlocks; i-- {
			times = append(times, br.Blocks[i].Header.Timestamp)
		}
		spec.Time = max(parent.Timestamp+1, consensus.MedianTime(times)+1)
	}
	b := Block(spec)
	if _, err := br.State.ApplyBlock(b, spec.Reward); err != nil {
		panic("chaintest: built an invalid block: " + err.Error())
	}
	br.Blocks = append(br.Blocks, b)
	return b
}

// Extend appends n blocks, each with txsPerBlock random transfers.
func (br *Branch) Extend(rng *rand.Rand, n, txsPerBlock int) []*chain.Block {
	out := make([]*chain.Block, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, br.Next(br.RandomTxs(rng, txsPerBlock), Spec{}))
	}
	return out
}

// BranchOn starts a branch at a chain's tip: recent are the last blocks up
// to and including the tip (at least MedianTimeBlocks of them when the
// chain is that long, for the median-time rule) and s is the tip's state.
func BranchOn(p *consensus.Params, keys []*wallet.Key, recent []*chain.Block, s *state.State) *Branch {
	return &Branch{P: p, Keys: keys, Blocks: recent, State: s, Miner: keys[0].Address()}
}
