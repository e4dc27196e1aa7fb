package wallet

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/chaind/chaind/chain"
)

// RFC 8032 section 7.1, test 1.
const (
	rfcSeed   = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
	rfcPublic = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
)

func TestKeyFromSeedRFC8032(t *testing.T) {
	seed, _ := hex.DecodeString(rfcSeed)
	k, err := KeyFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	pub := k.PublicKey()
	if got := hex.EncodeToString(pub[:]); got != rfcPublic {
		t.Fatalf("public key %s, want %s", got, rfcPublic)
	}
	if k.Address() != chain.AddressOf(pub) {
		t.Fatal("Address is not chain.AddressOf(PublicKey)")
	}
	if !bytes.Equal(k.Seed(), seed) {
		t.Fatal("Seed does not return the seed")
	}
	k.Seed()[0] ^= 1
	if !bytes.Equal(k.Seed(), seed) {
		t.Fatal("Seed returns the key's own storage")
	}
}

func TestKeyFromSeedBadLength(t *testing.T) {
	for _, n := range []int{0, 31, 33, 64} {
		if _, err := KeyFromSeed(make([]byte, n)); err == nil {
			t.Fatalf("seed of %d bytes accepted", n)
		}
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if a.PublicKey() == b.PublicKey() {
		t.Fatal("two generated keys are equal")
	}
	if _, err := GenerateKey(bytes.NewReader(make([]byte, 5))); err == nil {
		t.Fatal("GenerateKey succeeded with a short random source")
	}
}

func TestKeyStringHidesSecret(t *testing.T) {
	k := testKey(t, 4)
	secret := hex.EncodeToString(k.Seed())
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), fmt.Sprintf("%v %+v %#v", *k, *k, *k)} {
		if strings.Contains(s, secret) || strings.Contains(s, secret[:16]) {
			t.Fatalf("formatted key leaks the seed: %s", s)
		}
		addr := k.Address()
		if !strings.Contains(s, hex.EncodeToString(addr[:])) {
			t.Fatalf("formatted key does not name its address: %s", s)
		}
	}
}
