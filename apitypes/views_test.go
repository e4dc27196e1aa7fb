package apitypes_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/wallet"
)

// jsonObject marshals v and reads it back as a generic JSON object, so the
// tests see exactly the field names a client sees.
func jsonObject(t *testing.T, v any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// wantFields checks that m has exactly the keys of want with those values
// (numbers compared in their JSON text form).
func wantFields(t *testing.T, what string, m map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		got, ok := m[k]
		if !ok {
			t.Errorf("%s: field %q missing", what, k)
			continue
		}
		if w == nil {
			continue // presence only
		}
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s: %q = %v, want %v", what, k, got, w)
		}
	}
	for k := range m {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected field %q", what, k)
		}
	}
}

func TestBlockViewFieldNames(t *testing.T) {
	blocks := sampleBranch(t)
	b := blocks[len(blocks)-1]
	b.Data = []byte("a naivechain data note")
	m := jsonObject(t, apitypes.BlockOf(testPrefix, b))
	wantFields(t, "block", m, map[string]any{
		"index":         float64(b.Header.Height),
		"hash":          b.Hash().String(),
		"previous_hash": b.Header.PrevHash.String(),
		"timestamp":     float64(b.Header.Timestamp),
		"data":          "a naivechain data note",
		"proof":         float64(b.Header.Nonce),
		"version":       float64(b.Header.Version),
		"merkle_root":   b.Header.MerkleRoot.String(),
		"bits":          fmt.Sprintf("%08x", b.Header.Bits),
		"transactions":  nil,
	})
	txs, ok := m["transactions"].([]any)
	if !ok || len(txs) != len(b.Txs) {
		t.Fatalf("transactions: %d entries, want %d", len(txs), len(b.Txs))
	}
	cb := b.Txs[0]
	wantFields(t, "coinbase", txs[0].(map[string]any), map[string]any{
		"id":        cb.ID().String(),
		"sender":    "0",
		"recipient": chain.FormatAddress(testPrefix, cb.To),
		"amount":    float64(cb.Amount),
		"fee":       float64(0),
		"nonce":     float64(b.Header.Height),
		"memo":      "sample",
	})
	tx := b.Txs[1]
	wantFields(t, "transfer", txs[1].(map[string]any), map[string]any{
		"id":         tx.ID().String(),
		"sender":     chain.FormatAddress(testPrefix, tx.Sender()),
		"recipient":  chain.FormatAddress(testPrefix, tx.To),
		"amount":     float64(tx.Amount),
		"fee":        float64(tx.Fee),
		"nonce":      float64(tx.Nonce),
		"public_key": hex.EncodeToString(tx.From[:]),
		"signature":  hex.EncodeToString(tx.Signature[:]),
	})
}

func TestBlockViewEmptyBlock(t *testing.T) {
	m := jsonObject(t, apitypes.BlockOf(testPrefix, &chain.Block{}))
	if txs, ok := m["transactions"].([]any); !ok || len(txs) != 0 {
		t.Fatalf("a block without transactions shows %v, want []", m["transactions"])
	}
	if m["data"] != "" {
		t.Fatalf("empty data shows %v", m["data"])
	}
}

// signedTx returns a transfer signed by test key 1 for a regtest network.
func signedTx(t *testing.T, memo string) (*chain.Tx, *wallet.Key, chain.Hash) {
	t.Helper()
	keys := chaintest.Keys(3)
	p := chaintest.Params(keys, 1_000_000)
	tx := &chain.Tx{To: keys[2].Address(), Amount: 12345, Fee: 7, Nonce: 3, Memo: []byte(memo)}
	keys[1].SignTx(tx, p.GenesisHash())
	return tx, keys[1], p.GenesisHash()
}

func TestParseTxRoundTrip(t *testing.T) {
	for _, memo := range []string{"", "rent", strings.Repeat("m", chain.MaxMemoSize)} {
		tx, _, netID := signedTx(t, memo)
		raw, err := json.Marshal(apitypes.TxOf(testPrefix, tx))
		if err != nil {
			t.Fatal(err)
		}
		var v apitypes.Tx
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		got, err := apitypes.ParseTx(testPrefix, v)
		if err != nil {
			t.Fatalf("memo %q: ParseTx: %v", memo, err)
		}
		if !txEqual(got, tx) || got.ID() != tx.ID() {
			t.Fatalf("memo %q: round trip changed the transaction", memo)
		}
		if !consensus.VerifyTx(got, netID) {
			t.Fatalf("memo %q: parsed transaction's signature does not verify", memo)
		}
		// Addresses may be given in bech32m's upper-case form.
		upper := v
		upper.Sender, upper.Recipient = strings.ToUpper(v.Sender), strings.ToUpper(v.Recipient)
		if got, err := apitypes.ParseTx(testPrefix, upper); err != nil || got.ID() != tx.ID() {
			t.Fatalf("memo %q: upper-case addresses: %v", memo, err)
		}
		// sender and id are optional.
		v.Sender, v.ID = "", chain.Hash{}
		if got, err := apitypes.ParseTx(testPrefix, v); err != nil || got.ID() != tx.ID() {
			t.Fatalf("memo %q: without sender and id: %v", memo, err)
		}
	}
}

func TestParseTxRejects(t *testing.T) {
	tx, _, _ := signedTx(t, "memo")
	good := apitypes.TxOf(testPrefix, tx)
	other := chain.FormatAddress(testPrefix, chaintest.Key(2).Address())
	cases := map[string]func(v *apitypes.Tx){
		"missing public_key":     func(v *apitypes.Tx) { v.PublicKey = "" },
		"missing signature":      func(v *apitypes.Tx) { v.Signature = "" },
		"missing recipient":      func(v *apitypes.Tx) { v.Recipient = "" },
		"public_key not hex":     func(v *apitypes.Tx) { v.PublicKey = "zz" + v.PublicKey[2:] },
		"signature not hex":      func(v *apitypes.Tx) { v.Signature = v.Signature[:10] + "xx" + v.Signature[12:] },
		"public_key too short":   func(v *apitypes.Tx) { v.PublicKey = v.PublicKey[:62] },
		"signature too long":     func(v *apitypes.Tx) { v.Signature += "00" },
		"zero public_key":        func(v *apitypes.Tx) { v.PublicKey = strings.Repeat("0", 64) },
		"recipient other prefix": func(v *apitypes.Tx) { v.Recipient = chain.FormatAddress("chd", tx.To) },
		"recipient typo": func(v *apitypes.Tx) {
			v.Recipient = v.Recipient[:len(v.Recipient)-1] + flip(v.Recipient[len(v.Recipient)-1])
		},
		"sender mismatch": func(v *apitypes.Tx) { v.Sender = other },
		"coinbase sender": func(v *apitypes.Tx) { v.Sender = apitypes.CoinbaseSender },
		"id mismatch":     func(v *apitypes.Tx) { v.ID[0] ^= 1 },
		"amount changed":  func(v *apitypes.Tx) { v.Amount++ }, // caught by the id
		"memo too long":   func(v *apitypes.Tx) { v.Memo = strings.Repeat("m", chain.MaxMemoSize+1); v.ID = chain.Hash{} },
	}
	for name, mutate := range cases {
		v := good
		mutate(&v)
		if _, err := apitypes.ParseTx(testPrefix, v); err == nil {
			t.Errorf("%s: ParseTx accepted it", name)
		}
	}
	if _, err := apitypes.ParseTx(testPrefix, good); err != nil {
		t.Fatalf("the unmodified view is refused: %v", err)
	}
}

// flip returns a different bech32 character for c.
func flip(c byte) string {
	if c == 'q' {
		return "p"
	}
	return "q"
}

const testPrefix = "dev"

// sampleBranch returns a short valid regtest chain with signed transfers.
func sampleBranch(tb testing.TB) []*chain.Block {
	tb.Helper()
	keys := chaintest.Keys(3)
	br := chaintest.NewBranch(chaintest.Params(keys, 1_000_000_000), keys)
	br.Memo = "sample"
	br.Extend(rand.New(rand.NewSource(1)), 3, 4)
	return br.Blocks
}

func txEqual(a, b *chain.Tx) bool {
	return a.From == b.From && a.To == b.To && a.Amount == b.Amount && a.Fee == b.Fee &&
		a.Nonce == b.Nonce && string(a.Memo) == string(b.Memo) && a.Signature == b.Signature
}
