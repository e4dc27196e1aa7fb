package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/chaind/chaind/apitypes"
)

// Request body bounds.
const (
	// MaxBodySize bounds the body of a route that takes one small object
	// (/mineBlock, /transactions/new, the peer routes).
	MaxBodySize = 64 << 10
	// MaxBatchBodySize bounds the body of POST /api/v1/txs, which may
	// carry a batch.
	MaxBatchBodySize = 8 << 20
	// MaxTxBatch bounds the transactions of one batch.
	MaxTxBatch = 10_000
)

// readBody reads r's JSON body, at most limit bytes, and checks that it is
// non-empty UTF-8.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, &Error{Status: http.StatusUnsupportedMediaType,
				Msg: fmt.Sprintf("Content-Type %q: the body must be JSON (Content-Type: application/json)", ct)}
		}
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		return nil, badRequest("reading the body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("empty body: want a JSON value")
	}
	if !utf8.Valid(body) {
		return nil, badRequest("body is not valid UTF-8")
	}
	return body, nil
}

func tooLarge(limit int64) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("body exceeds %d bytes", limit)}
}

// decodeStrict decodes exactly one JSON value from body into v: unknown
// fields, wrong types and trailing data are errors that say what is wrong.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(body[off:])) > 0 {
		return badRequest("trailing data after the JSON value at byte %d", off)
	}
	return nil
}

// jsonError turns an encoding/json error into a 400 that names the field
// and what was wrong with it.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var ie *json.InvalidUnmarshalError
	switch {
	case errors.As(err, &ie):
		return err // a bug: a non-pointer passed to Decode
	case errors.As(err, &se):
		return badRequest("malformed JSON at byte %d: %s", se.Offset, se.Error())
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return badRequest("%s: want %s, got %s (at byte %d)", field, typeName(te.Type), te.Value, te.Offset)
	case errors.Is(err, io.EOF):
		return badRequest("empty body: want a JSON value")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("truncated JSON: the body ends inside a value")
	}
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return badRequest("unknown field %s", rest)
	}
	return badRequest("invalid JSON: %s", strings.TrimPrefix(msg, "json: "))
}

// typeName says in words what JSON a Go type accepts.
func typeName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Uint64:
		return fmt.Sprintf("a whole number from 0 to %d", uint64(math.MaxUint64))
	case reflect.Uint32:
		return fmt.Sprintf("a whole number from 0 to %d", uint32(math.MaxUint32))
	case reflect.Uint16:
		return fmt.Sprintf("a whole number from 0 to %d", uint16(math.MaxUint16))
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Array:
		return "a string" // fixed-size values (hashes) are hex strings
	}
	return t.String()
}

// parseCoins reads a JSON number of coins (the tutorial's unit) from raw
// and returns base units, exactly: plain digits with at most
// apitypes.CoinDecimals decimals, no sign or exponent, never through
// float64. raw must be one valid JSON value (the decoder checked the body).
func parseCoins(field string, raw json.RawMessage) (uint64, error) {
	s := string(bytes.TrimSpace(raw))
	if s == "" {
		return 0, badRequest("%s: missing", field)
	}
	switch c := s[0]; {
	case c == '-':
		return 0, badRequest("%s: %s is negative", field, s)
	case c == '"':
		return 0, badRequest("%s: want a number of coins, got a string", field)
	case c < '0' || c > '9':
		return 0, badRequest("%s: want a number of coins, got %s", field, jsonKind(s))
	}
	if strings.ContainsAny(s, "eE") {
		return 0, badRequest("%s: %s: write the number of coins in plain digits, without an exponent", field, s)
	}
	if _, frac, _ := strings.Cut(s, "."); len(frac) > apitypes.CoinDecimals {
		return 0, badRequest("%s: %s has more than %d decimals (the smallest amount is 0.00000001 coin)", field, s, apitypes.CoinDecimals)
	}
	v, err := apitypes.ParseCoins(s)
	if err != nil {
		return 0, badRequest("%s: %s exceeds the largest amount %s coins", field, s, apitypes.FormatCoins(math.MaxUint64))
	}
	return v, nil
}

// jsonKind names the kind of a JSON value by its first byte.
func jsonKind(s string) string {
	switch s[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '"':
		return "a string"
	}
	return "a number"
}

// parseString reads a JSON string field from raw.
func parseString(field string, raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", badRequest("%s: want a string, got %s", field, jsonKind(string(bytes.TrimSpace(raw))))
	}
	return s, nil
}
