package store

import (
	"fmt"
	"sort"
	"sync"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/state"
)

// Memory is the Store contract kept in maps, for tests: nothing survives
// Close. Blocks are kept encoded and undo records copied, so a caller that
// changes a value after storing it, or a value it read, changes nothing
// stored. It is safe for concurrent use, except Close, which must be the
// last call.
type Memory struct {
	mu       sync.Mutex
	closed   bool
	blocks   map[chain.Hash][]byte
	headers  map[chain.Hash]HeaderRecord
	main     map[uint32]chain.Hash
	undo     map[chain.Hash]*state.Undo
	accounts map[chain.Address]state.Account
	txs      map[chain.Hash]TxLocation
	history  map[chain.Address][]HistoryEntry // by position, oldest first
	tip      TipState
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{
		blocks:   make(map[chain.Hash][]byte),
		headers:  make(map[chain.Hash]HeaderRecord),
		main:     make(map[uint32]chain.Hash),
		undo:     make(map[chain.Hash]*state.Undo),
		accounts: make(map[chain.Address]state.Account),
		txs:      make(map[chain.Hash]TxLocation),
		history:  make(map[chain.Address][]HistoryEntry),
	}
}

func copyUndo(u *state.Undo) *state.Undo {
	return &state.Undo{Prior: append([]state.Change(nil), u.Prior...)}
}

// PutBlock stores b unless it is stored already.
func (m *Memory) PutBlock(hash chain.Hash, b *chain.Block) error {
	if b == nil {
		return fmt.Errorf("put block %s: no block", hash)
	}
	if got := b.Hash(); got != hash {
		return fmt.Errorf("put block %s: the block hashes to %s", hash, got)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.putLocked(hash, b)
	return nil
}

func (m *Memory) putLocked(hash chain.Hash, b *chain.Block) {
	if _, ok := m.headers[hash]; ok {
		return
	}
	m.blocks[hash] = b.Encode()
	m.headers[hash] = HeaderRecord{Header: b.Header}
}

// Block returns a copy of a stored block.
func (m *Memory) Block(hash chain.Hash) (*chain.Block, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	enc, ok := m.blocks[hash]
	if !ok {
		return nil, fmt.Errorf("block %s: %w", hash, ErrNotFound)
	}
	blk, err := chain.DecodeBlock(enc)
	if err != nil { // cannot happen: enc is an encoding this store made
		return nil, fmt.Errorf("block %s: %w", hash, err)
	}
	return blk, nil
}

// MarkInvalid flags a stored block as invalid.
func (m *Memory) MarkInvalid(hash chain.Hash) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	rec, ok := m.headers[hash]
	if !ok {
		return fmt.Errorf("mark block %s invalid: %w", hash, ErrNotFound)
	}
	rec.Invalid = true
	m.headers[hash] = rec
	return nil
}

// ForEachHeader calls fn for a snapshot of the header records, taken
// before the first call, so fn may use the store.
func (m *Memory) ForEachHeader(fn func(HeaderRecord) error) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	recs := make([]HeaderRecord, 0, len(m.headers))
	for _, r := range m.headers {
		recs = append(recs, r)
	}
	m.mu.Unlock()
	for _, r := range recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// ConnectBlock applies u; see Store.
func (m *Memory) ConnectBlock(u *Update) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if err := CheckConnect(u, m.tip); err != nil {
		return err
	}
	h := &u.Block.Header
	if u.NotStored {
		// Written anew, as Pebble does without looking.
		delete(m.headers, u.Hash)
	} else if rec, ok := m.headers[u.Hash]; ok && rec.Invalid {
		return fmt.Errorf("connect block %d %s: the block is marked invalid", h.Height, u.Hash)
	}
	m.putLocked(u.Hash, u.Block)
	rec := m.headers[u.Hash]
	rec.Connected = true
	m.headers[u.Hash] = rec
	m.main[h.Height] = u.Hash
	m.undo[u.Hash] = copyUndo(u.Undo)
	m.applyChanges(u.Changes)
	ids := make([]chain.Hash, len(u.Block.Txs))
	for i, tx := range u.Block.Txs {
		ids[i] = tx.ID()
		m.txs[ids[i]] = TxLocation{Block: u.Hash, Height: h.Height, Index: i}
	}
	for _, ae := range AddressEntries(h.Height, u.Block, ids) {
		m.history[ae.Address] = append(m.history[ae.Address], ae.Entry)
	}
	m.tip = TipState{Hash: u.Hash, Height: h.Height, OK: true}
	return nil
}

// DisconnectBlock applies u; see Store.
func (m *Memory) DisconnectBlock(u *Update) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	newTip, err := CheckDisconnect(u, m.tip)
	if err != nil {
		return err
	}
	delete(m.main, u.Block.Header.Height)
	delete(m.undo, u.Hash)
	for _, tx := range u.Block.Txs {
		delete(m.txs, tx.ID())
	}
	// The block is the tip, so its entries are the last of each address.
	height := u.Block.Header.Height
	for _, ae := range AddressEntries(height, u.Block, make([]chain.Hash, len(u.Block.Txs))) {
		es := m.history[ae.Address]
		for len(es) > 0 && es[len(es)-1].Height == height {
			es = es[:len(es)-1]
		}
		if len(es) == 0 {
			delete(m.history, ae.Address)
		} else {
			m.history[ae.Address] = es
		}
	}
	m.applyChanges(u.Changes)
	m.tip = newTip
	return nil
}

func (m *Memory) applyChanges(cs []state.Change) {
	for _, c := range cs {
		if c.Account.IsZero() {
			delete(m.accounts, c.Address)
		} else {
			m.accounts[c.Address] = c.Account
		}
	}
}

// Sync does nothing: memory keeps nothing past Close.
func (m *Memory) Sync() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	return nil
}

// StartSync is Sync; wait has nothing to wait for.
func (m *Memory) StartSync() (func() error, error) {
	if err := m.Sync(); err != nil {
		return nil, err
	}
	return func() error { return nil }, nil
}

// Undo returns a copy of a main-chain block's undo record.
func (m *Memory) Undo(hash chain.Hash) (*state.Undo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	u, ok := m.undo[hash]
	if !ok {
		return nil, fmt.Errorf("undo record of block %s: %w", hash, ErrNotFound)
	}
	return copyUndo(u), nil
}

// Tip returns the tip.
func (m *Memory) Tip() (chain.Hash, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return chain.Hash{}, false, ErrClosed
	}
	return m.tip.Hash, m.tip.OK, nil
}

// MainHash returns the main-chain block hash at height.
func (m *Memory) MainHash(height uint32) (chain.Hash, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return chain.Hash{}, ErrClosed
	}
	h, ok := m.main[height]
	if !ok {
		return chain.Hash{}, fmt.Errorf("main-chain block at height %d: %w", height, ErrNotFound)
	}
	return h, nil
}

// TxLocation returns where a main-chain transaction is.
func (m *Memory) TxLocation(id chain.Hash) (TxLocation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return TxLocation{}, ErrClosed
	}
	loc, ok := m.txs[id]
	if !ok {
		return TxLocation{}, fmt.Errorf("transaction %s: %w", id, ErrNotFound)
	}
	return loc, nil
}

// AddressHistory returns a page of addr's history, newest first.
func (m *Memory) AddressHistory(addr chain.Address, before *TxPosition, limit int) ([]HistoryEntry, error) {
	if err := CheckHistoryQuery(limit); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	es := m.history[addr]
	end := len(es)
	if before != nil {
		end = sort.Search(len(es), func(i int) bool { return !es[i].TxPosition.Less(*before) })
	}
	out := make([]HistoryEntry, 0, min(limit, end))
	for i := end - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, es[i])
	}
	return out, nil
}

// ForEachAccount calls fn for a snapshot of the accounts, taken before the
// first call, so fn may use the store.
func (m *Memory) ForEachAccount(fn func(chain.Address, state.Account) error) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	type entry struct {
		addr chain.Address
		acct state.Account
	}
	entries := make([]entry, 0, len(m.accounts))
	for a, acct := range m.accounts {
		entries = append(entries, entry{a, acct})
	}
	m.mu.Unlock()
	for _, e := range entries {
		if err := fn(e.addr, e.acct); err != nil {
			return err
		}
	}
	return nil
}

// Close drops everything; later calls return ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.closed = true
	m.blocks, m.headers, m.main, m.undo, m.accounts, m.txs, m.history = nil, nil, nil, nil, nil, nil, nil
	return nil
}
