package apitypes

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/chaind/chaind/consensus"
)

// CoinDecimals is how many decimal places a coin amount may have.
const CoinDecimals = 8

// ParseCoins parses a decimal coin amount ("1.5", "0.00000001") into base
// units, exactly: no floats, no rounding, no overflow.
func ParseCoins(s string) (uint64, error) {
	whole, frac, hasDot := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" && (!hasDot || frac == "") {
		return 0, fmt.Errorf("amount %q is not a number", s)
	}
	if len(frac) > CoinDecimals {
		return 0, fmt.Errorf("amount %q has more than %d decimal places", s, CoinDecimals)
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("amount %q is not a non-negative decimal number", s)
			}
		}
	}
	var w uint64
	if whole != "" {
		var err error
		if w, err = strconv.ParseUint(whole, 10, 64); err != nil {
			return 0, fmt.Errorf("amount %q is too large", s)
		}
	}
	if w > math.MaxUint64/consensus.Coin {
		return 0, fmt.Errorf("amount %q is too large", s)
	}
	units := w * consensus.Coin
	if frac != "" {
		f, _ := strconv.ParseUint(frac+strings.Repeat("0", CoinDecimals-len(frac)), 10, 64)
		if units+f < units {
			return 0, fmt.Errorf("amount %q is too large", s)
		}
		units += f
	}
	return units, nil
}

// FormatCoins shows base units as a decimal coin amount.
func FormatCoins(units uint64) string {
	s := fmt.Sprintf("%d.%0*d", units/consensus.Coin, CoinDecimals, units%consensus.Coin)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
