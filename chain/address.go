package chain

import (
	"fmt"

	"github.com/chaind/chaind/internal/bech32"
)

// FormatAddress returns a as bech32m under the network prefix hrp.
func FormatAddress(hrp string, a Address) string {
	s, err := bech32.EncodeBytes(hrp, a[:])
	if err != nil {
		// Only a malformed prefix can fail; prefixes come from validated Params.
		panic(fmt.Sprintf("chain: bad address prefix %q: %v", hrp, err))
	}
	return s
}

// ParseAddress parses a bech32m address and checks that it carries the
// network prefix hrp and exactly 20 bytes.
func ParseAddress(hrp, s string) (Address, error) {
	var a Address
	got, b, err := bech32.DecodeBytes(s)
	if err != nil {
		return a, fmt.Errorf("address %q: %w", s, err)
	}
	if got != hrp {
		return a, fmt.Errorf("address %q is for network prefix %q, this network uses %q", s, got, hrp)
	}
	if len(b) != AddressSize {
		return a, fmt.Errorf("address %q holds %d bytes, want %d", s, len(b), AddressSize)
	}
	copy(a[:], b)
	return a, nil
}

// ValidAddressPrefix reports whether hrp can be used as an address prefix.
func ValidAddressPrefix(hrp string) error {
	if len(hrp) == 0 || len(hrp) > 20 {
		return fmt.Errorf("address prefix must be 1 to 20 characters")
	}
	for i := 0; i < len(hrp); i++ {
		c := hrp[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return fmt.Errorf("address prefix %q: only lower-case letters and digits are allowed", hrp)
		}
	}
	return nil
}
