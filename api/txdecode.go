package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/chaind/chaind/chain"
)

// decodeTxBatch decodes a JSON array of signed transactions strictly and
// checks its count against MaxTxBatch.
func decodeTxBatch(body []byte) ([]chain.TxJSON, error) {
	var vs []chain.TxJSON
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
