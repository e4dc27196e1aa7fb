package apitypes_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/chain"
)

func TestUint64JSON(t *testing.T) {
	for _, tc := range []struct {
		v    uint64
		want string
	}{
		{0, `0`},
		{5, `5`},
		{apitypes.MaxSafeInteger, `9007199254740991`},
		{apitypes.MaxSafeInteger + 1, `"9007199254740992"`},
		{9223372036854776176, `"9223372036854776176"`},
		{math.MaxUint64, `"18446744073709551615"`},
	} {
		b, err := json.Marshal(apitypes.Uint64(tc.v))
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%d) = %s, %v; want %s", tc.v, b, err, tc.want)
		}
		var back apitypes.Uint64
		if err := json.Unmarshal(b, &back); err != nil || uint64(back) != tc.v {
			t.Errorf("Unmarshal(%s) = %d, %v; want %d", b, back, err, tc.v)
		}
		// A JavaScript client reads exactly the value: as a double when
		// it is a number, as text when a string.
		var js any
		if err := json.Unmarshal(b, &js); err != nil {
			t.Fatal(err)
		}
		switch x := js.(type) {
		case float64:
			if uint64(x) != tc.v || x > apitypes.MaxSafeInteger {
				t.Errorf("%d reads back as the double %v", tc.v, x)
			}
		case string:
			if tc.v <= apitypes.MaxSafeInteger {
				t.Errorf("%d written as a string", tc.v)
			}
		}
	}
	// Small values given as strings are read too.
	var u apitypes.Uint64
	if err := json.Unmarshal([]byte(`"42"`), &u); err != nil || u != 42 {
		t.Fatalf(`"42": %d %v`, u, err)
	}
}

func TestUint64Refuses(t *testing.T) {
	for _, in := range []string{`-1`, `1.5`, `1e3`, `"1e3"`, `""`, `"-1"`, `" 1"`, `true`, `{}`, `[]`,
		`18446744073709551616`, `"18446744073709551616"`, `"0x10"`} {
		var s struct {
			Amount apitypes.Uint64 `json:"amount"`
		}
		err := json.Unmarshal([]byte(`{"amount":`+in+`}`), &s)
		var te *json.UnmarshalTypeError
		if err == nil {
			t.Errorf("%s accepted as %d", in, s.Amount)
			continue
		}
		if !errorsAs(err, &te) || te.Field != "amount" {
			t.Errorf("%s: error %v (%T) does not name the field", in, err, err)
		}
	}
}

func errorsAs(err error, te **json.UnmarshalTypeError) bool {
	e, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*te = e
	}
	return ok
}

// TestBigProofSurvivesJavaScript: the case, a block whose proof is
// 9223372036854776176, reaches a client that parses numbers as doubles
// unchanged.
func TestBigProofSurvivesJavaScript(t *testing.T) {
	b := &chain.Block{Header: chain.Header{Nonce: 9223372036854776176}}
	raw, err := json.Marshal(apitypes.BlockOf(testPrefix, b))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"proof":"9223372036854776176"`) {
		t.Fatalf("proof not written as a string: %s", raw)
	}
	var back apitypes.Block
	if err := json.Unmarshal(raw, &back); err != nil || back.Proof != 9223372036854776176 {
		t.Fatalf("Go client reads proof %d, %v", back.Proof, err)
	}
}
