package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/miner"
	"github.com/chaind/chaind/node"
)

// Streaming bounds of GET /blocks and GET /chain.
const (
	// streamBufferSize is the write buffer of a streamed chain.
	streamBufferSize = 64 << 10
	// streamFlushBlocks is how many blocks are written between flushes,
	// so a client sees progress on a long chain.
	streamFlushBlocks = 256
)

// getChainArray is naivechain's GET /blocks: the main chain as a JSON
// array of blocks, genesis first.
func (s *Server) getChainArray(w http.ResponseWriter, r *http.Request) error {
	return s.streamChain(w, r, "[", func(int) string { return "]\n" })
}

// getChainObject is the Flask tutorial's GET /chain: {"chain": [...],
// "length": n}.
func (s *Server) getChainObject(w http.ResponseWriter, r *http.Request) error {
	return s.streamChain(w, r, `{"chain":[`, func(n int) string { return `],"length":` + strconv.Itoa(n) + "}\n" })
}

// streamChain writes open, the main chain's blocks from genesis to the tip
// of when the request came, comma-separated, and closing(count). Blocks
// are read and encoded one at a time. Should the chain reorganise under
// the stream so that the next block no longer links to the last one
// written, or a block fail to load, the response is aborted (the client
// sees a broken transfer, never a chain that does not link).
func (s *Server) streamChain(w http.ResponseWriter, r *http.Request, open string, closing func(int) string) error {
	tip := s.n.Chain.Height()
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{}) // no body to read; the stream may outlast ReadTimeout
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	bw := bufio.NewWriterSize(w, streamBufferSize)
	_, _ = bw.WriteString(open)
	var prev chain.Hash
	count := 0
	for height := uint32(0); height <= tip; height++ {
		if r.Context().Err() != nil {
			return nil // the client left
		}
		enc, hash, err := s.blockJSON(height)
		if err != nil {
			s.log.Warn("chain stream aborted", "height", height, "err", err)
			panic(http.ErrAbortHandler)
		}
		if height > 0 && enc.prev != prev {
			s.log.Info("chain stream aborted by a reorganisation", "height", height)
			panic(http.ErrAbortHandler)
		}
		prev = hash
		_ = rc.SetWriteDeadline(time.Now().Add(StreamWriteTimeout))
		if height > 0 {
			_ = bw.WriteByte(',')
		}
		if _, err := bw.Write(enc.json); err != nil {
			return nil // the client stopped reading
		}
		count++
		if count%streamFlushBlocks == 0 {
			if bw.Flush() != nil || rc.Flush() != nil {
				return nil
			}
		}
	}
	_ = rc.SetWriteDeadline(time.Now().Add(StreamWriteTimeout))
	_, _ = bw.WriteString(closing(count))
	_ = bw.Flush()
	return nil
}

// blockJSON returns the encoding of the main-chain block at height and
// its hash, from the cache when another stream encoded it already.
func (s *Server) blockJSON(height uint32) (encodedBlock, chain.Hash, error) {
	hash, err := s.n.Chain.HashAt(height)
	if err != nil {
		return encodedBlock{}, hash, err
	}
	if e, ok := s.chainJSON.get(hash); ok {
		return e, hash, nil
	}
	b, err := s.n.Chain.Block(hash)
	if err != nil {
		return encodedBlock{}, hash, err
	}
	js, err := json.Marshal(apitypes.BlockOf(s.hrp, b))
	if err != nil {
		return encodedBlock{}, hash, fmt.Errorf("encode block %d: %w", height, err)
	}
	e := encodedBlock{prev: b.Header.PrevHash, json: js}
	s.chainJSON.put(hash, e)
	return e, hash, nil
}

// mine mines one block with data through the node, answering mining
// failures as errors.
func (s *Server) mine(w http.ResponseWriter, r *http.Request, data string) (*chain.Block, error) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Now().Add(MineTimeout + WriteTimeout))
	ctx, cancel := context.WithTimeout(r.Context(), MineTimeout)
	defer cancel()
	b, err := s.n.Mine(ctx, data)
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, miner.ErrBadData):
		return nil, badRequest("data: %v", err)
	case errors.Is(err, context.DeadlineExceeded):
		return nil, &Error{Status: http.StatusServiceUnavailable, Msg: fmt.Sprintf("no block found within %s", MineTimeout)}
	case errors.Is(err, context.Canceled):
		return nil, &Error{Status: http.StatusServiceUnavailable, Msg: "mining cancelled"}
	case errors.Is(err, blockchain.ErrClosed):
		return nil, &Error{Status: http.StatusServiceUnavailable, Msg: "the node is shutting down"}
	}
	return nil, err
}

// mineBlockRequest is the body of naivechain's POST /mineBlock.
type mineBlockRequest struct {
	Data *string `json:"data"`
}

// postMineBlock mines a block with the data note and the pending
// transactions and answers it.
func (s *Server) postMineBlock(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, MaxBodySize)
	if err != nil {
		return err
	}
	var req mineBlockRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if req.Data == nil {
		return badRequest(`missing value: pass the block's data note in the "data" key`)
	}
	if len(*req.Data) > chain.MaxDataSize {
		return badRequest("data: %d bytes exceed the limit of %d", len(*req.Data), chain.MaxDataSize)
	}
	b, err := s.mine(w, r, *req.Data)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apitypes.BlockOf(s.hrp, b))
}

func (s *Server) getMine(w http.ResponseWriter, r *http.Request) error {
	b, err := s.mine(w, r, "")
	if err != nil {
		return err
	}
	v := apitypes.BlockOf(s.hrp, b)
	return writeJSON(w, http.StatusOK, apitypes.MineAnswer{
		Message: "New Block Forged", Index: v.Index, Transactions: v.Transactions,
		Proof: v.Proof, PreviousHash: v.PreviousHash, Hash: v.Hash,
	})
}

// newTxRequest is the body of the Flask tutorial's POST
// /transactions/new (apitypes.NewTxRequest). amount and fee are in coins,
// the tutorial's unit: {"amount": 5} moves 5 coins (500000000 base units). Raw fields let missing, null and wrongly typed values
// get their own messages, and amounts never pass through float64.
type newTxRequest struct {
	Sender    json.RawMessage `json:"sender"`
	Recipient json.RawMessage `json:"recipient"`
	Amount    json.RawMessage `json:"amount"`
	Fee       json.RawMessage `json:"fee"`
	Memo      json.RawMessage `json:"memo"`
}

// present reports whether a raw field was given (null counts as absent).
func present(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// postTransactionNew signs a transfer from one of the node's keys and
// offers it to the mempool.
func (s *Server) postTransactionNew(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, MaxBodySize)
	if err != nil {
		return err
	}
	var req newTxRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	var missing []string
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"sender", req.Sender}, {"recipient", req.Recipient}, {"amount", req.Amount}} {
		if !present(f.raw) {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		msg := "Missing values: "
		for i, m := range missing {
			if i > 0 {
				msg += ", "
			}
			msg += m
		}
		return badRequest("%s", msg)
	}
	senderStr, err := parseString("sender", req.Sender)
	if err != nil {
		return err
	}
	recipientStr, err := parseString("recipient", req.Recipient)
	if err != nil {
		return err
	}
	if senderStr == apitypes.CoinbaseSender {
		return badRequest(`sender: "0" stands for the coinbase and only a block can pay from it`)
	}
	from, err := s.parseAddress("sender", senderStr)
	if err != nil {
		return err
	}
	to, err := s.parseAddress("recipient", recipientStr)
	if err != nil {
		return err
	}
	amount, err := parseCoins("amount", req.Amount)
	if err != nil {
		return err
	}
	var fee uint64
	if present(req.Fee) {
		if fee, err = parseCoins("fee", req.Fee); err != nil {
			return err
		}
	}
	var memo string
	if present(req.Memo) {
		if memo, err = parseString("memo", req.Memo); err != nil {
			return err
		}
		if len(memo) > chain.MaxMemoSize {
			return badRequest("memo: %d bytes exceed the limit of %d", len(memo), chain.MaxMemoSize)
		}
	}
	tx, err := s.n.Send(from, to, amount, fee, memo)
	if errors.Is(err, node.ErrNotOwnKey) {
		return &Error{Status: http.StatusForbidden, Code: "not-own-key", Msg: fmt.Sprintf(
			"sender %s is not one of this node's unlocked keys (403: the node signs only for its own keys); sign the transaction yourself and POST it to /api/v1/txs",
			senderStr)}
	}
	if err != nil {
		return refusalError(err)
	}
	return writeJSON(w, http.StatusCreated, apitypes.NewTxAnswer{
		Message: fmt.Sprintf("Transaction will be added to Block %d", s.n.Chain.Height()+1),
		ID:      tx.ID(), Nonce: apitypes.Uint64(tx.Nonce), AmountUnits: apitypes.Uint64(tx.Amount),
	})
}
