package bech32

import (
	"bytes"
	"testing"
)

// Valid bech32m strings from BIP-350.
var validVectors = []string{
	"A1LQFN3A",
	"a1lqfn3a",
	"an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
	"abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
	"11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
	"split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
	"?1v759aa",
}

// Invalid strings from BIP-350, with the reason.
var invalidVectors = []string{
	"\x201xj0phk",   // hrp character out of range
	"\x7f1g6xzxy",   // hrp character out of range
	"\x801vctc34",   // hrp character out of range
	"qyrz8wqd2c9m",  // no separator
	"1qyrz8wqd2c9m", // empty hrp
	"y1b0jsk6g",     // invalid data character
	"lt1igcx5c0",    // invalid data character
	"in1muywd",      // too short checksum
	"mm1crxm3i",     // invalid character in checksum
	"au1s5cgom",     // invalid character in checksum
	"M1VUXWEZ",      // checksum computed with uppercase hrp
	"16plkw9",       // empty hrp
	"1p2gdwpf",      // empty hrp
	"abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryX",                                               // mixed case
	"an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6", // too long
	"a1lqfn3b", // bad checksum
}

func TestVectors(t *testing.T) {
	for _, s := range validVectors {
		if _, _, err := Decode(s); err != nil {
			t.Errorf("Decode(%q): %v", s, err)
		}
	}
	for _, s := range invalidVectors {
		if _, _, err := Decode(s); err == nil {
			t.Errorf("Decode(%q) accepted an invalid string", s)
		}
	}
}

func TestBytesRoundTrip(t *testing.T) {
	for n := 0; n <= 40; n++ {
		b := bytes.Repeat([]byte{byte(n*7 + 1)}, n)
		s, err := EncodeBytes("dev", b)
		if err != nil {
			t.Fatal(err)
		}
		hrp, got, err := DecodeBytes(s)
		if err != nil || hrp != "dev" || !bytes.Equal(got, b) {
			t.Fatalf("round trip %d: %q %x %v", n, hrp, got, err)
		}
	}
}

func TestEverySingleCharacterTypoIsCaught(t *testing.T) {
	s, err := EncodeBytes("dev", bytes.Repeat([]byte{0xab}, 20))
	if err != nil {
		t.Fatal(err)
	}
	for i := 4; i < len(s); i++ {
		for _, c := range charset {
			if byte(c) == s[i] {
				continue
			}
			typo := s[:i] + string(c) + s[i+1:]
			if _, _, err := Decode(typo); err == nil {
				t.Fatalf("typo at %d (%q) accepted", i, typo)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range validVectors {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hrp, data, err := Decode(s)
		if err != nil {
			return
		}
		again, err := Encode(hrp, data)
		if err != nil {
			t.Fatalf("re-encode of decoded %q: %v", s, err)
		}
		if again != s && again != toLower(s) {
			t.Fatalf("re-encode %q != %q", again, s)
		}
	})
}

func toLower(s string) string { return string(bytes.ToLower([]byte(s))) }
