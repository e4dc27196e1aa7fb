package store

import (
	"math/rand/v2"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/state"
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

// testChain builds a main chain of blocks with random transfers, keeps the
// state they lead to with package state, and produces the Updates a node
// would hand its store. Senders come from a pool of funded keys; the
// recipients are pool addresses or, with fresh set, new random addresses
// (so every transfer creates an account). The store validates nothing, but
// these blocks are valid for package state, so Changes and Undo are real.
type testChain struct {
	rng   *rand.Rand
	st    *state.State
	keys  []chain.PublicKey
	fresh bool
	keep  bool // keep history (blocks and undo records), needed to disconnect

	gen     *chain.Block // genesis, made once
	tip     *chain.Block
	history []*Update // connected blocks, genesis first (when keep)
}

// newTestChain returns a chain whose genesis funds pool keys; its first
// Update is genesis().
func newTestChain(seed uint64, pool int, fresh, keep bool) *testChain {
	c := &testChain{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), st: state.New(), fresh: fresh, keep: keep}
	for range pool {
		var k chain.PublicKey
		c.fill(k[:])
		c.keys = append(c.keys, k)
	}
	return c
}

func (c *testChain) fill(b []byte) {
	for i := range b {
		b[i] = byte(c.rng.Uint32())
	}
}

func (c *testChain) randomAddress() chain.Address {
	var a chain.Address
	c.fill(a[:])
	return a
}

// genesisBlock returns the genesis block, the same on every call.
func (c *testChain) genesisBlock() *chain.Block {
	if c.gen == nil {
		txs := make([]*chain.Tx, len(c.keys))
		for i, k := range c.keys {
			txs[i] = &chain.Tx{To: chain.AddressOf(k), Amount: genAllocation}
		}
		c.gen = c.seal(0, chain.ZeroHash, txs)
	}
	return c.gen
}

func (c *testChain) seal(height uint32, prev chain.Hash, txs []*chain.Tx) *chain.Block {
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

// genesis applies the genesis block and returns its Update.
func (c *testChain) genesis(t testing.TB) *Update {
	b := c.genesisBlock()
	undo, err := c.st.ApplyGenesis(b)
	if err != nil {
		t.Fatal(err)
	}
	return c.record(b, undo)
}

func (c *testChain) record(b *chain.Block, undo *state.Undo) *Update {
	u := &Update{Hash: b.Hash(), Block: b, Undo: undo, Changes: c.st.Changes(undo)}
	c.tip = b
	if c.keep {
		c.history = append(c.history, u)
	}
	return u
}

// build returns a block of ntx transfers plus a coinbase on top of the
// tip, without applying it.
func (c *testChain) build(ntx int) *chain.Block {
	height := c.tip.Header.Height + 1
	txs := make([]*chain.Tx, 1, ntx+1)
	nonces := make(map[chain.PublicKey]uint64)
	for range ntx {
		from := c.keys[c.rng.IntN(len(c.keys))]
		n, ok := nonces[from]
		if !ok {
			n = c.st.Get(chain.AddressOf(from)).Nonce
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
	return c.seal(height, c.tip.Hash(), txs)
}

// next builds a block of ntx transfers on the tip, applies it and returns
// its Update.
func (c *testChain) next(t testing.TB, ntx int) *Update {
	b := c.build(ntx)
	undo, err := c.st.ApplyBlock(b, genReward)
	if err != nil {
		t.Fatal(err)
	}
	return c.record(b, undo)
}

// undoTip undoes the tip and returns the Update that disconnects it.
func (c *testChain) undoTip(t testing.TB) *Update {
	if !c.keep || len(c.history) == 0 {
		t.Fatal("testChain: nothing to disconnect")
	}
	last := c.history[len(c.history)-1]
	c.history = c.history[:len(c.history)-1]
	c.st.UndoBlock(last.Undo)
	u := &Update{Hash: last.Hash, Block: last.Block, Undo: last.Undo, Changes: c.st.Changes(last.Undo)}
	if len(c.history) > 0 {
		c.tip = c.history[len(c.history)-1].Block
	} else {
		c.tip = nil
	}
	return u
}
