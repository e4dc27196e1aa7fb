package storetest

import (
	"math/rand/v2"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/state"
	"github.com/chaind/chaind/store"
)

// Parameters of the generated test chains.
const (
	genReward       = 50_0000_0000  // coinbase reward per block
	genAllocation   = 1_000_000_000 // genesis balance of every sender key
	genTxAmount     = 3             // amount of every transfer
	genTxFee        = 1             // fee of every transfer
	genBits         = 0x207fffff    // any value: the store does not check PoW
	genFirstTime    = 1_700_000_000 // timestamp of genesis
	genBlockSpacing = 10            // seconds between block timestamps
)

// Chain builds a main chain of blocks with random transfers, keeps the
// state they lead to with package state, and produces the Updates a node
// would hand its store. Senders come from a pool of funded keys; the
// recipients are pool addresses or, with fresh set, new random addresses
// (so every transfer creates an account). The store validates nothing, but
// these blocks are valid for package state, so Changes and Undo are real.
type Chain struct {
	rng   *rand.Rand
	State *state.State
	keys  []chain.PublicKey
	fresh bool
	keep  bool // keep history (blocks and undo records), needed to disconnect

	gen     *chain.Block // genesis, made once
	tip     *chain.Block
	History []*store.Update // connected blocks, genesis first (when keep)
}

// NewChain returns a chain whose genesis funds pool keys; its first
// Update is genesis().
func NewChain(seed uint64, pool int, fresh, keep bool) *Chain {
	c := &Chain{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), State: state.New(), fresh: fresh, keep: keep}
	for range pool {
		var k chain.PublicKey
		c.fill(k[:])
		c.keys = append(c.keys, k)
	}
	return c
}

func (c *Chain) fill(b []byte) {
	for i := range b {
		b[i] = byte(c.rng.Uint32())
	}
}

func (c *Chain) randomAddress() chain.Address {
	var a chain.Address
	c.fill(a[:])
	return a
}

// GenesisBlock returns the genesis block, the same on every call.
func (c *Chain) GenesisBlock() *chain.Block {
	if c.gen == nil {
		txs := make([]*chain.Tx, len(c.keys))
		for i, k := range c.keys {
			txs[i] = &chain.Tx{To: chain.AddressOf(k), Amount: genAllocation}
		}
		c.gen = c.Seal(0, chain.ZeroHash, txs)
	}
	return c.gen
}

// Seal makes a block at height on prev with txs (the store checks no proof
// of work, so any nonce will do).
func (c *Chain) Seal(height uint32, prev chain.Hash, txs []*chain.Tx) *chain.Block {
	b := &chain.Block{Txs: txs, Data: []byte("store test")}
	b.Header = chain.Header{
		Version:    1,
		Height:     height,
		PrevHash:   prev,
		MerkleRoot: chain.MerkleRoot(chain.TxIDs(txs)),
		DataHash:   chain.DataHash(b.Data),
		Timestamp:  genFirstTime + genBlockSpacing*height,
		Bits:       genBits,
		Nonce:      c.rng.Uint64(),
	}
	return b
}

// Genesis applies the genesis block and returns its Update.
func (c *Chain) Genesis(t testing.TB) *store.Update {
	b := c.GenesisBlock()
	undo, err := c.State.ApplyGenesis(b)
	if err != nil {
		t.Fatal(err)
	}
	return c.Record(b, undo)
}

// Record returns the Update that connects b with undo, and keeps it in
// History when the chain keeps history.
func (c *Chain) Record(b *chain.Block, undo *state.Undo) *store.Update {
	u := &store.Update{Hash: b.Hash(), Block: b, Undo: undo, Changes: c.State.Changes(undo)}
	c.tip = b
	if c.keep {
		c.History = append(c.History, u)
	}
	return u
}

// Build returns a block of ntx transfers plus a coinbase on top of the
// tip, without applying it.
func (c *Chain) Build(ntx int) *chain.Block {
	height := c.tip.Header.Height + 1
	txs := make([]*chain.Tx, 1, ntx+1)
	nonces := make(map[chain.PublicKey]uint64)
	for range ntx {
		from := c.keys[c.rng.IntN(len(c.keys))]
		n, ok := nonces[from]
		if !ok {
			n = c.State.Get(chain.AddressOf(from)).Nonce
		}
		nonces[from] = n + 1
		to := chain.AddressOf(c.keys[c.rng.IntN(len(c.keys))])
		if c.fresh {
			to = c.randomAddress()
		}
		tx := &chain.Tx{From: from, To: to, Amount: genTxAmount, Fee: genTxFee, Nonce: n}
		c.fill(tx.Signature[:])
		txs = append(txs, tx)
	}
	txs[0] = &chain.Tx{To: c.randomAddress(), Amount: genReward + uint64(ntx)*genTxFee, Nonce: uint64(height)}
	return c.Seal(height, c.tip.Hash(), txs)
}

// Next builds a block of ntx transfers on the tip, applies it and returns
// its Update.
func (c *Chain) Next(t testing.TB, ntx int) *store.Update {
	b := c.Build(ntx)
	undo, err := c.State.ApplyBlock(b, genReward)
	if err != nil {
		t.Fatal(err)
	}
	return c.Record(b, undo)
}

// UndoTip undoes the tip and returns the Update that disconnects it.
func (c *Chain) UndoTip(t testing.TB) *store.Update {
	if !c.keep || len(c.History) == 0 {
		t.Fatal("Chain: nothing to disconnect")
	}
	last := c.History[len(c.History)-1]
	c.History = c.History[:len(c.History)-1]
	c.State.UndoBlock(last.Undo)
	u := &store.Update{Hash: last.Hash, Block: last.Block, Undo: last.Undo, Changes: c.State.Changes(last.Undo)}
	if len(c.History) > 0 {
		c.tip = c.History[len(c.History)-1].Block
	} else {
		c.tip = nil
	}
	return u
}
