package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/node"
)

// GenerateTimeout bounds one POST /api/v1/generate.
const GenerateTimeout = 10 * time.Minute

// postGenerate is POST /api/v1/generate {"blocks": n, "address": ...}:
// mine n blocks now to the address (the miner's when omitted), as
// bitcoind's generatetoaddress, and answer their hashes.
func (s *Server) postGenerate(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, MaxBodySize)
	if err != nil {
		return err
	}
	var req apitypes.GenerateRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if req.Blocks < 1 || req.Blocks > node.MaxGenerate {
		return badRequest("blocks: %d is out of range 1..%d", req.Blocks, node.MaxGenerate)
	}
	to := s.n.Miner.Address()
	if req.Address != "" {
		if to, err = s.parseAddress("address", req.Address); err != nil {
			return err
		}
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Now().Add(GenerateTimeout + WriteTimeout))
	ctx, cancel := context.WithTimeout(r.Context(), GenerateTimeout)
	defer cancel()
	blocks, err := s.n.Generate(ctx, req.Blocks, to)
	if err != nil {
		done := fmt.Sprintf(" (%d of %d blocks mined)", len(blocks), req.Blocks)
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			return &Error{Status: http.StatusServiceUnavailable, Msg: fmt.Sprintf("not done within %s", GenerateTimeout) + done}
		case errors.Is(err, context.Canceled):
			return &Error{Status: http.StatusServiceUnavailable, Msg: "generate cancelled" + done}
		case errors.Is(err, blockchain.ErrClosed):
			return &Error{Status: http.StatusServiceUnavailable, Msg: "the node is shutting down" + done}
		}
		return fmt.Errorf("generate%s: %w", done, err)
	}
	v := apitypes.GenerateAnswer{Hashes: make([]chain.Hash, len(blocks)), Height: s.n.Chain.Height()}
	for i, b := range blocks {
		v.Hashes[i] = b.Hash()
	}
	return writeJSON(w, http.StatusOK, v)
}

// postFaucet is POST /api/v1/faucet {"address", "amount"}: pay amount base
// units to address from the node's development key (development networks
// only).
func (s *Server) postFaucet(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, MaxBodySize)
	if err != nil {
		return err
	}
	var req apitypes.FaucetRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	to, err := s.parseAddress("address", req.Address)
	if err != nil {
		return err
	}
	if req.Amount == 0 {
		return badRequest("amount: must be at least 1 base unit")
	}
	from, ok := s.n.FaucetAddress()
	if !ok {
		return &Error{Status: http.StatusNotFound, Msg: node.ErrNoFaucet.Error()}
	}
	tx, err := s.n.Faucet(to, uint64(req.Amount))
	if err != nil {
		return refusalError(err)
	}
	return writeJSON(w, http.StatusOK, apitypes.FaucetAnswer{
		ID: tx.ID(), From: chain.FormatAddress(s.hrp, from), Address: chain.FormatAddress(s.hrp, to),
		Amount: apitypes.Uint64(tx.Amount), Fee: apitypes.Uint64(tx.Fee), Nonce: apitypes.Uint64(tx.Nonce),
	})
}
