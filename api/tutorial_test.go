package api

import (
	"net/http"
	"testing"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
)

// TestFlaskWalkthrough follows the Flask tutorial: mine twice, read the
// chain, send from the node's key, mine, and find the transfer.
func TestFlaskWalkthrough(t *testing.T) {
	e := newEnv(t, consensus.Regtest(), Config{})
	for i := 1; i <= 2; i++ {
		var m apitypes.MineAnswer
		e.call("GET", "/mine", nil, http.StatusOK, &m)
		if m.Message != "New Block Forged" || m.Index != uint32(i) || len(m.Transactions) != 1 || m.Transactions[0].Sender != "0" {
			t.Fatalf("mine %d: %+v", i, m)
		}
		if m.Hash.IsZero() || m.PreviousHash.IsZero() {
			t.Fatalf("mine %d: missing hashes: %+v", i, m)
		}
	}
	var ch apitypes.ChainAnswer
	e.call("GET", "/chain", nil, http.StatusOK, &ch)
	if ch.Length != 3 || len(ch.Chain) != 3 {
		t.Fatalf("chain: length %d with %d blocks, want 3", ch.Length, len(ch.Chain))
	}
	for i, b := range ch.Chain {
		if b.Index != uint32(i) {
			t.Fatalf("chain[%d].index = %d", i, b.Index)
		}
		if i > 0 && (b.PreviousHash != ch.Chain[i-1].Hash || b.Transactions[0].Sender != "0") {
			t.Fatalf("chain[%d] does not link or lacks a coinbase: %+v", i, b)
		}
	}

	dev := e.devAddress()
	recipient := e.addr(chaintest.Key(1).Address())
	// The tutorial's unit: {"amount": 7} moves 7 coins.
	const amount = apitypes.Uint64(7 * consensus.Coin)
	var created apitypes.NewTxAnswer
	e.call("POST", "/transactions/new", map[string]any{"sender": dev, "recipient": recipient, "amount": 7}, http.StatusCreated, &created)
	if created.AmountUnits != amount {
		t.Fatalf("amount_units %d, want %d", created.AmountUnits, amount)
	}
	if created.Message != "Transaction will be added to Block 3" {
		t.Fatalf("message %q", created.Message)
	}
	var pending apitypes.TxDetail
	e.call("GET", "/api/v1/txs/"+created.ID.String(), nil, http.StatusOK, &pending)
	if pending.Status != "pending" || pending.Block != nil || pending.Tx.Amount != amount || pending.Tx.Sender != dev {
		t.Fatalf("pending tx: %+v", pending)
	}
	var acct apitypes.Account
	e.call("GET", "/api/v1/accounts/"+dev, nil, http.StatusOK, &acct)
	if acct.PendingCount != 1 || acct.PendingSpend != amount || acct.NextNonce != 1 || acct.Balance != apitypes.Uint64(100*consensus.Coin) {
		t.Fatalf("sender account: %+v", acct)
	}

	var m apitypes.MineAnswer
	e.call("GET", "/mine", nil, http.StatusOK, &m)
	if m.Index != 3 || len(m.Transactions) != 2 || m.Transactions[1].ID != created.ID {
		t.Fatalf("third block: %+v", m)
	}
	e.call("GET", "/api/v1/accounts/"+recipient, nil, http.StatusOK, &acct)
	if acct.Balance != amount || acct.Nonce != 0 {
		t.Fatalf("recipient account: %+v", acct)
	}
	var confirmed apitypes.TxDetail
	e.call("GET", "/api/v1/txs/"+created.ID.String(), nil, http.StatusOK, &confirmed)
	if confirmed.Status != "confirmed" || confirmed.Block == nil || *confirmed.Block != m.Hash ||
		*confirmed.Height != 3 || *confirmed.Index != 1 || confirmed.Confirmations != 1 {
		t.Fatalf("confirmed tx: %+v", confirmed)
	}
}

// TestNaivechainWalkthrough mines a block with a data note and finds it at
// the end of GET /blocks.
func TestNaivechainWalkthrough(t *testing.T) {
	e := newEnv(t, consensus.Regtest(), Config{})
	var b apitypes.Block
	e.call("POST", "/mineBlock", map[string]string{"data": "x"}, http.StatusOK, &b)
	if b.Data != "x" || b.Index != 1 {
		t.Fatalf("mined %+v", b)
	}
	e.call("POST", "/mineBlock", `{"data": "second"}`, http.StatusOK, &b)
	var blocks []apitypes.Block
	e.call("GET", "/blocks", nil, http.StatusOK, &blocks)
	if len(blocks) != 3 || blocks[1].Data != "x" || blocks[2].Data != "second" || blocks[2].Hash != b.Hash {
		t.Fatalf("blocks: %+v", blocks)
	}
	if blocks[0].Data != consensus.Regtest().GenesisData {
		t.Fatalf("genesis data %q", blocks[0].Data)
	}
	status, hdr, raw := e.request("HEAD", "/blocks", nil)
	if status != http.StatusOK || hdr.Get("Content-Type") != "application/json" || len(raw) != 0 {
		t.Fatalf("HEAD /blocks: %d %q %d bytes", status, hdr.Get("Content-Type"), len(raw))
	}
}
