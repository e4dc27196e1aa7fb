package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/record"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/state"
	"github.com/chaind/chaind/store"
)

// Bounds and tuning of the Pebble store.
const (
	// MaxNetworkNameSize bounds the network name recorded in a data directory.
	MaxNetworkNameSize = 64
	// cacheSize is Pebble's block cache, shared by reads of all records.
	cacheSize = 64 << 20
	// dirPerm is the permission of a data directory Open creates.
	dirPerm = 0o700
)

// Option configures Open.
type Option func(*openOptions)

type openOptions struct {
	logger  *slog.Logger
	minFree uint64
}

// WithLogger sends Pebble's own log lines to l: informational ones (WAL
// recovery, compactions) at debug level, errors at error level. Without it
// they go to slog.Default() at the same levels.
func WithLogger(l *slog.Logger) Option {
	return func(o *openOptions) { o.logger = l }
}

// Store is a store.Store on a Pebble database in one data directory. It is
// safe for concurrent use, except Close, which must be the last call.
type Store struct {
	dir  string
	db   *pebble.DB
	lock *pebble.Lock

	closed atomic.Bool
	space  *spaceGuard

	// seq is the sequence number of the last connect or disconnect batch
	// committed; synced records the last one a sync covered (synced.go).
	seq    atomic.Uint64
	synced *syncedFile

	// mu serializes writers: the tip check and the commit of a connect or
	// disconnect, and the read-modify-write of header records.
	mu  sync.Mutex
	tip store.TipState // the committed tip; guarded by mu

	// noAddressIndex leaves the address index out of connects and
	// disconnects. Only this package's benchmarks set it, to measure what
	// the index costs; a store in use always keeps the index.
	noAddressIndex bool
}

var _ store.Store = (*Store)(nil)

// Open opens or creates the store in dir for the network named network
// whose genesis block hash is genesis. A new directory records both; a
// directory made for another network gives an error wrapping
// ErrWrongNetwork, one held by another process an error wrapping ErrInUse.
func Open(dir string, network string, genesis chain.Hash, opts ...Option) (*Store, error) {
	o := openOptions{logger: slog.Default(), minFree: DefaultMinFreeBytes}
	for _, opt := range opts {
		opt(&o)
	}
	if network == "" || len(network) > MaxNetworkNameSize {
		return nil, fmt.Errorf("open store: network name must be 1 to %d bytes, got %d", MaxNetworkNameSize, len(network))
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("open store: create data directory: %w", err)
	}
	space := &spaceGuard{dir: dir, min: o.minFree}
	if err := space.check(); err != nil {
		// Fail fast: Pebble replaying its log or compacting on a full
		// disk would fail somewhere inside, after a long wait.
		return nil, fmt.Errorf("open store: %w", err)
	}
	lock, err := pebble.LockDirectory(dir, vfs.Default)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("open store: create lock file in %s: %w", dir, err)
		}
		// The lock file exists and could not be locked: fcntl says another
		// process holds it, or Pebble says this process does.
		return nil, fmt.Errorf("data directory %s is in use by another chaind process (%w: %v)", dir, store.ErrInUse, err)
	}
	cache := pebble.NewCache(cacheSize)
	defer cache.Unref() // the DB holds its own reference
	db, err := pebble.Open(dir, &pebble.Options{
		Lock:   lock,
		Cache:  cache,
		Logger: pebbleLogger{o.logger.With("sys", "store")},
		// Pebble's default answer to a checksum mismatch is Fatalf (a
		// panic here). The read that met it returns the corruption
		// error, which damaged turns into advice: log it and go on.
		EventListener: &pebble.EventListener{DataCorruption: func(info pebble.DataCorruptionInfo) {
			o.logger.Error("on-disk corruption found by a read", "sys", "store", "dir", dir, "info", info.String())
		}},
		FormatMajorVersion: pebble.FormatNewest,
	})
	if err != nil {
		return nil, errors.Join(damaged(dir, fmt.Errorf("open store in %s: %w", dir, err)), lock.Close())
	}
	p := &Store{dir: dir, db: db, lock: lock, space: space}
	if err := p.init(network, genesis); err != nil {
		return nil, errors.Join(err, p.Close())
	}
	if err := p.initSynced(o.logger); err != nil {
		return nil, errors.Join(err, p.Close())
	}
	return p, nil
}

// init checks or writes the metadata and loads the tip.
func (p *Store) init(network string, genesis chain.Hash) error {
	var version uint32
	err := p.get(metaKey(metaVersion), func(v []byte) error {
		if len(v) != versionSize {
			return fmt.Errorf("format version is %d bytes, want %d", len(v), versionSize)
		}
		version = binary.BigEndian.Uint32(v)
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return p.create(network, genesis)
	case err != nil:
		return fmt.Errorf("open store in %s: %w", p.dir, err)
	case version == versionNoAddressIndex || version == versionAddressEntries:
		// Checked below like any store, then upgraded.
	case version != formatVersion:
		return fmt.Errorf("open store in %s: store format version %d is not supported; this chaind reads version %d only", p.dir, version, formatVersion)
	}

	var gotNetwork string
	var gotGenesis chain.Hash
	if err := p.getRequired(metaKey(metaNetwork), func(v []byte) error {
		if len(v) == 0 || len(v) > MaxNetworkNameSize {
			return fmt.Errorf("network name is %d bytes, want 1 to %d", len(v), MaxNetworkNameSize)
		}
		gotNetwork = string(v)
		return nil
	}); err != nil {
		return fmt.Errorf("open store in %s: %w", p.dir, err)
	}
	if err := p.getRequired(metaKey(metaGenesis), func(v []byte) (err error) {
		gotGenesis, err = decodeHash(v)
		return err
	}); err != nil {
		return fmt.Errorf("open store in %s: %w", p.dir, err)
	}
	if gotNetwork != network || gotGenesis != genesis {
		return fmt.Errorf("%w: data directory %s belongs to network %q (genesis %s), not to network %q (genesis %s)",
			store.ErrWrongNetwork, p.dir, gotNetwork, gotGenesis, network, genesis)
	}
	if err := p.loadTip(); err != nil {
		return fmt.Errorf("open store in %s: %w", p.dir, err)
	}
	if version != formatVersion {
		if err := p.upgrade(); err != nil {
			return fmt.Errorf("open store in %s: upgrade from format version %d: %w", p.dir, version, err)
		}
	}
	return nil
}

// upgradeBatchBlocks is how many blocks one batch of an upgrade covers.
const upgradeBatchBlocks = 1000

// upgrade brings a store of an earlier format version to formatVersion:
// it drops the address index of the old layout (none in version 1),
// indexes the main chain again and marks its blocks connected in their
// header records, then records the current version. Each batch is synced;
// the version is written last, so an upgrade cut short by a crash runs
// again from the start at the next Open. Side-branch blocks of an
// upgraded store are not marked connected: the old layouts did not say
// whether they were.
func (p *Store) upgrade() error {
	b := p.db.NewBatch()
	if err := b.DeleteRange([]byte{prefixAddress}, []byte{prefixAddress + 1}, nil); err != nil {
		return errors.Join(err, b.Close())
	}
	for h := uint32(0); p.tip.OK && h <= p.tip.Height; h++ {
		hash, err := p.MainHash(h)
		if err != nil {
			return errors.Join(err, b.Close())
		}
		blk, err := p.Block(hash)
		if err != nil {
			return errors.Join(err, b.Close())
		}
		rec, err := p.headerRecord(hash)
		if err != nil {
			return errors.Join(fmt.Errorf("header record of main-chain block %d %s: %w", h, hash, err), b.Close())
		}
		var errs []error
		if !rec.Connected {
			rec.Connected = true
			errs = append(errs, b.Set(hashKey(prefixHeader, hash), encodeHeaderRecord(rec), nil))
		}
		for _, g := range addressGroups(blk) {
			errs = append(errs, b.Set(addressKey(g.addr, h), g.indexes, nil))
		}
		if err := errors.Join(errs...); err != nil {
			return errors.Join(err, b.Close())
		}
		if (h+1)%upgradeBatchBlocks == 0 {
			if err := errors.Join(b.Commit(pebble.Sync), b.Close()); err != nil {
				return fmt.Errorf("write address index up to height %d: %w", h, err)
			}
			b = p.db.NewBatch()
		}
	}
	var v [versionSize]byte
	binary.BigEndian.PutUint32(v[:], formatVersion)
	if err := errors.Join(b.Set(metaKey(metaVersion), v[:], nil), b.Commit(pebble.Sync), b.Close()); err != nil {
		return fmt.Errorf("write format version: %w", err)
	}
	return nil
}

// create writes the metadata of a new store, after checking that the
// directory holds no other database.
func (p *Store) create(network string, genesis chain.Hash) error {
	it, err := p.db.NewIter(nil)
	if err != nil {
		return fmt.Errorf("open store in %s: %w", p.dir, err)
	}
	nonEmpty := it.First()
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return fmt.Errorf("open store in %s: %w", p.dir, err)
	}
	if nonEmpty {
		return fmt.Errorf("open store in %s: %w: the database has records but no format version; it is not a chaind store",
			p.dir, store.ErrCorrupt)
	}
	b := p.db.NewBatch()
	defer b.Close()
	var v [versionSize]byte
	binary.BigEndian.PutUint32(v[:], formatVersion)
	if err := errors.Join(
		b.Set(metaKey(metaVersion), v[:], nil),
		b.Set(metaKey(metaNetwork), []byte(network), nil),
		b.Set(metaKey(metaGenesis), genesis[:], nil),
		b.Commit(pebble.Sync),
	); err != nil {
		return fmt.Errorf("open store in %s: write metadata: %w", p.dir, err)
	}
	return nil
}

// loadTip reads the tip and checks that its header record and height
// index entry agree with it.
func (p *Store) loadTip() error {
	var tip chain.Hash
	err := p.get(tipKey, func(v []byte) (err error) {
		tip, err = decodeHash(v)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		p.tip = store.TipState{}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read tip: %w", err)
	}
	rec, err := p.headerRecord(tip)
	if errors.Is(err, store.ErrNotFound) {
		return corrupt(hashKey(prefixHeader, tip), errors.New("missing, but the block is the tip"))
	}
	if err != nil {
		return fmt.Errorf("read tip: %w", err)
	}
	height := rec.Header.Height
	main, err := p.MainHash(height)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return corrupt(heightKey(height), fmt.Errorf("missing, but the tip %s is at height %d", tip, height))
	case err != nil:
		return fmt.Errorf("read tip: %w", err)
	case main != tip:
		return corrupt(heightKey(height), fmt.Errorf("holds %s, but the tip %s is at height %d", main, tip, height))
	}
	p.tip = store.TipState{Hash: tip, Height: height, OK: true}
	return nil
}

// get reads key k and hands its value to decode, which must copy what it
// keeps. It returns ErrNotFound for a missing key and a corruption error
// naming k when decode fails.
func (p *Store) get(k []byte, decode func([]byte) error) error {
	v, closer, err := p.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return store.ErrNotFound
	}
	if err != nil {
		return damaged(p.dir, fmt.Errorf("read key %s: %w", keyName(k), err))
	}
	derr := decode(v)
	if err := closer.Close(); err != nil {
		return fmt.Errorf("read key %s: %w", keyName(k), err)
	}
	if derr != nil {
		return corrupt(k, derr)
	}
	return nil
}

// getRequired is get for a key that must exist: absence is corruption.
func (p *Store) getRequired(k []byte, decode func([]byte) error) error {
	err := p.get(k, decode)
	if errors.Is(err, store.ErrNotFound) {
		return corrupt(k, errors.New("record is missing"))
	}
	return err
}

func (p *Store) headerRecord(hash chain.Hash) (store.HeaderRecord, error) {
	var rec store.HeaderRecord
	err := p.get(hashKey(prefixHeader, hash), func(v []byte) (err error) {
		rec, err = decodeHeaderRecord(v, hash)
		return err
	})
	return rec, err
}

// PutBlock stores b and its header record in one unsynced batch, unless
// it is stored already.
func (p *Store) PutBlock(hash chain.Hash, b *chain.Block) error {
	if p.closed.Load() {
		return store.ErrClosed
	}
	if b == nil {
		return fmt.Errorf("put block %s: no block", hash)
	}
	if got := b.Hash(); got != hash {
		return fmt.Errorf("put block %s: the block hashes to %s", hash, got)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.headerRecord(hash)
	if err == nil {
		return nil
	}
	if err := p.space.check(); err != nil {
		return fmt.Errorf("put block %d %s: %w", b.Header.Height, hash, err)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("put block %d %s: %w", b.Header.Height, hash, err)
	}
	batch := p.db.NewBatch()
	defer batch.Close()
	if err := errors.Join(
		batch.Set(hashKey(prefixBlock, hash), b.Encode(), nil),
		batch.Set(hashKey(prefixHeader, hash), encodeHeaderRecord(store.HeaderRecord{Header: b.Header}), nil),
		batch.Commit(pebble.NoSync),
	); err != nil {
		return fmt.Errorf("put block %d %s: %w", b.Header.Height, hash, err)
	}
	return nil
}

// Block returns a stored block, decoded strictly.
func (p *Store) Block(hash chain.Hash) (*chain.Block, error) {
	if p.closed.Load() {
		return nil, store.ErrClosed
	}
	var blk *chain.Block
	err := p.get(hashKey(prefixBlock, hash), func(v []byte) (err error) {
		blk, err = decodeBlock(v, hash)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("block %s: %w", hash, err)
	}
	return blk, nil
}

// MarkInvalid sets the invalid flag of a stored block's header record
// (unsynced).
func (p *Store) MarkInvalid(hash chain.Hash) error {
	if p.closed.Load() {
		return store.ErrClosed
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, err := p.headerRecord(hash)
	if err != nil {
		return fmt.Errorf("mark block %s invalid: %w", hash, err)
	}
	if rec.Invalid {
		return nil
	}
	if err := p.space.check(); err != nil {
		return fmt.Errorf("mark block %s invalid: %w", hash, err)
	}
	rec.Invalid = true
	if err := p.db.Set(hashKey(prefixHeader, hash), encodeHeaderRecord(rec), pebble.NoSync); err != nil {
		return fmt.Errorf("mark block %s invalid: %w", hash, err)
	}
	return nil
}

// ForEachHeader calls fn for every header record, in hash order.
func (p *Store) ForEachHeader(fn func(store.HeaderRecord) error) error {
	if p.closed.Load() {
		return store.ErrClosed
	}
	return p.scan(prefixHeader, 1+chain.HashSize, func(k, v []byte) error {
		var hash chain.Hash
		copy(hash[:], k[1:])
		rec, err := decodeHeaderRecord(v, hash)
		if err != nil {
			return corrupt(k, err)
		}
		return fn(rec)
	})
}

// ForEachAccount calls fn for every stored account, in address order.
func (p *Store) ForEachAccount(fn func(chain.Address, state.Account) error) error {
	if p.closed.Load() {
		return store.ErrClosed
	}
	return p.scan(prefixAccount, 1+chain.AddressSize, func(k, v []byte) error {
		var addr chain.Address
		copy(addr[:], k[1:])
		acct, err := state.DecodeAccount(v)
		if err == nil && acct.IsZero() {
			err = errors.New("a zero account is stored; zero accounts are deleted")
		}
		if err != nil {
			return corrupt(k, err)
		}
		return fn(addr, acct)
	})
}

// scan calls fn for every key with the given prefix, after checking the
// key's length. An error from fn stops the scan and is returned unchanged.
func (p *Store) scan(prefix byte, keyLen int, fn func(k, v []byte) error) (err error) {
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefix}, UpperBound: []byte{prefix + 1}})
	if err != nil {
		return fmt.Errorf("scan %q records: %w", prefix, err)
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("scan %q records: %w", prefix, cerr)
		}
	}()
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()
		if len(k) != keyLen {
			return corrupt(k, fmt.Errorf("key is %d bytes, want %d", len(k), keyLen))
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return damaged(p.dir, fmt.Errorf("read key %s: %w", keyName(k), err))
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return damaged(p.dir, fmt.Errorf("scan %q records: %w", prefix, err))
	}
	return nil
}

// ConnectBlock writes u in one batch, synced unless u.Deferred; see Store.
func (p *Store) ConnectBlock(u *store.Update) error {
	if p.closed.Load() {
		return store.ErrClosed
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := store.CheckConnect(u, p.tip); err != nil {
		return err
	}
	if err := p.space.check(); err != nil {
		return fmt.Errorf("connect block %d %s: %w", u.Block.Header.Height, u.Hash, err)
	}
	h := &u.Block.Header
	b := p.db.NewBatch()
	defer b.Close()
	var errs []error
	set := func(k, v []byte) { errs = append(errs, b.Set(k, v, nil)) }

	// The block goes into this batch unless it is stored already (which
	// is not looked up when the caller says it is not). A block
	// stored by an earlier unsynced PutBlock is durable once this batch
	// is: the write-ahead log is sequential and syncing it syncs all
	// earlier batches.
	rec, err := store.HeaderRecord{}, store.ErrNotFound
	if !u.NotStored {
		rec, err = p.headerRecord(u.Hash)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		set(hashKey(prefixBlock, u.Hash), u.Block.Encode())
		set(hashKey(prefixHeader, u.Hash), encodeHeaderRecord(store.HeaderRecord{Header: *h, Connected: true}))
	case err != nil:
		return fmt.Errorf("connect block %d %s: %w", h.Height, u.Hash, err)
	case rec.Invalid:
		return fmt.Errorf("connect block %d %s: the block is marked invalid", h.Height, u.Hash)
	case !rec.Connected:
		rec.Connected = true
		set(hashKey(prefixHeader, u.Hash), encodeHeaderRecord(rec))
	}
	set(heightKey(h.Height), u.Hash[:])
	set(hashKey(prefixUndo, u.Hash), u.Undo.Encode())
	for _, c := range u.Changes {
		errs = append(errs, p.writeAccount(b, c))
	}
	ids := make([]chain.Hash, len(u.Block.Txs))
	for i, tx := range u.Block.Txs {
		ids[i] = tx.ID()
		set(hashKey(prefixTx, ids[i]), encodeTxLocation(store.TxLocation{Block: u.Hash, Height: h.Height, Index: i}))
	}
	if !p.noAddressIndex {
		// The batch copies keys: one scratch buffer serves all.
		key := make([]byte, 0, addressKeySize)
		for _, g := range addressGroups(u.Block) {
			key = appendAddressKey(key[:0], g.addr, h.Height)
			set(key, g.indexes)
		}
	}
	set(tipKey, u.Hash[:])
	seq := p.seq.Load() + 1
	set(metaKey(metaSeq), encodeSeq(seq))
	errs = append(errs, b.Commit(writeOpts(u)))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("connect block %d %s: %w", h.Height, u.Hash, err)
	}
	p.tip = store.TipState{Hash: u.Hash, Height: h.Height, OK: true}
	p.committed(seq, !u.Deferred)
	return nil
}

// DisconnectBlock writes u in one batch, synced unless u.Deferred; see Store.
func (p *Store) DisconnectBlock(u *store.Update) error {
	if p.closed.Load() {
		return store.ErrClosed
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	newTip, err := store.CheckDisconnect(u, p.tip)
	if err != nil {
		return err
	}
	if err := p.space.check(); err != nil {
		return fmt.Errorf("disconnect block %d %s: %w", u.Block.Header.Height, u.Hash, err)
	}
	h := &u.Block.Header
	b := p.db.NewBatch()
	defer b.Close()
	errs := []error{
		b.Delete(heightKey(h.Height), nil),
		b.Delete(hashKey(prefixUndo, u.Hash), nil),
	}
	for _, tx := range u.Block.Txs {
		errs = append(errs, b.Delete(hashKey(prefixTx, tx.ID()), nil))
	}
	if !p.noAddressIndex {
		key := make([]byte, 0, addressKeySize)
		for _, g := range addressGroups(u.Block) {
			key = appendAddressKey(key[:0], g.addr, h.Height)
			errs = append(errs, b.Delete(key, nil))
		}
	}
	for _, c := range u.Changes {
		errs = append(errs, p.writeAccount(b, c))
	}
	if newTip.OK {
		errs = append(errs, b.Set(tipKey, newTip.Hash[:], nil))
	} else {
		errs = append(errs, b.Delete(tipKey, nil))
	}
	seq := p.seq.Load() + 1
	errs = append(errs, b.Set(metaKey(metaSeq), encodeSeq(seq), nil))
	errs = append(errs, b.Commit(writeOpts(u)))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("disconnect block %d %s: %w", h.Height, u.Hash, err)
	}
	p.tip = newTip
	p.committed(seq, !u.Deferred)
	return nil
}

// writeOpts syncs an update's batch unless it is deferred.
func writeOpts(u *store.Update) *pebble.WriteOptions {
	if u.Deferred {
		return pebble.NoSync
	}
	return pebble.Sync
}

// committed notes batch seq as committed, and as synced when it was.
func (p *Store) committed(seq uint64, synced bool) {
	p.seq.Store(seq)
	if synced {
		p.synced.record(seq)
	}
}

// Sync syncs the write-ahead log, making every batch written so far
// durable (the log is sequential).
func (p *Store) Sync() error {
	if p.closed.Load() {
		return store.ErrClosed
	}
	seq := p.seq.Load() // committed before the sync: covered by it
	if err := p.db.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("sync store in %s: %w", p.dir, err)
	}
	p.synced.record(seq)
	return nil
}

// StartSync commits an empty log record with a sync it does not wait for:
// Pebble syncs its write-ahead log in its own goroutine, and the batches
// committed meanwhile go on without waiting. wait waits for that sync,
// which covers every batch committed before StartSync (the log is
// sequential).
func (p *Store) StartSync() (func() error, error) {
	if p.closed.Load() {
		return nil, store.ErrClosed
	}
	seq := p.seq.Load() // committed before the sync: covered by it
	b := p.db.NewBatch()
	if err := errors.Join(b.LogData(nil, nil), p.db.ApplyNoSyncWait(b, pebble.Sync)); err != nil {
		return nil, errors.Join(fmt.Errorf("sync store in %s: %w", p.dir, err), b.Close())
	}
	return func() error {
		if err := b.SyncWait(); err != nil {
			// A batch whose commit failed is not closed (Pebble's own
			// LogData does the same).
			return fmt.Errorf("sync store in %s: %w", p.dir, err)
		}
		p.synced.record(seq)
		return b.Close()
	}, nil
}

// writeAccount adds an account change to b: a zero account is deleted.
func (p *Store) writeAccount(b *pebble.Batch, c state.Change) error {
	if c.Account.IsZero() {
		return b.Delete(accountKey(c.Address), nil)
	}
	return b.Set(accountKey(c.Address), state.EncodeAccount(c.Account), nil)
}

// Undo returns a main-chain block's undo record, decoded strictly.
func (p *Store) Undo(hash chain.Hash) (*state.Undo, error) {
	if p.closed.Load() {
		return nil, store.ErrClosed
	}
	var u *state.Undo
	err := p.get(hashKey(prefixUndo, hash), func(v []byte) (err error) {
		u, err = state.DecodeUndo(v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("undo record of block %s: %w", hash, err)
	}
	return u, nil
}

// Tip returns the committed tip (kept in memory, checked at Open).
func (p *Store) Tip() (chain.Hash, bool, error) {
	if p.closed.Load() {
		return chain.Hash{}, false, store.ErrClosed
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tip.Hash, p.tip.OK, nil
}

// MainHash returns the main-chain block hash at height.
func (p *Store) MainHash(height uint32) (chain.Hash, error) {
	if p.closed.Load() {
		return chain.Hash{}, store.ErrClosed
	}
	var h chain.Hash
	err := p.get(heightKey(height), func(v []byte) (err error) {
		h, err = decodeHash(v)
		return err
	})
	if err != nil {
		return chain.Hash{}, fmt.Errorf("main-chain block at height %d: %w", height, err)
	}
	return h, nil
}

// TxLocation returns where a main-chain transaction is.
func (p *Store) TxLocation(id chain.Hash) (store.TxLocation, error) {
	if p.closed.Load() {
		return store.TxLocation{}, store.ErrClosed
	}
	var loc store.TxLocation
	err := p.get(hashKey(prefixTx, id), func(v []byte) (err error) {
		loc, err = decodeTxLocation(v)
		return err
	})
	if err != nil {
		return store.TxLocation{}, fmt.Errorf("transaction %s: %w", id, err)
	}
	return loc, nil
}

// AddressHistory returns a page of addr's history, newest first, read
// backwards from the address index; each entry's transaction is read from
// its block (DecodeBlockTx decodes that one alone). The page is read from
// one snapshot, so a block connected or disconnected meanwhile is either
// wholly in it or wholly out.
func (p *Store) AddressHistory(addr chain.Address, before *store.TxPosition, limit int) (out []store.HistoryEntry, err error) {
	if err := store.CheckHistoryQuery(limit); err != nil {
		return nil, err
	}
	if p.closed.Load() {
		return nil, store.ErrClosed
	}
	snap := p.db.NewSnapshot()
	defer func() {
		if cerr := snap.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("address history: %w", cerr)
		}
	}()
	// Keys sort by height: the upper bound is just past the key of the
	// newest height wanted.
	lower := addressKey(addr, 0)
	upper := append(addressKey(addr, ^uint32(0)), 0)
	if before != nil {
		upper = append(addressKey(addr, before.Height), 0)
	}
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("address history: %w", err)
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("address history: %w", cerr)
		}
	}()
	for valid := it.Last(); valid && len(out) < limit; valid = it.Prev() {
		k := it.Key()
		height, err := addressKeyHeight(k)
		if err != nil {
			return nil, corrupt(k, err)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, damaged(p.dir, fmt.Errorf("read key %s: %w", keyName(k), err))
		}
		indexes, err := decodeAddressIndexes(v)
		if err != nil {
			return nil, corrupt(k, err)
		}
		if out, err = p.appendHistory(snap, out, limit, addr, height, indexes, before); err != nil {
			return nil, fmt.Errorf("%w (address index key %s)", err, keyName(k))
		}
	}
	if err := it.Error(); err != nil {
		return nil, damaged(p.dir, fmt.Errorf("address history: %w", err))
	}
	return out, nil
}

// appendHistory appends to out, newest first and up to limit entries,
// addr's entries for the transactions at indexes of the main-chain block
// at height, those before *before only (all when before is nil).
func (p *Store) appendHistory(r pebble.Reader, out []store.HistoryEntry, limit int, addr chain.Address,
	height uint32, indexes []int, before *store.TxPosition) ([]store.HistoryEntry, error) {
	var hash chain.Hash
	if err := readRequired(p.dir, r, heightKey(height), func(v []byte) (err error) {
		hash, err = decodeHash(v)
		return err
	}); err != nil {
		return nil, err
	}
	bk := hashKey(prefixBlock, hash)
	return out, readRequired(p.dir, r, bk, func(v []byte) error {
		checked := false
		for j := len(indexes) - 1; j >= 0 && len(out) < limit; j-- {
			pos := store.TxPosition{Height: height, Index: indexes[j]}
			if before != nil && !pos.Less(*before) {
				continue
			}
			hdr, tx, err := chain.DecodeBlockTx(v, pos.Index)
			if err != nil {
				return err
			}
			if !checked {
				if got := hdr.Hash(); got != hash {
					return fmt.Errorf("block hashes to %s, not to its key", got)
				}
				checked = true
			}
			e, ok := store.HistoryEntryOf(addr, pos, tx, tx.Sender(), tx.ID())
			if !ok {
				return fmt.Errorf("transaction %d neither sends to nor comes from the indexed address", pos.Index)
			}
			out = append(out, e)
		}
		return nil
	})
}

// readRequired reads key k of r, which must exist, and hands its value to
// decode, which must copy what it keeps; absence and a failed decode are
// corruption naming k.
func readRequired(dir string, r pebble.Reader, k []byte, decode func([]byte) error) error {
	v, closer, err := r.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return corrupt(k, errors.New("record is missing"))
	}
	if err != nil {
		return damaged(dir, fmt.Errorf("read key %s: %w", keyName(k), err))
	}
	derr := decode(v)
	if err := closer.Close(); err != nil {
		return fmt.Errorf("read key %s: %w", keyName(k), err)
	}
	if derr != nil {
		return corrupt(k, derr)
	}
	return nil
}

// Close closes the database and releases the directory lock.
func (p *Store) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return store.ErrClosed
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var serr error
	if p.synced != nil {
		serr = p.synced.close()
	}
	if err := errors.Join(p.db.Close(), p.lock.Close(), serr); err != nil {
		return fmt.Errorf("close store in %s: %w", p.dir, err)
	}
	return nil
}

// damaged marks err as the store's damage when Pebble found corruption
// (a checksum mismatch in a table, a log record that does not check
// before the log's end), wrapping store.ErrCorrupt and saying what to do;
// other errors pass unchanged.
func damaged(dir string, err error) error {
	if err == nil || errors.Is(err, store.ErrCorrupt) {
		return err
	}
	if !pebble.IsCorruptionError(err) && !errors.Is(err, record.ErrUnexpectedEOF) &&
		!errors.Is(err, record.ErrInvalidChunk) && !errors.Is(err, record.ErrZeroedChunk) {
		return err
	}
	return fmt.Errorf("%w: %w; the data directory %s is damaged (a disk or file-system fault): chaind will not guess what is lost. "+
		"Stop the node, move the directory aside (keep it for inspection) and start again to resync the chain from peers, or restore a backup",
		store.ErrCorrupt, err, dir)
}

// pebbleLogger routes Pebble's log lines to slog: Pebble is chatty at
// info level (every WAL it recovers), so those go to debug.
type pebbleLogger struct{ l *slog.Logger }

func (pl pebbleLogger) Infof(format string, args ...any) {
	if pl.l.Enabled(context.Background(), slog.LevelDebug) {
		pl.l.Debug(fmt.Sprintf(format, args...))
	}
}

func (pl pebbleLogger) Errorf(format string, args ...any) {
	pl.l.Error(fmt.Sprintf(format, args...))
}

// Fatalf logs and panics. Pebble calls it only when it cannot go on (a
// failed write-ahead log or MANIFEST sync, a broken invariant) and does
// not expect it to return; its own default logger exits the process.
func (pl pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	pl.l.Error(msg, "fatal", true)
	panic("pebble: " + msg)
}
