package api

import (
	"bytes"
	"net/http"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/chain"
)

// postTxs submits one signed transaction (a JSON object) or a batch (a
// JSON array of them) to the mempool.
func (s *Server) postTxs(w http.ResponseWriter, r *http.Request) error {
	var charge func(int)
	if r.ContentLength > MaxBodySize {
		// Larger than one transaction: a batch. Take its slot before
		// reading it, so a refused batch costs no reading or decoding.
		c, release, refused := s.lim.admitBatch(requestIP(r))
		if refused != nil {
			return refused
		}
		defer release()
		charge = c
	}
	body, err := readBody(w, r, MaxBatchBodySize)
	if err != nil {
		return err
	}
	switch bytes.TrimLeft(body, " \t\r\n")[0] { // readBody refused blank bodies
	case '{':
		if refused := s.lim.takeTxs(requestIP(r), 1); refused != nil {
			return refused
		}
		return s.postOneTx(w, body)
	case '[':
		return s.postTxBatch(w, r, body, charge)
	}
	return badRequest("want a signed transaction (a JSON object) or a batch of them (a JSON array), got %s", jsonKind(string(bytes.TrimSpace(body))))
}

func (s *Server) postOneTx(w http.ResponseWriter, body []byte) error {
	if len(body) > MaxBodySize {
		return tooLarge(MaxBodySize)
	}
	var v txIn
	if err := decodeStrict(body, &v); err != nil {
		return err
	}
	tx, err := s.parseTx(&v)
	if err != nil {
		return badRequest("%v", err)
	}
	id := tx.ID().String()
	if err := s.n.SubmitTxs([]*chain.Tx{tx})[0]; err != nil {
		status, code, ok := refusal(err)
		if !ok {
			return err
		}
		return &Error{Status: status, Msg: refusalMsg(err), Code: code, ID: id}
	}
	return writeJSON(w, http.StatusOK, apitypes.TxResult{ID: id, Accepted: true})
}

// postTxBatch admits a batch; charge is its admission when postTxs took
// it already (nil: take it now).
func (s *Server) postTxBatch(w http.ResponseWriter, r *http.Request, body []byte, charge func(int)) error {
	if charge == nil {
		c, release, refused := s.lim.admitBatch(requestIP(r))
		if refused != nil {
			return refused
		}
		defer release()
		charge = c
	}
	vs, err := decodeTxBatch(body)
	if err != nil {
		return err
	}
	charge(len(vs))
	out := apitypes.Batch{Results: make([]apitypes.TxResult, len(vs))}
	txs := make([]*chain.Tx, 0, len(vs))
	at := make([]int, 0, len(vs)) // at[k]: the batch index of txs[k]
	for i := range vs {
		tx, err := s.parseTx(&vs[i])
		if err != nil {
			out.Results[i] = apitypes.TxResult{Error: "transaction " + itoa(i) + ": " + err.Error(), Code: "malformed"}
			continue
		}
		txs = append(txs, tx)
		at = append(at, i)
	}
	errs := s.n.SubmitTxs(txs)
	for k, tx := range txs {
		res := &out.Results[at[k]]
		res.ID = tx.ID().String()
		if errs[k] == nil {
			res.Accepted = true
			continue
		}
		_, code, ok := refusal(errs[k])
		if !ok {
			s.log.Error("submit transaction", "id", res.ID, "err", errs[k])
			code = "internal"
		}
		res.Error, res.Code = refusalMsg(errs[k]), code
	}
	for _, res := range out.Results {
		if res.Accepted {
			out.Accepted++
		} else {
			out.Rejected++
		}
	}
	return writeJSON(w, http.StatusOK, out)
}
