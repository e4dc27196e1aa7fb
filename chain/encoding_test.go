package chain_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"math/rand"
	randv2 "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/bech32"
	"github.com/chaind/chaind/internal/chaintest"
)

// Sizes of the randomized encoding tests.
const (
	randomCases     = 300 // random values per round-trip test
	maxRandomTxs    = 8   // transactions in a random block
	allocRuns       = 100 // calls averaged by testing.AllocsPerRun
	maxRejectAllocs = 8   // allocations a rejected oversized count may cost
	maxRejectBytes  = 2048
	chainBlocks     = 4 // blocks of the chaintest branch used as samples
	chainTxsPer     = 3 // transfers per block of that branch
	testPrefix      = "dev"
)

func newRand(seed uint64) *randv2.Rand {
	return randv2.New(randv2.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func randBytes(rng *randv2.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func randHash(rng *randv2.Rand) (h chain.Hash) {
	copy(h[:], randBytes(rng, chain.HashSize))
	return h
}

func randHeader(rng *randv2.Rand) chain.Header {
	return chain.Header{
		Version:    uint16(rng.Uint32()),
		Height:     rng.Uint32(),
		PrevHash:   randHash(rng),
		MerkleRoot: randHash(rng),
		DataHash:   randHash(rng),
		Timestamp:  rng.Uint32(),
		Bits:       rng.Uint32(),
		Nonce:      rng.Uint64(),
	}
}

func randTx(rng *randv2.Rand, memoLen int) *chain.Tx {
	tx := &chain.Tx{Amount: rng.Uint64(), Fee: rng.Uint64(), Nonce: rng.Uint64()}
	copy(tx.From[:], randBytes(rng, chain.PublicKeySize))
	copy(tx.To[:], randBytes(rng, chain.AddressSize))
	copy(tx.Signature[:], randBytes(rng, chain.SignatureSize))
	if memoLen > 0 {
		tx.Memo = randBytes(rng, memoLen)
	}
	return tx
}

func randBlock(rng *randv2.Rand, dataLen, ntx int) *chain.Block {
	b := &chain.Block{Header: randHeader(rng)}
	if dataLen > 0 {
		b.Data = randBytes(rng, dataLen)
	}
	for i := 0; i < ntx; i++ {
		b.Txs = append(b.Txs, randTx(rng, rng.IntN(chain.MaxMemoSize+1)))
	}
	return b
}

// sampleBranch returns a short valid regtest chain with signed transfers.
func sampleBranch(tb testing.TB) []*chain.Block {
	tb.Helper()
	keys := chaintest.Keys(3)
	br := chaintest.NewBranch(chaintest.Params(keys, 1_000_000_000), keys)
	br.Memo = "sample"
	br.Extend(rand.New(rand.NewSource(1)), chainBlocks, chainTxsPer)
	return br.Blocks
}

func txEqual(a, b *chain.Tx) bool {
	return a.From == b.From && a.To == b.To && a.Amount == b.Amount && a.Fee == b.Fee &&
		a.Nonce == b.Nonce && bytes.Equal(a.Memo, b.Memo) && a.Signature == b.Signature
}

func blockEqual(a, b *chain.Block) bool {
	if a.Header != b.Header || !bytes.Equal(a.Data, b.Data) || len(a.Txs) != len(b.Txs) {
		return false
	}
	for i := range a.Txs {
		if !txEqual(a.Txs[i], b.Txs[i]) {
			return false
		}
	}
	return true
}

func TestHeaderRoundTrip(t *testing.T) {
	rng := newRand(1)
	cases := []chain.Header{{}, {Version: math.MaxUint16, Height: math.MaxUint32, Timestamp: math.MaxUint32, Bits: math.MaxUint32, Nonce: math.MaxUint64}}
	for i := 0; i < randomCases; i++ {
		cases = append(cases, randHeader(rng))
	}
	for _, h := range cases {
		enc := h.Encode()
		got, err := chain.DecodeHeader(enc[:])
		if err != nil {
			t.Fatalf("DecodeHeader(%x): %v", enc, err)
		}
		if got != h {
			t.Fatalf("round trip changed the header:\n got %+v\nwant %+v", got, h)
		}
		if n := binary.BigEndian.Uint64(enc[chain.HeaderSize-8:]); n != h.Nonce {
			t.Fatalf("nonce is not the last 8 bytes: %x, want %x", n, h.Nonce)
		}
		if h.Hash() != sha256.Sum256(enc[:]) {
			t.Fatal("Header.Hash is not SHA-256 of the encoding")
		}
	}
}

func TestTxRoundTrip(t *testing.T) {
	rng := newRand(2)
	memoLens := []int{0, 1, chain.MaxMemoSize - 1, chain.MaxMemoSize}
	for i := 0; i < randomCases; i++ {
		memoLens = append(memoLens, rng.IntN(chain.MaxMemoSize+1))
	}
	for _, n := range memoLens {
		tx := randTx(rng, n)
		enc := tx.Encode()
		if len(enc) != tx.Size() || len(enc) != chain.MinTxSize+n {
			t.Fatalf("memo %d: encoding is %d bytes, Size says %d", n, len(enc), tx.Size())
		}
		got, err := chain.DecodeTx(enc)
		if err != nil {
			t.Fatalf("memo %d: DecodeTx: %v", n, err)
		}
		if !txEqual(got, tx) {
			t.Fatalf("memo %d: round trip changed the transaction", n)
		}
		if got.ID() != tx.ID() || tx.ID() != sha256.Sum256(enc) {
			t.Fatalf("memo %d: ID is not SHA-256 of the encoding", n)
		}
		prefix := []byte("prefix")
		if app := tx.AppendEncode(prefix); !bytes.Equal(app[len(prefix):], enc) || !bytes.Equal(app[:len(prefix)], []byte("prefix")) {
			t.Fatalf("memo %d: AppendEncode does not append the encoding", n)
		}
	}
}

func TestTxMaxSize(t *testing.T) {
	tx := randTx(newRand(3), chain.MaxMemoSize)
	if got := len(tx.Encode()); got != chain.MaxTxSize {
		t.Fatalf("longest transaction encodes to %d bytes, MaxTxSize is %d", got, chain.MaxTxSize)
	}
	if got := len((&chain.Tx{}).Encode()); got != chain.MinTxSize {
		t.Fatalf("shortest transaction encodes to %d bytes, MinTxSize is %d", got, chain.MinTxSize)
	}
}

func TestSigningMessage(t *testing.T) {
	rng := newRand(4)
	tx := randTx(rng, 5)
	net1, net2 := randHash(rng), randHash(rng)
	m1, m2 := tx.SigningMessage(net1), tx.SigningMessage(net2)
	if bytes.Equal(m1, m2) {
		t.Fatal("signing message does not depend on the network id")
	}
	enc := tx.Encode()
	body := enc[:len(enc)-chain.SignatureSize]
	if !bytes.HasSuffix(m1, body) {
		t.Fatal("signing message does not end with the encoding minus the signature")
	}
	if !bytes.Equal(m1[len(m1)-len(body)-chain.HashSize:len(m1)-len(body)], net1[:]) {
		t.Fatal("network id does not precede the body")
	}
	tx2 := *tx
	tx2.Signature[0] ^= 1
	if !bytes.Equal(tx2.SigningMessage(net1), m1) {
		t.Fatal("signing message depends on the signature")
	}
	if tx2.ID() == tx.ID() {
		t.Fatal("tx id does not commit to the signature")
	}
}

func TestBlockRoundTrip(t *testing.T) {
	rng := newRand(5)
	cases := []*chain.Block{
		{},                                   // zero transactions, no data
		randBlock(rng, chain.MaxDataSize, 0), // longest data note
		randBlock(rng, 0, 1),
		randBlock(rng, 1, maxRandomTxs),
	}
	for i := 0; i < randomCases/10; i++ {
		cases = append(cases, randBlock(rng, rng.IntN(chain.MaxDataSize+1), rng.IntN(maxRandomTxs+1)))
	}
	cases = append(cases, sampleBranch(t)...)
	for i, b := range cases {
		enc := b.Encode()
		if len(enc) != b.Size() {
			t.Fatalf("block %d: encoding is %d bytes, Size says %d", i, len(enc), b.Size())
		}
		got, err := chain.DecodeBlock(enc)
		if err != nil {
			t.Fatalf("block %d: DecodeBlock: %v", i, err)
		}
		if !blockEqual(got, b) {
			t.Fatalf("block %d: round trip changed the block", i)
		}
		if got.Hash() != b.Header.Hash() {
			t.Fatalf("block %d: block hash is not the header hash", i)
		}
		if !bytes.Equal(got.Encode(), enc) {
			t.Fatalf("block %d: re-encoding differs", i)
		}
	}
}

// assertMalformed fails unless err wraps chain.ErrMalformed.
func assertMalformed(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: decoded without error", what)
	}
	if !errors.Is(err, chain.ErrMalformed) {
		t.Fatalf("%s: error does not wrap ErrMalformed: %v", what, err)
	}
}

func TestDecodeRejectsTruncationAndTrailingBytes(t *testing.T) {
	blocks := sampleBranch(t)
	blk := blocks[len(blocks)-1]
	hdr := blk.Header.Encode()
	tx := blk.Txs[1].Encode()
	memoTx := randTx(newRand(6), chain.MaxMemoSize).Encode()
	dataBlock := randBlock(newRand(7), chain.MaxDataSize, 2).Encode()

	decoders := []struct {
		name   string
		enc    []byte
		decode func([]byte) error
	}{
		{"header", hdr[:], func(b []byte) error { _, err := chain.DecodeHeader(b); return err }},
		{"tx", tx, func(b []byte) error { _, err := chain.DecodeTx(b); return err }},
		{"tx with memo", memoTx, func(b []byte) error { _, err := chain.DecodeTx(b); return err }},
		{"block", blk.Encode(), func(b []byte) error { _, err := chain.DecodeBlock(b); return err }},
		{"block with data", dataBlock, func(b []byte) error { _, err := chain.DecodeBlock(b); return err }},
	}
	for _, d := range decoders {
		if err := d.decode(d.enc); err != nil {
			t.Fatalf("%s: the valid encoding does not decode: %v", d.name, err)
		}
		for n := 0; n < len(d.enc); n++ {
			assertMalformed(t, d.name+" truncated to "+strconv.Itoa(n), d.decode(d.enc[:n]))
		}
		for _, extra := range [][]byte{{0}, {1, 2, 3}, d.enc} {
			long := append(append([]byte(nil), d.enc...), extra...)
			assertMalformed(t, d.name+" with trailing bytes", d.decode(long))
		}
	}
}

func TestDecodeTxRejectsLongMemo(t *testing.T) {
	tx := randTx(newRand(8), chain.MaxMemoSize)
	enc := tx.Encode()
	memoLenAt := chain.MinTxSize - chain.SignatureSize - 1
	if int(enc[memoLenAt]) != chain.MaxMemoSize {
		t.Fatalf("memo length byte not at offset %d", memoLenAt)
	}
	// A memo one byte longer than allowed, with every byte present.
	long := append(append(append([]byte(nil), enc[:memoLenAt]...), chain.MaxMemoSize+1), make([]byte, chain.MaxMemoSize+1+chain.SignatureSize)...)
	assertMalformed(t, "65-byte memo", func() error { _, err := chain.DecodeTx(long); return err }())
	long[memoLenAt] = 0xff
	long = append(long, make([]byte, 0xff)...)
	assertMalformed(t, "255-byte memo", func() error { _, err := chain.DecodeTx(long); return err }())
	// The same transaction inside a block is refused as well.
	blk := &chain.Block{}
	enc = blk.Encode()
	binary.BigEndian.PutUint32(enc[len(enc)-4:], 1)
	enc = append(enc, long...)
	assertMalformed(t, "block with a 255-byte memo", func() error { _, err := chain.DecodeBlock(enc); return err }())
}

func TestDecodeBlockRejectsLongData(t *testing.T) {
	for _, n := range []int{chain.MaxDataSize + 1, math.MaxUint16} {
		enc := (&chain.Block{}).Encode()
		binary.BigEndian.PutUint16(enc[chain.HeaderSize:], uint16(n))
		enc = append(enc[:chain.HeaderSize+2], append(make([]byte, n), 0, 0, 0, 0)...)
		assertMalformed(t, strconv.Itoa(n)+"-byte data note", func() error { _, err := chain.DecodeBlock(enc); return err }())
	}
	// The longest allowed note decodes.
	enc := (&chain.Block{Data: make([]byte, chain.MaxDataSize)}).Encode()
	if _, err := chain.DecodeBlock(enc); err != nil {
		t.Fatalf("%d-byte data note: %v", chain.MaxDataSize, err)
	}
}

func TestDecodeBlockRejectsOversizedInput(t *testing.T) {
	enc := make([]byte, chain.MaxBlockSize+1)
	assertMalformed(t, "block over MaxBlockSize", func() error { _, err := chain.DecodeBlock(enc); return err }())
}

// blockWithCount returns an empty block's encoding that declares count
// transactions, followed by extra zero bytes.
func blockWithCount(count uint32, extra int) []byte {
	enc := (&chain.Block{}).Encode()
	binary.BigEndian.PutUint32(enc[len(enc)-4:], count)
	return append(enc, make([]byte, extra)...)
}

func TestDecodeBlockTxCountBoundedByInput(t *testing.T) {
	// count minimum-size transactions fit exactly; one more does not.
	const count = 3
	enc := blockWithCount(count, count*chain.MinTxSize)
	b, err := chain.DecodeBlock(enc)
	if err != nil {
		t.Fatalf("%d minimum-size transactions: %v", count, err)
	}
	if len(b.Txs) != count {
		t.Fatalf("decoded %d transactions, want %d", len(b.Txs), count)
	}
	assertMalformed(t, "one transaction too many", func() error { _, err := chain.DecodeBlock(blockWithCount(count+1, count*chain.MinTxSize)); return err }())
	assertMalformed(t, "count above MaxBlockTxs", func() error {
		_, err := chain.DecodeBlock(blockWithCount(chain.MaxBlockTxs+1, (chain.MaxBlockTxs+1)*chain.MinTxSize))
		return err
	}())
	assertMalformed(t, "count 2^32-1", func() error { _, err := chain.DecodeBlock(blockWithCount(math.MaxUint32, 16)); return err }())
}

// TestDecodeBlockHugeCountDoesNotAllocate checks that a tiny input declaring
// 65535 transactions is refused before anything is sized by the count: a
// slice of 65535 pointers alone would be 512 KiB.
func TestDecodeBlockHugeCountDoesNotAllocate(t *testing.T) {
	enc := blockWithCount(math.MaxUint16, 10)
	decode := func() {
		if _, err := chain.DecodeBlock(enc); err == nil {
			t.Fatal("a block declaring 65535 transactions in 10 bytes decoded")
		}
	}
	if allocs := testing.AllocsPerRun(allocRuns, decode); allocs > maxRejectAllocs {
		t.Fatalf("rejecting the block cost %.0f allocations, want at most %d", allocs, maxRejectAllocs)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < allocRuns; i++ {
		decode()
	}
	runtime.ReadMemStats(&after)
	if perCall := (after.TotalAlloc - before.TotalAlloc) / allocRuns; perCall > maxRejectBytes {
		t.Fatalf("rejecting the block allocated %d bytes per call, want at most %d", perCall, maxRejectBytes)
	}
}

// goldenHeader has every field set to a distinct, recognisable value.
var goldenHeader = chain.Header{
	Version:    1,
	Height:     0x01020304,
	PrevHash:   seqHash(0x00),
	MerkleRoot: seqHash(0x20),
	DataHash:   seqHash(0x40),
	Timestamp:  0x61626364,
	Bits:       0x1d00ffff,
	Nonce:      0x0102030405060708,
}

func seqHash(start byte) (h chain.Hash) {
	for i := range h {
		h[i] = start + byte(i)
	}
	return h
}

// TestHeaderGolden pins the header layout (written out by hand from the
// format: big-endian version, height, three hashes, timestamp, bits,
// nonce) and the block hash of that header, so the encoding cannot change
// without this test noticing.
func TestHeaderGolden(t *testing.T) {
	want := "0001" + "01020304" +
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" +
		"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" +
		"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f" +
		"61626364" + "1d00ffff" + "0102030405060708"
	enc := goldenHeader.Encode()
	if got := hex.EncodeToString(enc[:]); got != want {
		t.Fatalf("header encoding changed:\n got %s\nwant %s", got, want)
	}
	const wantHash = "ab5c0aefafd34111a72126855639246078a869fc48ccfb4c59feced686236d18"
	if got := goldenHeader.Hash().String(); got != wantHash {
		t.Fatalf("header hash changed: got %s, want %s", got, wantHash)
	}
}

// TestTxGolden pins the transaction layout and id the same way.
func TestTxGolden(t *testing.T) {
	tx := &chain.Tx{Amount: 100_000_000, Fee: 1000, Nonce: 7, Memo: []byte("hi")}
	for i := range tx.From {
		tx.From[i] = 0xa0 + byte(i)
	}
	for i := range tx.To {
		tx.To[i] = 0xc0 + byte(i)
	}
	for i := range tx.Signature {
		tx.Signature[i] = 0x40 + byte(i)
	}
	want := "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" + // from
		"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3" + // to
		"0000000005f5e100" + "00000000000003e8" + "0000000000000007" + // amount, fee, nonce
		"02" + "6869" + // memo
		"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f" +
		"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f" // signature
	if got := hex.EncodeToString(tx.Encode()); got != want {
		t.Fatalf("tx encoding changed:\n got %s\nwant %s", got, want)
	}
	const wantID = "c8b25388dafe67afee39b58e9139df4f56901d878159d6d2e02ac337488d22bf"
	if got := tx.ID().String(); got != wantID {
		t.Fatalf("tx id changed: got %s, want %s", got, wantID)
	}
}

func TestMerkleRoot(t *testing.T) {
	rng := newRand(9)
	ids := make([]chain.Hash, 6)
	for i := range ids {
		ids[i] = randHash(rng)
	}
	a, b, c, d, e := ids[0], ids[1], ids[2], ids[3], ids[4]
	node := func(l, r chain.Hash) chain.Hash {
		return sha256.Sum256(append(append([]byte{0x01}, l[:]...), r[:]...))
	}
	cases := []struct {
		name string
		ids  []chain.Hash
		want chain.Hash
	}{
		{"none", nil, chain.ZeroHash},
		{"one", []chain.Hash{a}, a},
		{"two", []chain.Hash{a, b}, node(a, b)},
		{"three", []chain.Hash{a, b, c}, node(node(a, b), c)},
		{"four", []chain.Hash{a, b, c, d}, node(node(a, b), node(c, d))},
		{"five", []chain.Hash{a, b, c, d, e}, node(node(node(a, b), node(c, d)), e)},
	}
	for _, tc := range cases {
		in := append([]chain.Hash(nil), tc.ids...)
		if got := chain.MerkleRoot(in); got != tc.want {
			t.Errorf("%s: root %s, want %s", tc.name, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.ids[i] {
				t.Fatalf("%s: MerkleRoot modified its input", tc.name)
			}
		}
	}
	if chain.MerkleRoot([]chain.Hash{a, b}) == chain.MerkleRoot([]chain.Hash{b, a}) {
		t.Error("order of two ids does not change the root")
	}
	if chain.MerkleRoot([]chain.Hash{a, b, c}) == chain.MerkleRoot([]chain.Hash{a, c, b}) {
		t.Error("order of three ids does not change the root")
	}
	if chain.MerkleRoot([]chain.Hash{a, b, c}) == chain.MerkleRoot([]chain.Hash{a, b, c, c}) {
		t.Error("[a b c] and [a b c c] share a root (Bitcoin's duplicate-last weakness)")
	}
	if chain.MerkleRoot([]chain.Hash{a, b, c, d, e}) == chain.MerkleRoot([]chain.Hash{a, b, c, d, e, e}) {
		t.Error("[a b c d e] and [a b c d e e] share a root")
	}
}

func TestHashText(t *testing.T) {
	h := randHash(newRand(10))
	txt, err := h.MarshalText()
	if err != nil || string(txt) != hex.EncodeToString(h[:]) {
		t.Fatalf("MarshalText = %q, %v", txt, err)
	}
	var back chain.Hash
	if err := back.UnmarshalText(txt); err != nil || back != h {
		t.Fatalf("UnmarshalText: %v", err)
	}
	for _, bad := range []string{"", "00", strings.Repeat("0", 63), strings.Repeat("0", 65), strings.Repeat("g", 64)} {
		if _, err := chain.ParseHash(bad); err == nil {
			t.Errorf("ParseHash(%q) accepted", bad)
		}
	}
	if !chain.ZeroHash.IsZero() || h.IsZero() {
		t.Error("IsZero wrong")
	}
}

func TestAddressFormatAndParse(t *testing.T) {
	rng := newRand(11)
	for i := 0; i < randomCases; i++ {
		var a chain.Address
		copy(a[:], randBytes(rng, chain.AddressSize))
		s := chain.FormatAddress(testPrefix, a)
		if !strings.HasPrefix(s, testPrefix+"1") {
			t.Fatalf("address %q lacks the prefix", s)
		}
		got, err := chain.ParseAddress(testPrefix, s)
		if err != nil || got != a {
			t.Fatalf("ParseAddress(%q) = %x, %v; want %x", s, got, err, a)
		}
		if got, err := chain.ParseAddress(testPrefix, strings.ToUpper(s)); err != nil || got != a {
			t.Fatalf("upper-case address refused: %v", err)
		}
	}
}

func TestAddressOf(t *testing.T) {
	var pub chain.PublicKey
	copy(pub[:], randBytes(newRand(12), chain.PublicKeySize))
	sum := sha256.Sum256(pub[:])
	if a := chain.AddressOf(pub); !bytes.Equal(a[:], sum[:chain.AddressSize]) {
		t.Fatal("address is not the first 20 bytes of SHA-256 of the key")
	}
}

func TestParseAddressRejects(t *testing.T) {
	var a chain.Address
	copy(a[:], randBytes(newRand(13), chain.AddressSize))
	s := chain.FormatAddress(testPrefix, a)
	short, err := bech32.EncodeBytes(testPrefix, a[:chain.AddressSize-1])
	if err != nil {
		t.Fatal(err)
	}
	long, err := bech32.EncodeBytes(testPrefix, append(a[:], 0))
	if err != nil {
		t.Fatal(err)
	}
	mixed := strings.ToUpper(s[:5]) + s[5:]
	for name, in := range map[string]string{
		"other prefix":   chain.FormatAddress("chd", a),
		"19 bytes":       short,
		"21 bytes":       long,
		"empty":          "",
		"no separator":   "devqqqqqqqq",
		"mixed case":     mixed,
		"dropped char":   s[:len(s)-1],
		"added char":     s + "q",
		"hex not bech32": hex.EncodeToString(a[:]),
	} {
		if _, err := chain.ParseAddress(testPrefix, in); err == nil {
			t.Errorf("%s: ParseAddress(%q) accepted", name, in)
		}
	}
	// bech32m detects every single-character substitution.
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	for i := len(testPrefix) + 1; i < len(s); i++ {
		for _, c := range charset {
			if byte(c) == s[i] {
				continue
			}
			typo := s[:i] + string(c) + s[i+1:]
			if _, err := chain.ParseAddress(testPrefix, typo); err == nil {
				t.Fatalf("typo at %d (%q) accepted", i, typo)
			}
		}
	}
}

func TestValidAddressPrefix(t *testing.T) {
	for _, ok := range []string{"dev", "chd", "reg", "a", "x1y2", strings.Repeat("a", 20)} {
		if err := chain.ValidAddressPrefix(ok); err != nil {
			t.Errorf("ValidAddressPrefix(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Dev", "de-v", "dé", strings.Repeat("a", 21), "a b"} {
		if err := chain.ValidAddressPrefix(bad); err == nil {
			t.Errorf("ValidAddressPrefix(%q) accepted", bad)
		}
	}
}

// fuzzSeeds returns valid encodings from a chaintest branch and random
// values, for the fuzzers' in-code seeds.
func fuzzSeeds(tb testing.TB) (headers, txs, blocks [][]byte) {
	for _, b := range sampleBranch(tb) {
		h := b.Header.Encode()
		headers = append(headers, h[:])
		blocks = append(blocks, b.Encode())
		for _, tx := range b.Txs {
			txs = append(txs, tx.Encode())
		}
	}
	rng := newRand(14)
	txs = append(txs, randTx(rng, chain.MaxMemoSize).Encode())
	blocks = append(blocks, (&chain.Block{}).Encode(), randBlock(rng, chain.MaxDataSize, 1).Encode(), blockWithCount(math.MaxUint16, 10))
	return headers, txs, blocks
}

func FuzzDecodeHeader(f *testing.F) {
	headers, _, _ := fuzzSeeds(f)
	for _, h := range headers {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := chain.DecodeHeader(in)
		if err != nil {
			if !errors.Is(err, chain.ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if enc := h.Encode(); !bytes.Equal(enc[:], in) {
			t.Fatalf("decoded header re-encodes to %x, input %x", enc, in)
		}
	})
}

func FuzzDecodeTx(f *testing.F) {
	_, txs, _ := fuzzSeeds(f)
	for _, tx := range txs {
		f.Add(tx)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		tx, err := chain.DecodeTx(in)
		if err != nil {
			if !errors.Is(err, chain.ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if enc := tx.Encode(); !bytes.Equal(enc, in) {
			t.Fatalf("decoded tx re-encodes to %x, input %x", enc, in)
		}
		if len(tx.Memo) > chain.MaxMemoSize {
			t.Fatalf("decoded a %d-byte memo", len(tx.Memo))
		}
	})
}

func FuzzDecodeBlock(f *testing.F) {
	_, _, blocks := fuzzSeeds(f)
	for _, b := range blocks {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		b, err := chain.DecodeBlock(in)
		if err != nil {
			if !errors.Is(err, chain.ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if enc := b.Encode(); !bytes.Equal(enc, in) {
			t.Fatalf("decoded block re-encodes to %d bytes that differ from the %d input bytes", len(enc), len(in))
		}
		if len(b.Data) > chain.MaxDataSize || len(b.Txs) > chain.MaxBlockTxs {
			t.Fatalf("decoded a block beyond the bounds: data %d, txs %d", len(b.Data), len(b.Txs))
		}
	})
}

func FuzzParseAddress(f *testing.F) {
	rng := newRand(15)
	for _, hrp := range []string{"dev", "chd", "reg"} {
		var a chain.Address
		copy(a[:], randBytes(rng, chain.AddressSize))
		s := chain.FormatAddress(hrp, a)
		f.Add(hrp, s)
		f.Add(hrp, strings.ToUpper(s))
		f.Add("dev", s)
	}
	f.Add("dev", "")
	f.Fuzz(func(t *testing.T, hrp, s string) {
		a, err := chain.ParseAddress(hrp, s)
		if err != nil {
			return
		}
		// Bech32m allows an all-upper-case form; the canonical form is the
		// lower-case one, and it must be exactly the input otherwise.
		if got := chain.FormatAddress(hrp, a); got != strings.ToLower(s) || (s != got && s != strings.ToUpper(got)) {
			t.Fatalf("ParseAddress(%q, %q) = %x, which formats as %q", hrp, s, a, got)
		}
	})
}

// TestFuzzCorporaHoldValidEncodings checks that each committed seed corpus
// still holds at least one input that decodes, so the corpora follow the
// format and keep the fuzzers reaching the success path.
func TestFuzzCorporaHoldValidEncodings(t *testing.T) {
	decoders := map[string]func([]byte) error{
		"FuzzDecodeHeader": func(b []byte) error { _, err := chain.DecodeHeader(b); return err },
		"FuzzDecodeTx":     func(b []byte) error { _, err := chain.DecodeTx(b); return err },
		"FuzzDecodeBlock":  func(b []byte) error { _, err := chain.DecodeBlock(b); return err },
		"FuzzParseAddress": nil,
	}
	for name, decode := range decoders {
		files, err := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no seed corpus (%v)", name, err)
		}
		valid := 0
		for _, file := range files {
			args := readCorpusFile(t, file)
			var err error
			if decode == nil {
				if len(args) != 2 {
					t.Fatalf("%s: want 2 string values, got %d", file, len(args))
				}
				_, err = chain.ParseAddress(args[0], args[1])
			} else {
				if len(args) != 1 {
					t.Fatalf("%s: want 1 value, got %d", file, len(args))
				}
				err = decode([]byte(args[0]))
			}
			if err == nil {
				valid++
			}
		}
		if valid == 0 {
			t.Errorf("%s: none of the %d seeds decodes", name, len(files))
		}
	}
}

// readCorpusFile reads a "go test fuzz v1" file of []byte and string values.
func readCorpusFile(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) < 2 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a fuzz corpus file", path)
	}
	var out []string
	for _, l := range lines[1:] {
		var lit string
		switch {
		case strings.HasPrefix(l, "[]byte(") && strings.HasSuffix(l, ")"):
			lit = l[len("[]byte(") : len(l)-1]
		case strings.HasPrefix(l, "string(") && strings.HasSuffix(l, ")"):
			lit = l[len("string(") : len(l)-1]
		default:
			t.Fatalf("%s: unexpected line %.40q", path, l)
		}
		v, err := strconv.Unquote(lit)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

// TestDecodeBlockTx decodes every transaction of random blocks (memos of
// every length) one at a time and compares it with DecodeBlock's; indexes
// out of range and truncated blocks are refused.
func TestDecodeBlockTx(t *testing.T) {
	rng := newRand(11)
	for n := 0; n < randomCases/10; n++ {
		b := randBlock(rng, rng.IntN(chain.MaxDataSize+1), 1+rng.IntN(maxRandomTxs))
		enc := b.Encode()
		for i, want := range b.Txs {
			h, tx, err := chain.DecodeBlockTx(enc, i)
			if err != nil {
				t.Fatalf("block %d tx %d: %v", n, i, err)
			}
			if h != b.Header {
				t.Fatalf("block %d tx %d: header differs", n, i)
			}
			if tx.ID() != want.ID() {
				t.Fatalf("block %d tx %d: decoded another transaction", n, i)
			}
		}
		for _, i := range []int{-1, len(b.Txs), math.MaxInt} {
			_, _, err := chain.DecodeBlockTx(enc, i)
			assertMalformed(t, "index "+strconv.Itoa(i), err)
		}
		last := len(b.Txs) - 1
		_, _, err := chain.DecodeBlockTx(enc[:len(enc)-1], last)
		assertMalformed(t, "truncated block", err)
		_, _, err = chain.DecodeBlockTx(enc[:chain.BlockOverhead-1], 0)
		assertMalformed(t, "block shorter than its framing", err)
	}
}
