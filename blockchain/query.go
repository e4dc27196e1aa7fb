package blockchain

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/state"
	"github.com/chaind/chaind/store"
)

// Sync bounds.
const (
	// MaxLocatorHashes bounds a block locator.
	MaxLocatorHashes = 64
	// MaxHeadersPerRequest bounds a "headers after locator" answer.
	MaxHeadersPerRequest = 2000
	// locatorDenseHashes is how many of the most recent blocks a locator
	// names one by one before its steps start doubling.
	locatorDenseHashes = 10
)

// ErrNotFound is returned when a block, height or transaction is unknown.
var ErrNotFound = store.ErrNotFound

// Params returns the network's consensus parameters.
func (bc *Blockchain) Params() *consensus.Params { return bc.params }

// Tip describes the main chain's tip.
type Tip struct {
	Hash   chain.Hash
	Height uint32
	Header chain.Header
	Work   *big.Int // cumulative
}

// Tip returns the main chain's tip.
func (bc *Blockchain) Tip() Tip {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	t := bc.main.tip()
	return Tip{Hash: t.hash, Height: t.height(), Header: t.header, Work: new(big.Int).Set(t.work)}
}

// Height returns the main chain's height.
func (bc *Blockchain) Height() uint32 {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	return bc.main.tip().height()
}

// HashAt returns the main-chain block hash at height.
func (bc *Blockchain) HashAt(height uint32) (chain.Hash, error) {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	if int(height) >= len(bc.main) {
		return chain.Hash{}, fmt.Errorf("height %d above tip %d: %w", height, len(bc.main)-1, ErrNotFound)
	}
	return bc.main[height].hash, nil
}

// BlockAt returns the main-chain block at height.
func (bc *Blockchain) BlockAt(height uint32) (*chain.Block, error) {
	h, err := bc.HashAt(height)
	if err != nil {
		return nil, err
	}
	return bc.store.Block(h)
}

// Block returns a stored block by hash (on any branch).
func (bc *Blockchain) Block(hash chain.Hash) (*chain.Block, error) {
	bc.mu.RLock()
	n, ok := bc.index[hash]
	var body *chain.Block
	if ok {
		body = n.body
	}
	bc.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("block %s: %w", hash, ErrNotFound)
	}
	if body != nil {
		// Between its acceptance and its connect: not stored yet. A copy,
		// as the store would give.
		return chain.DecodeBlock(body.Encode())
	}
	return bc.store.Block(hash)
}

// BlockInfo describes where a known block stands.
type BlockInfo struct {
	Header    chain.Header
	MainChain bool
	Invalid   bool
	Work      *big.Int // cumulative
}

// BlockInfo returns what the index knows of hash.
func (bc *Blockchain) BlockInfo(hash chain.Hash) (BlockInfo, bool) {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	n, ok := bc.index[hash]
	if !ok {
		return BlockInfo{}, false
	}
	return BlockInfo{Header: n.header, MainChain: bc.main.contains(n), Invalid: n.invalid, Work: new(big.Int).Set(n.work)}, true
}

// FirstInvalid returns the index in hashes of the first block the index
// knows to be invalid, or -1: one lock for a whole headers message.
func (bc *Blockchain) FirstInvalid(hashes []chain.Hash) int {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	for i, h := range hashes {
		if n, ok := bc.index[h]; ok && n.invalid {
			return i
		}
	}
	return -1
}

// HaveBlock reports whether hash is in the index or the orphan pool.
func (bc *Blockchain) HaveBlock(hash chain.Hash) bool {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	_, ok := bc.index[hash]
	return ok || bc.orphans.has(hash)
}

// OrphanRoot returns the first missing ancestor of an orphan: the block to
// fetch so the orphan can connect.
func (bc *Blockchain) OrphanRoot(hash chain.Hash) chain.Hash {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	return bc.orphans.root(hash)
}

// OrphanCount returns how many orphans are held.
func (bc *Blockchain) OrphanCount() int {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	return bc.orphans.len()
}

// Account returns the tip state of addr.
func (bc *Blockchain) Account(addr chain.Address) state.Account {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	return bc.state.Get(addr)
}

// Accounts calls fn for every account of the tip state, under the read
// lock; fn must not call back into the chain.
func (bc *Blockchain) Accounts(fn func(chain.Address, state.Account)) {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	bc.state.ForEach(fn)
}

// TxLocation returns where a main-chain transaction is and how many
// confirmations it has.
func (bc *Blockchain) TxLocation(id chain.Hash) (store.TxLocation, uint32, error) {
	loc, err := bc.store.TxLocation(id)
	if err != nil {
		return loc, 0, err
	}
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	if int(loc.Height) >= len(bc.main) || bc.main[loc.Height].hash != loc.Block {
		return loc, 0, fmt.Errorf("transaction %s: %w", id, ErrNotFound) // raced with a reorg
	}
	return loc, bc.main.tip().height() - loc.Height + 1, nil
}

// Template is what a miner needs to build the next block on the tip.
type Template struct {
	PrevHash chain.Hash
	Height   uint32
	Bits     uint32
	MinTime  uint32 // the timestamp must be greater than this (median time)
	Reward   uint64
}

// NextTemplate returns the context of the block after the tip.
func (bc *Blockchain) NextTemplate() Template {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	tip := bc.main.tip()
	pc := parentContext(tip, bc.main)
	return Template{
		PrevHash: tip.hash,
		Height:   tip.height() + 1,
		Bits:     consensus.NextBits(bc.params, pc),
		MinTime:  pc.MedianTime,
		Reward:   bc.params.Reward(tip.height() + 1),
	}
}

// Locator returns a block locator for the main chain: the tip and the nine
// blocks before it, then hashes spaced exponentially back, ending with
// genesis.
func (bc *Blockchain) Locator() []chain.Hash {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	return locator(bc.main)
}

func locator(m mainChain) []chain.Hash {
	var out []chain.Hash
	step := 1
	for h := len(m) - 1; h > 0 && len(out) < MaxLocatorHashes-1; h -= step {
		out = append(out, m[h].hash)
		if len(out) >= locatorDenseHashes {
			step *= 2
		}
	}
	return append(out, m[0].hash)
}

// HeadersAfter answers a locator: main-chain headers after the first
// locator hash on our main chain (genesis when none is), up to max and
// stopping after stop when stop is non-zero.
func (bc *Blockchain) HeadersAfter(loc []chain.Hash, stop chain.Hash, max int) ([]chain.Header, error) {
	if len(loc) > MaxLocatorHashes {
		return nil, fmt.Errorf("locator of %d hashes exceeds %d", len(loc), MaxLocatorHashes)
	}
	if max <= 0 || max > MaxHeadersPerRequest {
		max = MaxHeadersPerRequest
	}
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	start := uint32(0)
	for _, h := range loc {
		if n, ok := bc.index[h]; ok && bc.main.contains(n) {
			start = n.height()
			break
		}
	}
	var out []chain.Header
	for h := int(start) + 1; h < len(bc.main) && len(out) < max; h++ {
		out = append(out, bc.main[h].header)
		if bc.main[h].hash == stop {
			break
		}
	}
	return out, nil
}

// IsNotFound reports whether err means something is not stored or known.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// OrphanBytes returns the encoded size of the orphans held.
func (bc *Blockchain) OrphanBytes() int {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	return bc.orphans.bytes
}

// HistoryItem is one main-chain transaction of an address's history, with
// its block.
type HistoryItem struct {
	store.HistoryEntry
	Block     chain.Hash
	Timestamp uint32
}

// AddressHistory returns up to limit (1..store.MaxHistoryPage) items of
// addr's main-chain history, newest first, starting strictly before
// *before (from the newest when before is nil), from the store's address
// index. Items above the tip (disconnected since the store was read) are
// left out; an item of a height a reorg replaced in between shows the new
// block: a new call sees the new main chain whole.
func (bc *Blockchain) AddressHistory(addr chain.Address, before *store.TxPosition, limit int) ([]HistoryItem, error) {
	es, err := bc.store.AddressHistory(addr, before, limit)
	if err != nil {
		return nil, err
	}
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	out := make([]HistoryItem, 0, len(es))
	for _, e := range es {
		if int(e.Height) >= len(bc.main) {
			continue // disconnected since the store was read
		}
		n := bc.main[e.Height]
		out = append(out, HistoryItem{HistoryEntry: e, Block: n.hash, Timestamp: n.header.Timestamp})
	}
	return out, nil
}

// SigCache returns the chain's verified-signature cache, nil when
// Config.SigCacheEntries turned it off. Block validation looks up in it
// and does not add to it; the mempool adds the transactions it admits
// (mempool.Config.SigCache), and the chain removes those of blocks
// SigCacheKeepDepth deep. Safe for concurrent use.
func (bc *Blockchain) SigCache() *consensus.SigCache { return bc.sigs }
