package apitypes

import "testing"

func TestParseCoins(t *testing.T) {
	good := map[string]uint64{
		"1": 100_000_000, "1.5": 150_000_000, "0.00000001": 1, ".5": 50_000_000,
		"184467440737.09551615": 18446744073709551615,
	}
	for s, want := range good {
		if got, err := ParseCoins(s); err != nil || got != want {
			t.Errorf("ParseCoins(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", ".", "-1", "1e3", "0.000000001", "abc", "1.2.3", "184467440737.09551616", "99999999999999999999"} {
		if got, err := ParseCoins(s); err == nil {
			t.Errorf("ParseCoins(%q) = %d, want an error", s, got)
		}
	}
	if s := FormatCoins(150_000_000); s != "1.5" {
		t.Errorf("FormatCoins = %q", s)
	}
}
