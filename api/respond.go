package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/node"
)

// Error is an answer other than success: an HTTP status and a message
// that says what is wrong, plus the rule's short name when a consensus or
// mempool rule refused the request.
type Error struct {
	Status int
	Msg    string
	Code   string // the rule's short name, e.g. "bad-signature"
	ID     string // the transaction concerned, when there is one

	retryAfter time.Duration // sent as Retry-After when positive
}

func (e *Error) Error() string { return e.Msg }

func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Msg: fmt.Sprintf(format, args...)}
}

// writeJSON writes v as the JSON answer with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	writeRaw(w, status, append(b, '\n'))
	return nil
}

// writeRaw writes an already encoded JSON answer.
func writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b) // a client that left cannot be told
}

// writeError writes e as {"error": ...}.
func writeError(w http.ResponseWriter, e *Error) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.retryAfter+time.Second-1)/time.Second)))
	}
	b, _ := json.Marshal(apitypes.Error{Error: e.Msg, Code: e.Code, ID: e.ID}) // strings only: cannot fail
	writeRaw(w, e.Status, append(b, '\n'))
}

// refusal classifies an error from the mempool or node.Send: its HTTP
// status and short code, and whether it is a refusal at all (false means
// a node failure, a 500).
func refusal(err error) (status int, code string, ok bool) {
	switch {
	case errors.Is(err, mempool.ErrDuplicate):
		return http.StatusConflict, "duplicate", true
	case errors.Is(err, mempool.ErrReplacementFee):
		return http.StatusConflict, "replacement-fee", true
	case errors.Is(err, mempool.ErrSenderLimit):
		return http.StatusConflict, "sender-limit", true
	case errors.Is(err, mempool.ErrPoolFull):
		return http.StatusServiceUnavailable, "pool-full", true
	case errors.Is(err, mempool.ErrLocalLimit):
		return http.StatusServiceUnavailable, "local-limit", true
	case errors.Is(err, node.ErrNotOwnKey):
		return http.StatusForbidden, "not-own-key", true
	case errors.Is(err, node.ErrDiskFull):
		return http.StatusServiceUnavailable, "disk-full", true
	}
	switch c := consensus.CodeOf(err); c {
	case 0:
		return http.StatusInternalServerError, "", false
	case consensus.CodeBadNonce, consensus.CodeDuplicateTx, consensus.CodeDuplicateBlock:
		return http.StatusConflict, c.String(), true
	case consensus.CodeMalformed:
		return http.StatusBadRequest, c.String(), true
	default:
		return http.StatusUnprocessableEntity, c.String(), true
	}
}

// refusalError turns a mempool or node refusal into an *Error; other
// errors pass through (to be answered 500).
func refusalError(err error) error {
	status, code, ok := refusal(err)
	if !ok {
		return err
	}
	return &Error{Status: status, Msg: refusalMsg(err), Code: code}
}

// refusalMsg is what a client is told of a refusal: the mempool's own
// message (without its package prefix) when the pool refused, else the
// error's text.
func refusalMsg(err error) string {
	if re, ok := errors.AsType[*mempool.RefusalError](err); ok {
		return re.Message()
	}
	return err.Error()
}
