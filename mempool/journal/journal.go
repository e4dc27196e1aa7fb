package journal

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/chaind/chaind/chain"
)

// File names, formats and bounds.
const (
	// SnapshotFile and LogFile are the names of the two files.
	SnapshotFile = "mempool.dat"
	LogFile      = "mempool.log"
	// Version is the format version of both files.
	Version = 1
	// MaxTxs bounds the transactions of a snapshot.
	MaxTxs = 1_000_000
	// MaxFileSize bounds the size of either file that Load reads.
	MaxFileSize = 512 << 20
	// MaxLogRecords: a log with more records is compacted into a snapshot.
	MaxLogRecords = 50_000

	snapshotMagic = "CHAINDMP"
	logMagic      = "CHAINDML"
	headerSize    = 8 + 4 + chain.HashSize
	recordHead    = 8 // length, CRC-32C
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Pool is what the journal needs of a mempool.
type Pool interface {
	// AddBatch offers transactions in order; errs[i] is nil when txs[i]
	// was admitted.
	AddBatch(txs []*chain.Tx) []error
	// Txs returns every pooled transaction.
	Txs() []*chain.Tx
}

// Stats says what Load found.
type Stats struct {
	Snapshot int // transactions read from the snapshot
	Logged   int // transactions read from the log
	Admitted int // admitted to the pool again
	Dropped  int // refused on re-validation (mined, spent, or invalid now)
	// Problems lists what was wrong with the files (empty when they were
	// sound); SetAside names the files moved aside because of it.
	Problems []string
	SetAside []string
}

// Journal is the on-disk copy of one pool. Append, Sync and Compact are
// safe for concurrent use; Close must be the last call.
type Journal struct {
	dir   string
	netID chain.Hash
	pool  Pool
	log   *slog.Logger

	mu           sync.Mutex // guards everything below and orders writes to the log
	f            *os.File   // the open log; nil after Close
	records      int        // records in the log
	dirty        bool       // written since the last sync
	failed       error      // the last write error, until a write succeeds
	buf          []byte
	compactAfter int // records that trigger a compaction (MaxLogRecords)
}

// Open opens the journal in dir for the network whose genesis hash is
// netID, for pool. It does not read the files: call Load first, then
// Append for every admitted transaction.
func Open(dir string, netID chain.Hash, pool Pool, logger *slog.Logger) (*Journal, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mempool journal: %w", err)
	}
	return &Journal{dir: dir, netID: netID, pool: pool, log: logger, compactAfter: MaxLogRecords}, nil
}

// SetCompactAfter sets how many log records trigger a compaction
// (MaxLogRecords by default), for tests and tuning.
func (j *Journal) SetCompactAfter(n int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.compactAfter = max(1, n)
}

func (j *Journal) path(name string) string { return filepath.Join(j.dir, name) }

// Load reads the snapshot and the log, offers their transactions to the
// pool (re-validated), writes them as a fresh snapshot and opens an empty
// log. Damaged files are reported in Stats, logged and set aside; only an
// I/O error that leaves no way to keep the journal is returned.
func (j *Journal) Load() (Stats, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var st Stats
	snap := j.readFile(SnapshotFile, readSnapshot, &st)
	logged := j.readFile(LogFile, readLog, &st)
	st.Snapshot, st.Logged = len(snap), len(logged)

	// One copy of each, in nonce order per sender, so no gap is refused.
	seen := make(map[chain.Hash]bool, len(snap)+len(logged))
	var txs []*chain.Tx
	for _, tx := range append(snap, logged...) {
		if id := tx.ID(); !seen[id] {
			seen[id] = true
			txs = append(txs, tx)
		}
	}
	slices.SortStableFunc(txs, func(a, b *chain.Tx) int {
		if c := bytes.Compare(a.From[:], b.From[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.Nonce, b.Nonce)
	})
	for _, err := range j.pool.AddBatch(txs) {
		if err == nil {
			st.Admitted++
		} else {
			st.Dropped++
		}
	}
	if err := j.compactLocked(); err != nil {
		return st, err
	}
	lvl := slog.LevelInfo
	if st.Snapshot+st.Logged == 0 {
		lvl = slog.LevelDebug
	}
	j.log.Log(context.Background(), lvl, "mempool loaded", "admitted", st.Admitted, "dropped", st.Dropped,
		"from_snapshot", st.Snapshot, "from_log", st.Logged)
	return st, nil
}

// readFile reads one file with parse. A missing file is empty; a damaged
// one is reported and moved aside, and what parse could read is kept.
func (j *Journal) readFile(name string, parse func([]byte, chain.Hash) ([]*chain.Tx, error), st *Stats) []*chain.Tx {
	p := j.path(name)
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var data []byte
	switch {
	case err != nil:
	case fi.Size() > MaxFileSize:
		err = fmt.Errorf("%d bytes, more than the %d a journal file may hold", fi.Size(), MaxFileSize)
	default:
		data, err = os.ReadFile(p)
	}
	var txs []*chain.Tx
	if err == nil {
		txs, err = parse(data, j.netID)
	}
	if err == nil {
		return txs
	}
	aside := fmt.Sprintf("%s.corrupt-%d", p, time.Now().UnixNano())
	problem := fmt.Sprintf("%s: %v", p, err)
	if rerr := os.Rename(p, aside); rerr != nil {
		problem += fmt.Sprintf(" (and moving it aside failed: %v)", rerr)
	} else {
		st.SetAside = append(st.SetAside, aside)
	}
	st.Problems = append(st.Problems, problem)
	j.log.Error("mempool file damaged: kept what could be read, set the file aside",
		"file", p, "err", err, "kept", len(txs), "moved_to", aside)
	return txs
}

func checkHeader(data []byte, magic string, netID chain.Hash) error {
	if len(data) < headerSize {
		return fmt.Errorf("%d bytes, shorter than the %d-byte header", len(data), headerSize)
	}
	if string(data[:8]) != magic {
		return fmt.Errorf("not a chaind mempool file (magic %q, want %q)", data[:8], magic)
	}
	if v := binary.BigEndian.Uint32(data[8:12]); v != Version {
		return fmt.Errorf("format version %d, this chaind reads %d", v, Version)
	}
	var g chain.Hash
	copy(g[:], data[12:headerSize])
	if g != netID {
		return fmt.Errorf("written for the network with genesis %s, not %s", g, netID)
	}
	return nil
}

// readSnapshot parses a snapshot; on any damage it returns no
// transactions (the checksum covers the whole file).
func readSnapshot(data []byte, netID chain.Hash) ([]*chain.Tx, error) {
	if err := checkHeader(data, snapshotMagic, netID); err != nil {
		return nil, err
	}
	if len(data) < headerSize+4+sha256.Size {
		return nil, fmt.Errorf("%d bytes, too short for a count and a checksum", len(data))
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, errors.New("checksum mismatch")
	}
	n := binary.BigEndian.Uint32(body[headerSize:])
	if n > MaxTxs {
		return nil, fmt.Errorf("%d transactions, more than %d", n, MaxTxs)
	}
	rest := body[headerSize+4:]
	txs := make([]*chain.Tx, 0, n)
	for i := uint32(0); i < n; i++ {
		if len(rest) < 4 {
			return nil, fmt.Errorf("transaction %d: truncated length", i)
		}
		l := binary.BigEndian.Uint32(rest)
		if l > chain.MaxTxSize || uint32(len(rest)-4) < l {
			return nil, fmt.Errorf("transaction %d: length %d out of bounds", i, l)
		}
		tx, err := chain.DecodeTx(rest[4 : 4+l])
		if err != nil {
			return nil, fmt.Errorf("transaction %d: %w", i, err)
		}
		txs = append(txs, tx)
		rest = rest[4+l:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%d bytes after the last transaction", len(rest))
	}
	return txs, nil
}

// readLog parses a log. A record cut short by the end of the file is a
// crash's torn write and ends the log quietly; a record that does not
// check with more data after it is damage: the records before it are
// returned with an error.
func readLog(data []byte, netID chain.Hash) ([]*chain.Tx, error) {
	if len(data) == 0 {
		return nil, nil // created but never written: a crash right after creation
	}
	if err := checkHeader(data, logMagic, netID); err != nil {
		return nil, err
	}
	rest := data[headerSize:]
	var txs []*chain.Tx
	for off := headerSize; len(rest) > 0; {
		if len(rest) < recordHead {
			return txs, nil // torn
		}
		l := binary.BigEndian.Uint32(rest)
		if l > chain.MaxTxSize {
			return txs, fmt.Errorf("record at offset %d: length %d out of bounds", off, l)
		}
		if uint32(len(rest)-recordHead) < l {
			return txs, nil // torn
		}
		rec := rest[recordHead : recordHead+l]
		last := len(rest) == recordHead+int(l)
		if crc32.Checksum(rec, castagnoli) != binary.BigEndian.Uint32(rest[4:]) {
			if last {
				return txs, nil // a torn last write
			}
			return txs, fmt.Errorf("record at offset %d: checksum mismatch", off)
		}
		tx, err := chain.DecodeTx(rec)
		if err != nil {
			return txs, fmt.Errorf("record at offset %d: %w", off, err)
		}
		txs = append(txs, tx)
		rest = rest[recordHead+l:]
		off += recordHead + int(l)
	}
	return txs, nil
}

// Append writes tx to the log before returning. A failed write (a full
// disk) is returned and remembered: Err reports it until a write succeeds.
// The log is compacted into a snapshot when it holds MaxLogRecords.
func (j *Journal) Append(tx *chain.Tx) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return errors.New("mempool journal: closed or not loaded")
	}
	enc := tx.Encode()
	j.buf = binary.BigEndian.AppendUint32(j.buf[:0], uint32(len(enc)))
	j.buf = binary.BigEndian.AppendUint32(j.buf, crc32.Checksum(enc, castagnoli))
	j.buf = append(j.buf, enc...)
	if _, err := j.f.Write(j.buf); err != nil {
		j.failed = fmt.Errorf("mempool journal: append to %s: %w", j.path(LogFile), err)
		// A partial record would hide the ones after it: cut it off.
		if off, serr := j.f.Seek(0, io.SeekCurrent); serr == nil {
			_ = j.f.Truncate(off - int64(len(j.buf)))
		}
		return j.failed
	}
	j.failed = nil
	j.dirty = true
	j.records++
	if j.records >= j.compactAfter {
		return j.compactLocked()
	}
	return nil
}

// Err returns the last write error, or nil once a write succeeded since.
func (j *Journal) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.failed
}

// Sync makes the log's records durable against a machine crash.
func (j *Journal) Sync() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil || !j.dirty {
		return nil
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("mempool journal: sync %s: %w", j.path(LogFile), err)
	}
	j.dirty = false
	return nil
}

// Compact writes the pool's transactions as the new snapshot and starts
// an empty log.
func (j *Journal) Compact() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.compactLocked()
}

// compactLocked is Compact with mu held: appends wait, so a transaction
// admitted while the snapshot is taken is logged in the new log.
func (j *Journal) compactLocked() error {
	txs := j.pool.Txs()
	if len(txs) > MaxTxs {
		txs = txs[:MaxTxs] // highest fees first
	}
	if err := j.writeSnapshot(txs); err != nil {
		return err
	}
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
	f, err := os.OpenFile(j.path(LogFile), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("mempool journal: %w", err)
	}
	var h [headerSize]byte
	copy(h[:], logMagic)
	binary.BigEndian.PutUint32(h[8:], Version)
	copy(h[12:], j.netID[:])
	if _, err := f.Write(h[:]); err != nil {
		f.Close()
		return fmt.Errorf("mempool journal: write %s: %w", j.path(LogFile), err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return fmt.Errorf("mempool journal: %w", err)
	}
	j.f, j.records, j.dirty = f, 0, true
	return nil
}

// writeSnapshot writes txs to a temporary file, syncs it and renames it
// over the snapshot.
func (j *Journal) writeSnapshot(txs []*chain.Tx) error {
	tmp := j.path(SnapshotFile + ".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("mempool journal: %w", err)
	}
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<16)
	var hdr [headerSize + 4]byte
	copy(hdr[:], snapshotMagic)
	binary.BigEndian.PutUint32(hdr[8:], Version)
	copy(hdr[12:], j.netID[:])
	binary.BigEndian.PutUint32(hdr[headerSize:], uint32(len(txs)))
	w.Write(hdr[:])
	var buf []byte
	for _, tx := range txs {
		buf = binary.BigEndian.AppendUint32(buf[:0], uint32(tx.Size()))
		buf = tx.AppendEncode(buf)
		w.Write(buf)
	}
	err = w.Flush()
	if err == nil {
		_, err = f.Write(h.Sum(nil))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, j.path(SnapshotFile))
	}
	if err == nil {
		err = syncDir(j.dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mempool journal: write snapshot %s: %w", j.path(SnapshotFile), err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Close writes the pool as the snapshot (a clean shutdown keeps the
// mempool), syncs and closes the log.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.compactLocked()
	if j.f != nil {
		if serr := j.f.Sync(); err == nil && serr != nil {
			err = fmt.Errorf("mempool journal: sync: %w", serr)
		}
		j.f.Close()
		j.f = nil
	}
	return err
}
