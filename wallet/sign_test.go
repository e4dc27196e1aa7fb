package wallet

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
)

var (
	testNet  = chain.HashBytes([]byte("wallet test network"))
	otherNet = chain.HashBytes([]byte("another network"))
)

// testKey returns a deterministic key for index i.
func testKey(t testing.TB, i int) *Key {
	t.Helper()
	seed := sha256.Sum256([]byte(fmt.Sprintf("wallet test key %d", i)))
	k, err := KeyFromSeed(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSignTxSetsFromAndVerifies checks that what a key signs passes the
// consensus verifier for its network only.
func TestSignTxSetsFromAndVerifies(t *testing.T) {
	k := testKey(t, 1)
	tx := &chain.Tx{To: chain.Address{9}, Amount: 5, Fee: 1, Nonce: 3, Memo: []byte("hi")}
	k.SignTx(tx, testNet)
	if tx.From != k.PublicKey() {
		t.Fatalf("From = %x, want the signer's key %x", tx.From, k.PublicKey())
	}
	if !consensus.VerifyTx(tx, testNet) {
		t.Fatal("freshly signed tx does not verify")
	}
	if consensus.VerifyTx(tx, otherNet) {
		t.Fatal("tx signed for one network verifies on another")
	}
	tx.Amount++
	if consensus.VerifyTx(tx, testNet) {
		t.Fatal("tx changed after signing still verifies")
	}
}

func BenchmarkSignTx(b *testing.B) {
	k := testKey(b, 0)
	tx := &chain.Tx{To: chain.Address{9}, Amount: 5, Fee: 1, Nonce: 3, Memo: []byte("bench")}
	for b.Loop() {
		k.SignTx(tx, testNet)
	}
}
