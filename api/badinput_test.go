package api

import (
	"encoding/json"
	"fmt"
	"github.com/chaind/chaind/apitypes"
	"strings"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
)

// TestBadRequests sends malformed, invalid and refused requests to many
// routes: each gets its 4xx and a JSON error that says what is wrong, and
// none changes the chain or the mempool.
func TestBadRequests(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 100*consensus.Coin)
	e := newEnv(t, p, Config{})
	e.mine() // the node's key gets a reward, so "cannot pay" is about the amount

	dev := e.devAddress()
	other := e.addr(keys[1].Address())
	devnetAddr := chain.FormatAddress(consensus.Devnet().AddressPrefix, keys[1].Address())
	badChecksum := other[:len(other)-1] + flipChar(other[len(other)-1])
	zeroHash := strings.Repeat("00", chain.HashSize)

	signed := func(mut func(*chain.Tx), nonce uint64) apitypes.Tx {
		tx := chaintest.Tx(p, keys[0], keys[1].Address(), consensus.Coin, 10, nonce)
		if mut != nil {
			mut(tx)
		}
		return apitypes.TxOf(p.AddressPrefix, tx)
	}
	txBody := func(v apitypes.Tx) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	// A transaction as a JSON object with one field's raw text replaced.
	txWith := func(field, raw string) string {
		var m map[string]json.RawMessage
		_ = json.Unmarshal([]byte(txBody(signed(nil, 0))), &m)
		m[field] = json.RawMessage(raw)
		b, _ := json.Marshal(m)
		return string(b)
	}
	otherNetwork := func() apitypes.Tx {
		tx := chaintest.Tx(consensus.Devnet(), keys[0], keys[1].Address(), consensus.Coin, 10, 0)
		return apitypes.TxOf(p.AddressPrefix, tx)
	}()
	badSig := signed(func(tx *chain.Tx) { tx.Amount++ }, 0)
	badHexKey := signed(nil, 0)
	badHexKey.PublicKey = "zz" + badHexKey.PublicKey[2:]
	badHexKey.ID = chain.Hash{}
	wrongID := signed(nil, 0)
	wrongID.ID = chain.Hash{1}
	farNonce := signed(nil, 1000)
	newTx := func(fields string) string { return "{" + fields + "}" }
	sr := fmt.Sprintf(`"sender": %q, "recipient": %q`, dev, other)

	cases := []struct {
		name, method, path string
		body               string
		hdr                []string
		status             int
		want               string // in the error message
	}{
		// Malformed JSON, wrong types, unknown fields, trailing data.
		{"truncated JSON", "POST", "/mineBlock", `{"data": "x"`, nil, 400, "truncated JSON"},
		{"syntax error", "POST", "/mineBlock", `{"data" "x"}`, nil, 400, "malformed JSON at byte"},
		{"wrong type", "POST", "/mineBlock", `{"data": 5}`, nil, 400, "data: want a string, got number"},
		{"unknown field", "POST", "/mineBlock", `{"data": "x", "extra": 1}`, nil, 400, `unknown field "extra"`},
		{"trailing data", "POST", "/mineBlock", `{"data": "x"} {"data": "y"}`, nil, 400, "trailing data"},
		{"missing data", "POST", "/mineBlock", `{}`, nil, 400, `"data" key`},
		{"null body", "POST", "/mineBlock", `null`, nil, 400, `"data" key`},
		{"data too long", "POST", "/mineBlock", fmt.Sprintf(`{"data": %q}`, strings.Repeat("d", chain.MaxDataSize+1)), nil, 400, "exceed the limit of 256"},
		{"empty body", "POST", "/mineBlock", ``, nil, 400, "empty body"},
		{"not UTF-8", "POST", "/mineBlock", "{\"data\": \"\xff\xfe\"}", nil, 400, "not valid UTF-8"},
		{"body too large", "POST", "/mineBlock", `{"data": "` + strings.Repeat("a", MaxBodySize) + `"}`, nil, 413, "body exceeds 65536 bytes"},
		{"not JSON content type", "POST", "/mineBlock", `data=x`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "must be JSON"},
		{"array for object", "POST", "/transactions/new", `[1, 2]`, nil, 400, "body: want an object, got array"},

		// The Flask route: missing values, amounts, addresses, keys, funds.
		{"missing values", "POST", "/transactions/new", newTx(fmt.Sprintf(`"recipient": %q`, other)), nil, 400, "Missing values: sender, amount"},
		{"null amount", "POST", "/transactions/new", newTx(sr + `, "amount": null`), nil, 400, "Missing values: amount"},
		{"negative amount", "POST", "/transactions/new", newTx(sr + `, "amount": -5`), nil, 400, "amount: -5 is negative"},
		{"too fine a fee", "POST", "/transactions/new", newTx(sr + `, "amount": 1.5, "fee": 0.000000001`), nil, 400, "fee: 0.000000001 has more than 8 decimals"},
		{"exponent amount", "POST", "/transactions/new", newTx(sr + `, "amount": 1e3`), nil, 400, "amount: 1e3: write the number of coins in plain digits"},
		{"overflowing amount", "POST", "/transactions/new", newTx(sr + `, "amount": 184467440737.09551616`), nil, 400, "exceeds the largest amount"},
		{"string amount", "POST", "/transactions/new", newTx(sr + `, "amount": "5"`), nil, 400, "amount: want a number of coins, got a string"},
		{"negative fee", "POST", "/transactions/new", newTx(sr + `, "amount": 5, "fee": -1`), nil, 400, "fee: -1 is negative"},
		{"numeric sender", "POST", "/transactions/new", newTx(fmt.Sprintf(`"sender": 7, "recipient": %q, "amount": 5`, other)), nil, 400, "sender: want a string, got a number"},
		{"bad checksum", "POST", "/transactions/new", newTx(fmt.Sprintf(`"sender": %q, "recipient": %q, "amount": 5`, dev, badChecksum)), nil, 400, "recipient: address"},
		{"wrong network", "POST", "/transactions/new", newTx(fmt.Sprintf(`"sender": %q, "recipient": %q, "amount": 5`, dev, devnetAddr)), nil, 400, `is for network prefix "dev"`},
		{"coinbase sender", "POST", "/transactions/new", newTx(fmt.Sprintf(`"sender": "0", "recipient": %q, "amount": 5`, other)), nil, 400, "coinbase"},
		{"not the node's key", "POST", "/transactions/new", newTx(fmt.Sprintf(`"sender": %q, "recipient": %q, "amount": 5`, other, dev)), nil, 403, "not one of this node's unlocked keys"},
		{"cannot pay", "POST", "/transactions/new", newTx(sr + `, "amount": 1000000`), nil, 422, "insufficient funds"},
		{"zero amount", "POST", "/transactions/new", newTx(sr + `, "amount": 0`), nil, 422, "zero-amount"},
		{"memo too long", "POST", "/transactions/new", newTx(sr + `, "amount": 5, "memo": "` + strings.Repeat("m", chain.MaxMemoSize+1) + `"`), nil, 400, "memo: 65 bytes exceed"},

		// Signed transactions.
		{"bad signature", "POST", "/api/v1/txs", txBody(badSig), nil, 422, "bad signature"},
		{"other network's signature", "POST", "/api/v1/txs", txBody(otherNetwork), nil, 422, "bad signature"},
		{"bad hex key", "POST", "/api/v1/txs", txBody(badHexKey), nil, 400, "public_key"},
		{"id mismatch", "POST", "/api/v1/txs", txBody(wrongID), nil, 400, "id: "},
		{"nonce too far", "POST", "/api/v1/txs", txBody(farNonce), nil, 409, "nonce too far ahead"},
		{"tx negative amount", "POST", "/api/v1/txs", txWith("amount", "-1"), nil, 400, "amount: want a whole number from 0 to 18446744073709551615, got number -1 (at byte"},
		{"tx fractional fee", "POST", "/api/v1/txs", txWith("fee", "0.5"), nil, 400, "fee: want a whole number"},
		{"tx bad hash hex", "POST", "/api/v1/txs", txWith("id", `"`+strings.Repeat("g", 64)+`"`), nil, 400, "id: hash is not hex"},
		{"tx unknown field", "POST", "/api/v1/txs", txWith("colour", `"red"`), nil, 400, `unknown field "colour"`},
		{"empty batch", "POST", "/api/v1/txs", `[]`, nil, 400, "empty batch"},
		{"neither object nor array", "POST", "/api/v1/txs", `"tx"`, nil, 400, "got a string"},
		{"batch too long", "POST", "/api/v1/txs", "[" + strings.Repeat("{},", MaxTxBatch) + "{}]", nil, 413, "exceeds 10000"},
		{"batch body too large", "POST", "/api/v1/txs", "[" + strings.Repeat(" ", MaxBatchBodySize) + "]", nil, 413, "body exceeds 8388608 bytes"},

		// Path and query parameters.
		{"block id not a number or hash", "GET", "/api/v1/blocks/tip", "", nil, 400, "want a height"},
		{"block height overflow", "GET", "/api/v1/blocks/4294967296", "", nil, 400, "out of range"},
		{"block height above tip", "GET", "/api/v1/blocks/99", "", nil, 404, "no block at height 99"},
		{"block hash not hex", "GET", "/api/v1/blocks/" + strings.Repeat("x", 64), "", nil, 400, "not hex"},
		{"block hash unknown", "GET", "/api/v1/blocks/" + zeroHash, "", nil, 404, "no block with hash"},
		{"tx id short", "GET", "/api/v1/txs/abc", "", nil, 400, "64 hex characters"},
		{"tx unknown", "GET", "/api/v1/txs/" + zeroHash, "", nil, 404, "no transaction"},
		{"account bad address", "GET", "/api/v1/accounts/nobody", "", nil, 400, "address"},
		{"account bad checksum", "GET", "/api/v1/accounts/" + badChecksum, "", nil, 400, "checksum"},
		{"account wrong network", "GET", "/api/v1/accounts/" + devnetAddr, "", nil, 400, "network prefix"},
		{"limit zero", "GET", "/api/v1/blocks?limit=0", "", nil, 400, "limit: 0 is out of range 1..100"},
		{"limit too large", "GET", "/api/v1/blocks?limit=101", "", nil, 400, "out of range 1..100"},
		{"limit not a number", "GET", "/api/v1/blocks?limit=ten", "", nil, 400, "not a whole number"},
		{"from negative", "GET", "/api/v1/blocks?from=-1", "", nil, 400, "not a whole number"},
		{"from above tip", "GET", "/api/v1/blocks?from=50", "", nil, 400, "above the tip height 1"},
		{"bad order", "GET", "/api/v1/blocks?order=up", "", nil, 400, "neither asc nor desc"},
		{"unknown parameter", "GET", "/api/v1/blocks?page=2", "", nil, 400, `unknown query parameter "page"`},
		{"repeated parameter", "GET", "/api/v1/blocks?limit=1&limit=2", "", nil, 400, "given 2 times"},
		{"mempool limit", "GET", "/api/v1/mempool?limit=5000", "", nil, 400, "out of range 1..1000"},

		// Routes and methods.
		{"unknown route", "GET", "/api/v1/nothing", "", nil, 404, "no route GET /api/v1/nothing"},
		{"wrong method", "DELETE", "/api/v1/status", "", nil, 405, "method DELETE not allowed"},
		{"GET on a POST route", "GET", "/mineBlock", "", nil, 405, "allowed: POST"},
	}
	if len(cases) < 25 {
		t.Fatalf("only %d cases", len(cases))
	}

	before := e.n.Chain.Tip()
	poolBefore := e.n.Pool.Len()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := *e
			e.t = t
			var body any
			if c.body != "" {
				body = c.body
			}
			status, hdr, raw := e.request(c.method, c.path, body, c.hdr...)
			if status != c.status {
				t.Fatalf("status %d, want %d; body %s", status, c.status, raw)
			}
			if ct := hdr.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
			var eb apitypes.Error
			if err := json.Unmarshal(raw, &eb); err != nil {
				t.Fatalf("answer is not JSON: %s", raw)
			}
			t.Logf("%d %s", status, eb.Error)
			if !strings.Contains(eb.Error, c.want) {
				t.Fatalf("error %q does not say %q", eb.Error, c.want)
			}
		})
	}
	after := e.n.Chain.Tip()
	if after.Hash != before.Hash || after.Height != before.Height {
		t.Fatalf("chain moved from %d %s to %d %s", before.Height, before.Hash, after.Height, after.Hash)
	}
	if n := e.n.Pool.Len(); n != poolBefore {
		t.Fatalf("mempool size %d, was %d", n, poolBefore)
	}
}

// flipChar returns another bech32 character than c.
func flipChar(c byte) string {
	if c == 'q' {
		return "p"
	}
	return "q"
}
