package pebble

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/store/storetest"
)

// rewriteAs turns the current-format store in dir, whose main chain is
// c's, into one of format version: no connected flags in header records,
// the address index of that version (none in version 1, one key per
// address and transaction with the whole entry as its value in version
// 2), and the version itself.
func rewriteAs(t *testing.T, dir string, c *storetest.Chain, version uint32) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{quietLogger()}})
	if err != nil {
		t.Fatal(err)
	}
	b := db.NewBatch()
	errs := []error{b.DeleteRange([]byte{prefixAddress}, []byte{prefixAddress + 1}, nil)}
	for h, u := range c.History {
		rec := store.HeaderRecord{Header: u.Block.Header} // flags 0: valid, connected unknown
		errs = append(errs, b.Set(hashKey(prefixHeader, u.Hash), encodeHeaderRecord(rec), nil))
		if version == versionNoAddressIndex {
			continue
		}
		for _, ae := range store.AddressEntries(uint32(h), u.Block, chain.TxIDs(u.Block.Txs)) {
			errs = append(errs, b.Set(v2AddressKey(ae), v2AddressValue(ae.Entry), nil))
		}
	}
	v := make([]byte, versionSize)
	binary.BigEndian.PutUint32(v, version)
	errs = append(errs, b.Set(metaKey(metaVersion), v, nil), b.Commit(pebble.Sync), b.Close(), db.Close())
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// v2AddressKey is format 2's address index key: address, height, index.
func v2AddressKey(ae store.AddressEntry) []byte {
	k := append([]byte{prefixAddress}, ae.Address[:]...)
	k = binary.BigEndian.AppendUint32(k, ae.Entry.Height)
	return binary.BigEndian.AppendUint32(k, uint32(ae.Entry.Index))
}

// v2AddressValue is format 2's address index value: tx id, flags,
// counterparty, amount, fee, nonce.
func v2AddressValue(e store.HistoryEntry) []byte {
	var f byte
	for bit, set := range []bool{e.Sent, e.Received, e.Coinbase} {
		if set {
			f |= 1 << bit
		}
	}
	v := append(append(e.TxID[:0:0], e.TxID[:]...), f)
	v = append(v, e.Counterparty[:]...)
	v = binary.BigEndian.AppendUint64(v, e.Amount)
	v = binary.BigEndian.AppendUint64(v, e.Fee)
	return binary.BigEndian.AppendUint64(v, e.Nonce)
}

// TestPebbleUpgrade opens stores of format versions 1 (no address index)
// and 2 (an entry per address and transaction): Open indexes the main
// chain in the current layout (no key of the old one is left), marks its
// blocks connected and records the current version; the upgraded store
// reads like one written in the current format and keeps working.
func TestPebbleUpgrade(t *testing.T) {
	for _, version := range []uint32{versionNoAddressIndex, versionAddressEntries} {
		t.Run("from "+string(rune('0'+version)), func(t *testing.T) {
			dir := t.TempDir()
			c := storetest.NewChain(6, storetest.Pool, false, true)
			buildStore(t, dir, c, 5)
			rewriteAs(t, dir, c, version)

			p := openTestStore(t, dir, c)
			storetest.CheckAgrees(t, c, p) // includes every address's history
			var got uint32
			if err := p.get(metaKey(metaVersion), func(b []byte) error { got = binary.BigEndian.Uint32(b); return nil }); err != nil || got != formatVersion {
				t.Fatalf("format version after the upgrade: %d, %v; want %d", got, err, formatVersion)
			}
			if err := p.scan(prefixAddress, addressKeySize, func(k, v []byte) error {
				_, err := decodeAddressIndexes(v)
				return err
			}); err != nil {
				t.Fatalf("address index after the upgrade: %v", err)
			}
			for h, r := range storetest.Headers(t, p) {
				if !r.Connected {
					t.Fatalf("main-chain block %s not marked connected by the upgrade", h)
				}
			}
			// It goes on as a current store: a reorg and a reopen.
			storetest.MustDisconnect(t, p, c.UndoTip(t))
			storetest.MustConnect(t, p, c.Next(t, storetest.TxsPerBlock))
			storetest.MustConnect(t, p, c.Next(t, storetest.TxsPerBlock))
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			p = openTestStore(t, dir, c)
			defer p.Close()
			storetest.CheckAgrees(t, c, p)
		})
	}
}

// TestPebbleUpgradeInterrupted opens a format 2 store whose upgrade was
// cut short (some keys of the new layout written, the version still 2):
// the next Open runs it again and ends with a consistent index.
func TestPebbleUpgradeInterrupted(t *testing.T) {
	dir := t.TempDir()
	c := storetest.NewChain(7, storetest.Pool, false, true)
	buildStore(t, dir, c, 4)
	rewriteAs(t, dir, c, versionAddressEntries)
	// Half an upgrade: the new records of the first blocks beside the old ones.
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{quietLogger()}})
	if err != nil {
		t.Fatal(err)
	}
	b := db.NewBatch()
	var errs []error
	for h, u := range c.History[:2] {
		for _, g := range addressGroups(u.Block) {
			errs = append(errs, b.Set(addressKey(g.addr, uint32(h)), g.indexes, nil))
		}
	}
	errs = append(errs, b.Commit(pebble.Sync), b.Close(), db.Close())
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	p := openTestStore(t, dir, c)
	defer p.Close()
	storetest.CheckAgrees(t, c, p)
}
