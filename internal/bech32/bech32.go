// Package bech32 implements the bech32m encoding of BIP-350: a human-readable
// prefix, a separator '1', base-32 data and a six-character checksum that
// catches any mistyped character and most longer errors.
//
// chaind uses it to show 20-byte addresses with a per-network prefix, so an
// address for one network, or one with a typo, is refused on input.
package bech32

import (
	"errors"
	"fmt"
	"strings"
)

const (
	charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	// bech32mConst is the checksum constant of BIP-350.
	bech32mConst = 0x2bc830a3
	// MaxLength is the longest string BIP-173/350 allow.
	MaxLength = 90
)

var (
	// ErrChecksum is returned when the checksum does not match the text.
	ErrChecksum = errors.New("bech32m checksum mismatch")
	// ErrMixedCase is returned for a string with both upper- and lower-case letters.
	ErrMixedCase = errors.New("bech32m string mixes upper and lower case")
)

var charsetRev = func() [128]int8 {
	var r [128]int8
	for i := range r {
		r[i] = -1
	}
	for i, c := range charset {
		r[c] = int8(i)
	}
	return r
}()

func polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if (top>>uint(i))&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}

func hrpExpand(hrp string) []byte {
	out := make([]byte, 0, len(hrp)*2+1)
	for i := 0; i < len(hrp); i++ {
		out = append(out, hrp[i]>>5)
	}
	out = append(out, 0)
	for i := 0; i < len(hrp); i++ {
		out = append(out, hrp[i]&31)
	}
	return out
}

func checksum(hrp string, data []byte) []byte {
	values := append(hrpExpand(hrp), data...)
	values = append(values, 0, 0, 0, 0, 0, 0)
	mod := polymod(values) ^ bech32mConst
	out := make([]byte, 6)
	for i := range out {
		out[i] = byte(mod>>uint(5*(5-i))) & 31
	}
	return out
}

// Encode returns the bech32m string of hrp and 5-bit groups data.
func Encode(hrp string, data []byte) (string, error) {
	if err := checkHRP(hrp); err != nil {
		return "", err
	}
	hrp = strings.ToLower(hrp)
	if len(hrp)+1+len(data)+6 > MaxLength {
		return "", fmt.Errorf("bech32m: encoding would be longer than %d characters", MaxLength)
	}
	var b strings.Builder
	b.WriteString(hrp)
	b.WriteByte('1')
	for _, d := range append(append([]byte{}, data...), checksum(hrp, data)...) {
		if d > 31 {
			return "", fmt.Errorf("bech32m: data value %d is not a 5-bit group", d)
		}
		b.WriteByte(charset[d])
	}
	return b.String(), nil
}

// Decode parses a bech32m string into its lower-case prefix and 5-bit groups,
// checking case, characters, length and checksum.
func Decode(s string) (hrp string, data []byte, err error) {
	if len(s) > MaxLength {
		return "", nil, fmt.Errorf("bech32m: string is %d characters, at most %d allowed", len(s), MaxLength)
	}
	lower, upper := strings.ToLower(s), strings.ToUpper(s)
	if s != lower && s != upper {
		return "", nil, ErrMixedCase
	}
	s = lower
	sep := strings.LastIndexByte(s, '1')
	if sep < 1 || sep+7 > len(s) {
		return "", nil, fmt.Errorf("bech32m: %q has no prefix, separator '1' and checksum", s)
	}
	hrp = s[:sep]
	if err := checkHRP(hrp); err != nil {
		return "", nil, err
	}
	data = make([]byte, 0, len(s)-sep-1)
	for i := sep + 1; i < len(s); i++ {
		c := s[i]
		if c >= 128 || charsetRev[c] < 0 {
			return "", nil, fmt.Errorf("bech32m: invalid character %q at position %d", c, i)
		}
		data = append(data, byte(charsetRev[c]))
	}
	if polymod(append(hrpExpand(hrp), data...)) != bech32mConst {
		return "", nil, ErrChecksum
	}
	return hrp, data[:len(data)-6], nil
}

func checkHRP(hrp string) error {
	if len(hrp) == 0 || len(hrp) > 83 {
		return fmt.Errorf("bech32m: prefix length %d out of range 1..83", len(hrp))
	}
	for i := 0; i < len(hrp); i++ {
		if hrp[i] < 33 || hrp[i] > 126 {
			return fmt.Errorf("bech32m: invalid prefix character %q", hrp[i])
		}
	}
	return nil
}

// ConvertBits regroups data from groups of fromBits bits into groups of toBits
// bits. With pad, a last partial group is zero-padded; without it, leftover
// bits must be fewer than fromBits and zero.
func ConvertBits(data []byte, fromBits, toBits uint, pad bool) ([]byte, error) {
	acc, bits := uint32(0), uint(0)
	maxv := uint32(1)<<toBits - 1
	out := make([]byte, 0, len(data)*int(fromBits)/int(toBits)+1)
	for _, v := range data {
		if uint32(v)>>fromBits != 0 {
			return nil, fmt.Errorf("bech32m: value %d does not fit in %d bits", v, fromBits)
		}
		acc = acc<<fromBits | uint32(v)
		bits += fromBits
		for bits >= toBits {
			bits -= toBits
			out = append(out, byte(acc>>bits&maxv))
		}
	}
	if pad {
		if bits > 0 {
			out = append(out, byte(acc<<(toBits-bits)&maxv))
		}
	} else if bits >= fromBits || acc<<(toBits-bits)&maxv != 0 {
		return nil, errors.New("bech32m: invalid padding")
	}
	return out, nil
}

// EncodeBytes encodes 8-bit bytes under hrp.
func EncodeBytes(hrp string, b []byte) (string, error) {
	d, err := ConvertBits(b, 8, 5, true)
	if err != nil {
		return "", err
	}
	return Encode(hrp, d)
}

// DecodeBytes decodes a string made by EncodeBytes.
func DecodeBytes(s string) (hrp string, b []byte, err error) {
	hrp, d, err := Decode(s)
	if err != nil {
		return "", nil, err
	}
	b, err = ConvertBits(d, 5, 8, false)
	if err != nil {
		return "", nil, err
	}
	return hrp, b, nil
}
