package netsync

import (
	"bytes"
	"errors"
	"math/big"
	"testing"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/chaintest"
)

func TestStatusRoundTrip(t *testing.T) {
	for _, w := range []*big.Int{big.NewInt(0), big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 300)} {
		s := Status{Genesis: chain.Hash{1}, Best: chain.Hash{2}, Height: 77, Work: w}
		enc := EncodeStatus(s)
		if len(enc) > MaxStatusSize {
			t.Fatalf("status of %d bytes over its cap %d", len(enc), MaxStatusSize)
		}
		got, err := DecodeStatus(enc)
		if err != nil || got.Genesis != s.Genesis || got.Best != s.Best || got.Height != 77 || got.Work.Cmp(w) != 0 {
			t.Fatalf("round trip of %v: %+v, %v", w, got, err)
		}
	}
	good := EncodeStatus(Status{Work: big.NewInt(300)})
	bad := map[string][]byte{
		"short":         good[:10],
		"trailing":      append(bytes.Clone(good), 0),
		"truncated":     good[:len(good)-1],
		"leading zero":  append(append(bytes.Clone(good[:len(good)-3]), 3, 0), good[len(good)-2:]...),
		"work too long": append(append(bytes.Clone(good[:len(good)-3]), MaxWorkBytes+1), make([]byte, MaxWorkBytes+1)...),
	}
	for name, b := range bad {
		if _, err := DecodeStatus(b); !errors.Is(err, errMalformed) {
			t.Errorf("%s: decoded, err %v", name, err)
		}
	}
}

func TestHeadersRoundTrip(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(2), 1000)
	blocks := buildChain(p, 2, 3, 0, 1)
	hs := []chain.Header{blocks[0].Header, blocks[1].Header, blocks[2].Header}
	got, err := decodeHeaders(EncodeHeaders(hs))
	if err != nil || len(got) != 3 || got[2] != hs[2] {
		t.Fatalf("headers round trip: %v %v", got, err)
	}
	if _, err := decodeHeaders(EncodeHeaders(hs)[:100]); err == nil {
		t.Fatal("truncated headers decoded")
	}
	many := make([]byte, 2)
	many[0], many[1] = 0xff, 0xff
	if _, err := decodeHeaders(many); err == nil {
		t.Fatal("a count over MaxHeadersPerRequest decoded")
	}
	full := make([]chain.Header, blockchain.MaxHeadersPerRequest)
	if n := len(EncodeHeaders(full)); n != MaxHeadersResponseSize {
		t.Fatalf("a full headers response is %d bytes, cap %d", n, MaxHeadersResponseSize)
	}

	loc := make([]chain.Hash, blockchain.MaxLocatorHashes)
	loc[5] = chain.Hash{5}
	req := EncodeHeadersRequest(HeadersRequest{Locator: loc, Stop: chain.Hash{9}})
	if len(req) != MaxHeadersRequestSize {
		t.Fatalf("a full locator is %d bytes, cap %d", len(req), MaxHeadersRequestSize)
	}
	r, err := DecodeHeadersRequest(req)
	if err != nil || len(r.Locator) != len(loc) || r.Locator[5] != loc[5] || r.Stop != (chain.Hash{9}) {
		t.Fatalf("headers request round trip: %v", err)
	}
	if _, err := DecodeHeadersRequest(req[:len(req)-1]); err == nil {
		t.Fatal("truncated headers request decoded")
	}
}

func TestBlocksRoundTrip(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(4), 1_000_000)
	blocks := buildChain(p, 4, 3, 5, 2)
	var raw [][]byte
	for _, b := range blocks {
		raw = append(raw, b.Encode())
	}
	got, err := decodeBlocks(encodeBlocks(raw), 3)
	if err != nil || len(got) != 3 || got[1].Hash() != blocks[1].Hash() {
		t.Fatalf("blocks round trip: %v", err)
	}
	if _, err := decodeBlocks(encodeBlocks(raw), 2); err == nil {
		t.Fatal("more blocks than asked for decoded")
	}
	enc := encodeBlocks(raw)
	if _, err := decodeBlocks(append(enc, 0), 3); err == nil {
		t.Fatal("trailing byte decoded")
	}
	if _, err := decodeBlocks(enc[:len(enc)-1], 3); err == nil {
		t.Fatal("truncated response decoded")
	}
	sizes := blockSizes(enc, 3)
	for i, r := range raw {
		if sizes[i] != len(r) {
			t.Fatalf("size %d: %d, want %d", i, sizes[i], len(r))
		}
	}

	hs := []chain.Hash{{1}, {2}}
	if got, err := decodeBlocksRequest(encodeHashes(hs)); err != nil || len(got) != 2 || got[1] != hs[1] {
		t.Fatalf("blocks request round trip: %v", err)
	}
	for name, req := range map[string][]byte{
		"empty":     {0},
		"duplicate": encodeHashes([]chain.Hash{{1}, {1}}),
		"too many":  encodeHashes(make([]chain.Hash, MaxBlocksPerRequest+1)),
		"truncated": encodeHashes(hs)[:40],
	} {
		if _, err := decodeBlocksRequest(req); !errors.Is(err, errMalformed) {
			t.Errorf("%s blocks request: %v", name, err)
		}
	}
}

func TestTxsRoundTrip(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 1_000_000)
	var txs []*chain.Tx
	for i := 0; i < 4; i++ {
		tx := chaintest.Tx(p, keys[0], keys[1].Address(), uint64(10+i), 1, uint64(i))
		tx.Memo = bytes.Repeat([]byte("m"), i*20)
		keys[0].SignTx(tx, p.GenesisHash())
		txs = append(txs, tx)
	}
	enc := encodeTxs(txs)
	got, err := decodeTxs(enc)
	if err != nil || len(got) != 4 || got[3].ID() != txs[3].ID() {
		t.Fatalf("txs round trip: %v", err)
	}
	if _, err := decodeTxs(enc[:len(enc)-1]); err == nil {
		t.Fatal("truncated txs decoded")
	}
	if _, err := decodeTxs(append(bytes.Clone(enc), 0)); err == nil {
		t.Fatal("trailing byte decoded")
	}
	full := make([]*chain.Tx, MaxMempoolTxs)
	big := &chain.Tx{Memo: make([]byte, chain.MaxMemoSize)}
	for i := range full {
		full[i] = big
	}
	if n := len(encodeTxs(full)); n != MaxMempoolResponseSize {
		t.Fatalf("a full mempool response is %d bytes, cap %d", n, MaxMempoolResponseSize)
	}
}

// FuzzDecoders: no input makes a decoder panic, and whatever decodes
// re-encodes to the same bytes (the encodings are canonical).
func FuzzDecoders(f *testing.F) {
	p := chaintest.Params(chaintest.Keys(2), 1000)
	blocks := buildChain(p, 2, 2, 1, 1)
	f.Add(EncodeStatus(Status{Work: big.NewInt(12345)}))
	f.Add(EncodeHeaders([]chain.Header{blocks[0].Header}))
	f.Add(EncodeHeadersRequest(HeadersRequest{Locator: []chain.Hash{{1}}}))
	f.Add(encodeHashes([]chain.Hash{{1}, {2}}))
	f.Add(encodeBlocks([][]byte{blocks[0].Encode(), blocks[1].Encode()}))
	f.Add(encodeTxs(blocks[1].Txs[1:]))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := DecodeStatus(b); err == nil && !bytes.Equal(EncodeStatus(s), b) {
			t.Fatal("status not canonical")
		}
		if hs, err := decodeHeaders(b); err == nil && !bytes.Equal(EncodeHeaders(hs), b) {
			t.Fatal("headers not canonical")
		}
		if r, err := DecodeHeadersRequest(b); err == nil && !bytes.Equal(EncodeHeadersRequest(r), b) {
			t.Fatal("headers request not canonical")
		}
		if hs, err := decodeBlocksRequest(b); err == nil && !bytes.Equal(encodeHashes(hs), b) {
			t.Fatal("blocks request not canonical")
		}
		if bs, err := decodeBlocks(b, MaxBlocksPerRequest); err == nil {
			var raw [][]byte
			for _, blk := range bs {
				raw = append(raw, blk.Encode())
			}
			if !bytes.Equal(encodeBlocks(raw), b) {
				t.Fatal("blocks not canonical")
			}
		}
		if txs, err := decodeTxs(b); err == nil && !bytes.Equal(encodeTxs(txs), b) {
			t.Fatal("txs not canonical")
		}
	})
}
