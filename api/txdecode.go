package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/chain"
)

// txIn is a signed transaction as POST /api/v1/txs takes it: the fields
// of apitypes.Tx, with the id as a plain string so that a malformed id is
// reported for its field, and in a batch for its transaction alone.
type txIn struct {
	ID        string          `json:"id"`
	Sender    string          `json:"sender"`
	Recipient string          `json:"recipient"`
	Amount    apitypes.Uint64 `json:"amount"`
	Fee       apitypes.Uint64 `json:"fee"`
	Nonce     apitypes.Uint64 `json:"nonce"`
	Memo      string          `json:"memo"`
	PublicKey string          `json:"public_key"`
	Signature string          `json:"signature"`
}

// parseTx checks v and builds the transaction (apitypes.ParseTx); it does not
// verify the signature.
func (s *Server) parseTx(v *txIn) (*chain.Tx, error) {
	tv := apitypes.Tx{
		Sender: v.Sender, Recipient: v.Recipient, Amount: v.Amount, Fee: v.Fee, Nonce: v.Nonce,
		Memo: v.Memo, PublicKey: v.PublicKey, Signature: v.Signature,
	}
	if v.ID != "" {
		id, err := chain.ParseHash(v.ID)
		if err != nil {
			return nil, fmt.Errorf("id: %w", err)
		}
		tv.ID = id
	}
	return apitypes.ParseTx(s.hrp, tv)
}

// decodeTxBatch decodes a JSON array of signed transactions strictly and
// checks its count against MaxTxBatch.
func decodeTxBatch(body []byte) ([]txIn, error) {
	var vs []txIn
	if err := decodeStrict(body, &vs); err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, badRequest("empty batch: want at least one transaction")
	}
	if len(vs) > MaxTxBatch {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge,
			Msg: fmt.Sprintf("batch of %d transactions exceeds %d", len(vs), MaxTxBatch)}
	}
	return vs, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
