package pebble

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/chaind/chaind/store"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/state"
	"github.com/chaind/chaind/store/storetest"
)

// quietLogger discards everything; for tests that do not look at logs.
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// openTestStore opens a Pebble store in dir for the test chain c.
func openTestStore(t testing.TB, dir string, c *storetest.Chain) *Store {
	t.Helper()
	p, err := Open(dir, storetest.Network, c.GenesisBlock().Hash(), WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// buildStore connects genesis and n blocks of c to a new store in dir and
// closes it.
func buildStore(t *testing.T, dir string, c *storetest.Chain, n int) {
	t.Helper()
	p := openTestStore(t, dir, c)
	storetest.MustConnect(t, p, c.Genesis(t))
	for range n {
		storetest.MustConnect(t, p, c.Next(t, storetest.TxsPerBlock))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// rawSet writes key = value into the Pebble database in dir, bypassing the
// store; value nil deletes the key.
func rawSet(t *testing.T, dir string, key, value []byte) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{quietLogger()}})
	if err != nil {
		t.Fatal(err)
	}
	if value == nil {
		err = db.Delete(key, pebble.Sync)
	} else {
		err = db.Set(key, value, pebble.Sync)
	}
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
}

func TestPebbleReopen(t *testing.T) {
	dir := t.TempDir()
	c := storetest.NewChain(2, storetest.Pool, false, true)
	p := openTestStore(t, dir, c)
	storetest.MustConnect(t, p, c.Genesis(t))
	for range storetest.MainLen {
		storetest.MustConnect(t, p, c.Next(t, storetest.TxsPerBlock))
	}
	gone := c.UndoTip(t)
	storetest.MustDisconnect(t, p, gone)
	side := c.Build(storetest.TxsPerBlock)
	if err := p.PutBlock(side.Hash(), side); err != nil {
		t.Fatal(err)
	}
	if err := p.MarkInvalid(side.Hash()); err != nil {
		t.Fatal(err)
	}
	before := storetest.Headers(t, p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	p = openTestStore(t, dir, c)
	defer p.Close()
	storetest.CheckAgrees(t, c, p, gone)
	after := storetest.Headers(t, p)
	if len(after) != len(before) || len(after) != 2+storetest.MainLen {
		t.Fatalf("%d header records after reopening, %d before, want %d", len(after), len(before), 2+storetest.MainLen)
	}
	for h, r := range before {
		if after[h] != r {
			t.Fatalf("header record %s: %+v after reopening, %+v before", h, after[h], r)
		}
	}
	if !after[side.Hash()].Invalid {
		t.Fatal("invalid mark lost on reopening")
	}
	// The reopened store goes on from its tip.
	storetest.MustConnect(t, p, c.Next(t, storetest.TxsPerBlock))
	storetest.CheckAgrees(t, c, p, gone)
}

func TestPebbleWrongNetwork(t *testing.T) {
	dir := t.TempDir()
	c := storetest.NewChain(3, storetest.Pool, false, true)
	buildStore(t, dir, c, 1)
	genesis := c.GenesisBlock().Hash()
	other := chain.Hash{0xee}
	for _, tc := range []struct {
		network string
		genesis chain.Hash
	}{
		{"othernet", genesis},
		{storetest.Network, other},
		{"othernet", other},
	} {
		p, err := Open(dir, tc.network, tc.genesis, WithLogger(quietLogger()))
		if err == nil {
			p.Close()
			t.Fatalf("opened a %s store as network %q genesis %s", storetest.Network, tc.network, tc.genesis)
		}
		if !errors.Is(err, store.ErrWrongNetwork) {
			t.Fatalf("err = %v, want ErrWrongNetwork", err)
		}
		for _, want := range []string{fmt.Sprintf("%q", storetest.Network), fmt.Sprintf("%q", tc.network), genesis.String(), tc.genesis.String()} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not name %s", err, want)
			}
		}
	}
	// The right network still opens.
	p := openTestStore(t, dir, c)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.TempDir(), "", genesis); err == nil {
		t.Fatal("empty network name accepted")
	}
}

func TestPebbleFormatVersion(t *testing.T) {
	dir := t.TempDir()
	c := storetest.NewChain(4, storetest.Pool, false, true)
	buildStore(t, dir, c, 1)
	v := make([]byte, versionSize)
	binary.BigEndian.PutUint32(v, formatVersion+98)
	rawSet(t, dir, metaKey(metaVersion), v)
	_, err := Open(dir, storetest.Network, c.GenesisBlock().Hash(), WithLogger(quietLogger()))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("version %d is not supported", formatVersion+98)) {
		t.Fatalf("err = %v, want a refusal naming version %d", err, formatVersion+98)
	}

	// A database with records but no version is not taken over.
	dir = t.TempDir()
	rawSet(t, dir, []byte("someone else's key"), []byte("value"))
	if _, err := Open(dir, storetest.Network, c.GenesisBlock().Hash(), WithLogger(quietLogger())); err == nil || !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("err = %v, want a refusal of a foreign database", err)
	}
}

func TestPebbleCorruptRecords(t *testing.T) {
	c := storetest.NewChain(5, storetest.Pool, false, true)
	template := t.TempDir()
	buildStore(t, template, c, 2)
	tip := c.History[len(c.History)-1]
	tx := tip.Block.Txs[1]
	acct := chain.AddressOf(tx.From)
	otherHeader := encodeHeaderRecord(store.HeaderRecord{Header: c.History[0].Block.Header})
	badFlag := encodeHeaderRecord(store.HeaderRecord{Header: c.History[1].Block.Header})
	badFlag[chain.HeaderSize] = 4
	otherBlock := c.History[0].Block.Encode()
	garbage := []byte("garbage")

	type reads func(p *Store) error
	readBlock := func(p *Store) error { _, err := p.Block(tip.Hash); return err }
	readHeaders := func(p *Store) error { return p.ForEachHeader(func(store.HeaderRecord) error { return nil }) }
	readAccounts := func(p *Store) error {
		return p.ForEachAccount(func(chain.Address, state.Account) error { return nil })
	}
	readUndo := func(p *Store) error { _, err := p.Undo(tip.Hash); return err }
	readTx := func(p *Store) error { _, err := p.TxLocation(tx.ID()); return err }
	readMain := func(p *Store) error { _, err := p.MainHash(1); return err }
	readHistory := func(p *Store) error { _, err := p.AddressHistory(acct, nil, store.MaxHistoryPage); return err }
	histKey := addressKey(acct, 2)
	// acct sent tip's transaction 1; the value must list it.
	index := func(is ...uint16) []byte {
		var v []byte
		for _, i := range is {
			v = binary.BigEndian.AppendUint16(v, i)
		}
		return v
	}
	notAcct := 0 // the coinbase: acct is not its recipient
	if tip.Block.Txs[0].To == acct {
		t.Fatal("test chain pays the coinbase to a sender")
	}
	badTxLoc := encodeTxLocation(store.TxLocation{Block: tip.Hash, Height: 2})
	binary.BigEndian.PutUint32(badTxLoc[chain.HashSize+heightSize:], chain.MaxBlockTxs)

	for _, tc := range []struct {
		name  string
		key   []byte
		value []byte
		read  reads // nil: Open itself must fail
	}{
		{"block garbage", hashKey(prefixBlock, tip.Hash), garbage, readBlock},
		{"block of another hash", hashKey(prefixBlock, tip.Hash), otherBlock, readBlock},
		{"header garbage", hashKey(prefixHeader, c.History[1].Hash), garbage, readHeaders},
		{"header of another hash", hashKey(prefixHeader, c.History[1].Hash), otherHeader, readHeaders},
		{"header flag", hashKey(prefixHeader, c.History[1].Hash), badFlag, readHeaders},
		{"header key length", []byte{prefixHeader, 1, 2}, otherHeader, readHeaders},
		{"account garbage", accountKey(acct), garbage, readAccounts},
		{"zero account", accountKey(acct), make([]byte, 16), readAccounts},
		{"account key length", []byte{prefixAccount, 1}, state.EncodeAccount(state.Account{Balance: 1}), readAccounts},
		{"undo garbage", hashKey(prefixUndo, tip.Hash), garbage, readUndo},
		{"tx location garbage", hashKey(prefixTx, tx.ID()), garbage, readTx},
		{"tx location index", hashKey(prefixTx, tx.ID()), badTxLoc, readTx},
		{"height index garbage", heightKey(1), garbage, readMain},
		{"history odd length", histKey, garbage, readHistory},
		{"history empty", histKey, []byte{}, readHistory},
		{"history order", histKey, index(2, 1), readHistory},
		{"history repeat", histKey, index(1, 1), readHistory},
		{"history index past the block", histKey, index(1, uint16(len(tip.Block.Txs))), readHistory},
		{"history of another address", histKey, index(uint16(notAcct), 1), readHistory},
		{"history key length", append(addressKey(acct, 1), 0), index(1), readHistory},
		{"history height above the tip", addressKey(acct, 7), index(1), readHistory},
		{"tip garbage", tipKey, garbage, nil},
		{"tip not in height index", heightKey(tip.Block.Header.Height), c.History[0].Hash[:], nil},
		{"tip header missing", hashKey(prefixHeader, tip.Hash), nil, nil},
		{"version garbage", metaKey(metaVersion), garbage, nil},
		{"genesis garbage", metaKey(metaGenesis), garbage, nil},
		{"network missing", metaKey(metaNetwork), nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(template)); err != nil {
				t.Fatal(err)
			}
			rawSet(t, dir, tc.key, tc.value)
			p, err := Open(dir, storetest.Network, c.GenesisBlock().Hash(), WithLogger(quietLogger()))
			if tc.read != nil {
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				err = tc.read(p)
			} else if err == nil {
				p.Close()
			}
			if err == nil {
				t.Fatal("corrupt record read without an error")
			}
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			t.Log(err)
			if name := keyName(tc.key); !strings.Contains(err.Error(), name) {
				t.Fatalf("error %q does not name key %s", err, name)
			}
		})
	}
}

func TestKeyName(t *testing.T) {
	for _, tc := range []struct {
		key  []byte
		want string
	}{
		{heightKey(258), "n/258"},
		{metaKey(metaNetwork), `m/"network"`},
		{tipKey, "T"},
		{hashKey(prefixBlock, chain.Hash{0xab}), "b/ab" + strings.Repeat("00", chain.HashSize-1)},
		{accountKey(chain.Address{1, 2}), "a/0102" + strings.Repeat("00", chain.AddressSize-2)},
		{nil, "(empty key)"},
	} {
		if got := keyName(tc.key); got != tc.want {
			t.Errorf("keyName(%x) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

// lockHelperEnv makes the test binary a helper process that holds a store
// open: it opens the directory named by the variable, prints lockHelperReady
// and waits until its standard input closes.
const (
	lockHelperEnv   = "CHAIND_STORE_LOCK_HELPER"
	lockHelperReady = "ready"
	lockHelperWait  = 10 * time.Second
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(lockHelperEnv); dir != "" {
		os.Exit(lockHelper(dir))
	}
	os.Exit(m.Run())
}

func lockHelper(dir string) int {
	p, err := Open(dir, storetest.Network, chain.Hash{1}, WithLogger(quietLogger()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer p.Close()
	fmt.Println(lockHelperReady)
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // returns when the parent closes stdin
	return 0
}

func checkInUse(t *testing.T, dir string) {
	t.Helper()
	p, err := Open(dir, storetest.Network, chain.Hash{1}, WithLogger(quietLogger()))
	if err == nil {
		p.Close()
		t.Fatal("opened a data directory that is in use")
	}
	want := fmt.Sprintf("data directory %s is in use by another chaind process", dir)
	t.Log(err)
	if !errors.Is(err, store.ErrInUse) || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want ErrInUse saying %q", err, want)
	}
}

func TestPebbleInUse(t *testing.T) {
	dir := t.TempDir()

	// Another process holds the directory.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = lockHelperWait
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != lockHelperReady {
		stdin.Close()
		_ = cmd.Wait()
		t.Fatalf("helper process: %q, %v; stderr: %s", line, err, stderr.String())
	}
	checkInUse(t, dir)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper process: %v; stderr: %s", err, stderr.String())
	}

	// The helper is gone: the directory opens, and a second Open in this
	// process is refused while the first is open.
	p, err := Open(dir, storetest.Network, chain.Hash{1}, WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	checkInUse(t, dir)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p, err = Open(dir, storetest.Network, chain.Hash{1}, WithLogger(quietLogger()))
	if err != nil {
		t.Fatalf("reopening after Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestPebbleQuietLogger checks that opening, writing, closing and
// reopening a store logs nothing at info level or above, and that Pebble's
// lines do arrive at debug level.
func TestPebbleQuietLogger(t *testing.T) {
	var info, debug bytes.Buffer
	infoLog := slog.New(slog.NewTextHandler(&info, &slog.HandlerOptions{Level: slog.LevelInfo}))
	debugLog := slog.New(slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dir := t.TempDir()
	c := storetest.NewChain(6, storetest.Pool, false, true)
	for i, l := range []*slog.Logger{infoLog, infoLog, debugLog} {
		p, err := Open(dir, storetest.Network, c.GenesisBlock().Hash(), WithLogger(l))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			storetest.MustConnect(t, p, c.Genesis(t))
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if info.Len() != 0 {
		t.Fatalf("logged at info level or above:\n%s", info.String())
	}
	if !strings.Contains(debug.String(), "sys=store") {
		t.Fatalf("no Pebble line at debug level; got:\n%s", debug.String())
	}
}
