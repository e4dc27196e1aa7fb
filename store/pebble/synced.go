package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/chaind/chaind/store"
)

// Damage at the very end of the newest write-ahead log.
//
// Pebble replays its newest log up to the first record that does not
// check and stops there without an error when no valid record follows:
// that is what a crash in the middle of a write leaves (a torn tail), and
// Pebble cannot tell it from damage that hit the last records (a bit flip,
// zeroed or lost blocks at the end of the file). Damage there used to
// read back as an ordinary crash, with the blocks synced in those records
// silently gone. Damage earlier in the log is followed by valid records,
// which Pebble reports as corruption (see damaged).
//
// What tells them apart is knowing what was synced. Every connect and
// disconnect batch carries a sequence number (the 'm' "seq" key, one more
// than the last batch's), and after each synced write the store records the
// last sequence number the sync covered in a small file beside the
// database (SyncedFile), written in place without a sync of its own. At
// Open, a database whose recovered sequence number is below the file's has
// lost batches that a sync had made durable: that is damage, never a
// crash, and Open fails with store.ErrCorrupt.
//
// The file needs no sync of its own: it is written after the log's sync
// returned, so what it names is always already on disk in the log; after a
// power loss it may be older than the log (then the check is weaker, never
// wrong), and a file that does not check (torn by a power loss) is set
// aside with a warning and the check skipped. A crash between a sync and
// the file's write leaves the file one step behind, which the check allows.
// What it cannot see: damage to batches written since the last sync (they
// were never promised), and damage that removes records the file was not
// updated for because its own write failed (logged).

// SyncedFile is the name, in the data directory, of the record of the last
// synced batch.
const SyncedFile = "chaind-synced"

// Layout of SyncedFile: magic, sequence number, CRC-32 (IEEE) of both.
const (
	syncedMagic = "chdsync1"
	syncedSize  = len(syncedMagic) + 8 + 4
	metaSeq     = "seq"
)

// syncedFile is the open SyncedFile.
type syncedFile struct {
	f   *os.File
	log *slog.Logger

	mu     sync.Mutex
	last   uint64 // the sequence number written last
	failed bool   // a write failed: logged once
}

func encodeSynced(seq uint64) []byte {
	b := make([]byte, 0, syncedSize)
	b = append(b, syncedMagic...)
	b = binary.BigEndian.AppendUint64(b, seq)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// decodeSynced reads SyncedFile's content.
func decodeSynced(b []byte) (uint64, error) {
	if len(b) != syncedSize {
		return 0, fmt.Errorf("%d bytes, want %d", len(b), syncedSize)
	}
	if string(b[:len(syncedMagic)]) != syncedMagic {
		return 0, errors.New("bad magic")
	}
	body := b[:syncedSize-4]
	if crc32.ChecksumIEEE(body) != binary.BigEndian.Uint32(b[syncedSize-4:]) {
		return 0, errors.New("checksum mismatch")
	}
	return binary.BigEndian.Uint64(b[len(syncedMagic):]), nil
}

// readSynced returns the sequence number SyncedFile in dir records, and
// false when there is none to check against (no file, or one that does not
// check, which is logged).
func readSynced(dir string, log *slog.Logger) (uint64, bool) {
	path := filepath.Join(dir, SyncedFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(b) == 0) {
		return 0, false // none yet (an empty file: no sync since it was made)
	}
	if err == nil {
		var seq uint64
		if seq, err = decodeSynced(b); err == nil {
			return seq, true
		}
	}
	log.Warn("record of the last synced write unreadable; the end of the write-ahead log is not checked this time",
		"sys", "store", "file", path, "err", err)
	return 0, false
}

// openSynced opens (creating) SyncedFile in dir for writing.
func openSynced(dir string, log *slog.Logger) (*syncedFile, error) {
	f, err := os.OpenFile(filepath.Join(dir, SyncedFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", SyncedFile, err)
	}
	return &syncedFile{f: f, log: log}, nil
}

// record writes seq in place, unless a later one is written already. It
// is called after a sync returned; a failure is logged once and otherwise
// ignored (the file then stays behind, which weakens the check but never
// makes it wrong).
func (s *syncedFile) record(seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq <= s.last {
		return
	}
	_, err := s.f.WriteAt(encodeSynced(seq), 0)
	if err == nil {
		s.last = seq
		return
	}
	if !s.failed {
		s.failed = true
		s.log.Warn("cannot record the last synced write; damage at the end of the write-ahead log may go unseen",
			"sys", "store", "file", s.f.Name(), "err", err)
	}
}

func (s *syncedFile) close() error { return s.f.Close() }

// checkSynced compares the recovered sequence number with SyncedFile's,
// and returns the latter (0 when there is none to check against).
func checkSynced(dir string, recovered uint64, log *slog.Logger) (uint64, error) {
	synced, ok := readSynced(dir, log)
	if !ok || recovered >= synced {
		return synced, nil
	}
	return synced, fmt.Errorf("%w: the write-ahead log ends at write %d, but write %d was synced (recorded in %s): "+
		"%d synced writes are missing, damage at the end of the log that Pebble reads as an ordinary crash; "+
		"the data directory %s is damaged (a disk or file-system fault): chaind will not guess what is lost. "+
		"Stop the node, move the directory aside (keep it for inspection) and start again to resync the chain from peers, or restore a backup",
		store.ErrCorrupt, recovered, synced, SyncedFile, synced-recovered, dir)
}

// loadSeq reads the last batch's sequence number (0 in a store written
// before batches carried one).
func (p *Store) loadSeq() (uint64, error) {
	var seq uint64
	err := p.get(metaKey(metaSeq), func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("sequence number is %d bytes, want 8", len(v))
		}
		seq = binary.BigEndian.Uint64(v)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return seq, err
}

func encodeSeq(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// initSynced checks the recovered log against SyncedFile and opens it for
// the writes to come. Called by Open after init. The file is left as it
// is: the recovered log may hold batches no sync covered (a crash keeps
// what the page cache had), and only a sync may raise the record.
func (p *Store) initSynced(log *slog.Logger) error {
	seq, err := p.loadSeq()
	if err != nil {
		return fmt.Errorf("open store in %s: %w", p.dir, err)
	}
	synced, err := checkSynced(p.dir, seq, log)
	if err != nil {
		return err
	}
	p.seq.Store(seq)
	if p.synced, err = openSynced(p.dir, log); err != nil {
		return fmt.Errorf("open store in %s: %w", p.dir, err)
	}
	p.synced.last = synced
	if synced == 0 {
		// No valid record: start the file afresh, so that the first sync's
		// record is all it holds.
		if err := p.synced.f.Truncate(0); err != nil {
			return errors.Join(fmt.Errorf("open store in %s: reset %s: %w", p.dir, SyncedFile, err), p.synced.close())
		}
	}
	return nil
}
