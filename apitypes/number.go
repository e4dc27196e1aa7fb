package apitypes

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
)

// MaxSafeInteger is the largest integer a JavaScript number (an IEEE 754
// double) holds exactly, 2^53-1. Uint64 values above it are written as
// strings.
const MaxSafeInteger = 1<<53 - 1

// Uint64 is a 64-bit unsigned integer that survives JavaScript: it is
// written as a JSON number up to MaxSafeInteger and as a decimal string
// above, and it reads either form (a string only of plain decimal digits).
type Uint64 uint64

// MarshalJSON writes u as a number, or as a string above MaxSafeInteger.
func (u Uint64) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 22)
	if u > MaxSafeInteger {
		b = append(b, '"')
		b = strconv.AppendUint(b, uint64(u), 10)
		return append(b, '"'), nil
	}
	return strconv.AppendUint(b, uint64(u), 10), nil
}

var uint64Type = reflect.TypeOf(uint64(0))

// UnmarshalJSON reads a whole number from 0 to 2^64-1, given as a JSON
// number of plain digits or as a string of them. Anything else (a sign, a
// fraction, an exponent, another JSON type) is a *json.UnmarshalTypeError,
// which encoding/json completes with the field's name. JSON null leaves u
// unchanged, as it does for a plain uint64.
func (u *Uint64) UnmarshalJSON(b []byte) error {
	s := bytes.TrimSpace(b)
	if string(s) == "null" {
		return nil
	}
	digits := s
	kind := "number"
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		digits, kind = s[1:len(s)-1], "string"
	}
	v, ok := parseDigits(digits)
	if !ok {
		if kind == "number" && len(s) > 0 {
			switch s[0] {
			case '{':
				kind = "object"
			case '[':
				kind = "array"
			case 't', 'f':
				kind = "bool"
			case '"':
				kind = "string"
			}
		}
		return &json.UnmarshalTypeError{Value: kind + " " + string(s), Type: uint64Type}
	}
	*u = Uint64(v)
	return nil
}

// parseDigits parses a non-empty run of decimal digits within uint64.
func parseDigits(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > len("18446744073709551615") {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	return v, err == nil && v <= math.MaxUint64
}
