package consensus

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"testing"

	"filippo.io/edwards25519"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/wallet"
)

var (
	testNet  = chain.HashBytes([]byte("wallet test network"))
	otherNet = chain.HashBytes([]byte("another network"))
)

// testKey returns a deterministic key for index i.
func testKey(t testing.TB, i int) *wallet.Key {
	t.Helper()
	seed := sha256.Sum256([]byte(fmt.Sprintf("wallet test key %d", i)))
	k, err := wallet.KeyFromSeed(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signedTxs returns n transactions signed for net by a few distinct keys,
// with varied memos.
func signedTxs(t testing.TB, n int, net chain.Hash) []*chain.Tx {
	t.Helper()
	keys := make([]*wallet.Key, 7)
	for i := range keys {
		keys[i] = testKey(t, i)
	}
	txs := make([]*chain.Tx, n)
	for i := range txs {
		tx := &chain.Tx{
			To:     chain.AddressOf(keys[(i+1)%len(keys)].PublicKey()),
			Amount: uint64(1000 + i),
			Fee:    uint64(i % 13),
			Nonce:  uint64(i),
			Memo:   bytes.Repeat([]byte{byte(i)}, i%(chain.MaxMemoSize+1)),
		}
		keys[i%len(keys)].SignTx(tx, net)
		txs[i] = tx
	}
	return txs
}

func coinbase(height uint64) *chain.Tx {
	return &chain.Tx{To: chain.Address{1, 2, 3}, Amount: 50, Nonce: height}
}

func TestSigningMessageMatchesChain(t *testing.T) {
	buf := make([]byte, 0, 8)
	for _, tx := range append(signedTxs(t, 70, testNet), coinbase(9)) {
		for _, net := range []chain.Hash{testNet, otherNet, {}} {
			buf = appendSigningMessage(buf, tx, &net)
			if want := tx.SigningMessage(net); !bytes.Equal(buf, want) {
				t.Fatalf("appendSigningMessage differs from chain.Tx.SigningMessage:\n got %x\nwant %x", buf, want)
			}
		}
	}
}

func TestVerifyTxWrongNetwork(t *testing.T) {
	tx := signedTxs(t, 1, testNet)[0]
	if !VerifyTx(tx, testNet) {
		t.Fatal("freshly signed tx does not verify")
	}
	if VerifyTx(tx, otherNet) {
		t.Fatal("tx signed for one network verifies on another")
	}
	if bad, ok := VerifyTxs([]*chain.Tx{tx}, otherNet); ok || bad != 0 {
		t.Fatalf("VerifyTxs on wrong network = (%d, %v), want (0, false)", bad, ok)
	}
}

func TestVerifyTxRejectsMutations(t *testing.T) {
	other := testKey(t, 99)
	mutations := map[string]func(*chain.Tx){
		"from":          func(tx *chain.Tx) { tx.From = other.PublicKey() },
		"to":            func(tx *chain.Tx) { tx.To[0] ^= 1 },
		"amount":        func(tx *chain.Tx) { tx.Amount++ },
		"fee":           func(tx *chain.Tx) { tx.Fee++ },
		"nonce":         func(tx *chain.Tx) { tx.Nonce++ },
		"memo byte":     func(tx *chain.Tx) { tx.Memo[0] ^= 0x80 },
		"memo longer":   func(tx *chain.Tx) { tx.Memo = append(tx.Memo, 0) },
		"memo dropped":  func(tx *chain.Tx) { tx.Memo = nil },
		"sig R":         func(tx *chain.Tx) { tx.Signature[0] ^= 1 },
		"sig s":         func(tx *chain.Tx) { tx.Signature[40] ^= 1 },
		"sig s high":    func(tx *chain.Tx) { tx.Signature[63] |= 0xe0 },
		"sig zero":      func(tx *chain.Tx) { tx.Signature = chain.Signature{} },
		"other signer":  func(tx *chain.Tx) { other.SignTx(tx, testNet); tx.From[5] ^= 1 },
		"signed on net": func(tx *chain.Tx) { tx.Signature = signedCopy(tx, otherNet).Signature },
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			tx := signedTxs(t, 2, testNet)[1]
			tx.Memo = []byte("memo")
			testKey(t, 1).SignTx(tx, testNet)
			if !VerifyTx(tx, testNet) {
				t.Fatal("unmutated tx does not verify")
			}
			mutate(tx)
			if VerifyTx(tx, testNet) {
				t.Fatal("mutated tx verifies")
			}
			txs := append(signedTxs(t, 9, testNet), tx)
			if bad, ok := VerifyTxs(txs, testNet); ok || bad != 9 {
				t.Fatalf("VerifyTxs = (%d, %v), want (9, false)", bad, ok)
			}
		})
	}
}

// signedCopy returns a copy of tx signed by test key 1 for net.
func signedCopy(tx *chain.Tx, net chain.Hash) *chain.Tx {
	c := *tx
	c.Memo = append([]byte(nil), tx.Memo...)
	seed := sha256.Sum256([]byte("wallet test key 1"))
	k, _ := wallet.KeyFromSeed(seed[:])
	k.SignTx(&c, net)
	return &c
}

func TestVerifyTxCoinbaseAndNil(t *testing.T) {
	if VerifyTx(coinbase(1), testNet) {
		t.Fatal("VerifyTx accepted a coinbase, which has no signature")
	}
	if VerifyTx(nil, testNet) {
		t.Fatal("VerifyTx accepted nil")
	}
}

func TestVerifyTxsAllValid(t *testing.T) {
	for _, n := range []int{0, 1, 2, 5, 33, 200} {
		txs := signedTxs(t, n, testNet)
		for _, workers := range []int{1, 2, 3, 8} {
			if bad, ok := verifyTxs(txs, &testNet, workers); !ok || bad != -1 {
				t.Fatalf("n=%d workers=%d: got (%d, %v), want (-1, true)", n, workers, bad, ok)
			}
		}
		if bad, ok := VerifyTxs(txs, testNet); !ok || bad != -1 {
			t.Fatalf("n=%d: VerifyTxs = (%d, %v), want (-1, true)", n, bad, ok)
		}
	}
}

func TestVerifyTxsSkipsCoinbase(t *testing.T) {
	txs := append([]*chain.Tx{coinbase(7)}, signedTxs(t, 40, testNet)...)
	for _, workers := range []int{1, 2, 4} {
		if bad, ok := verifyTxs(txs, &testNet, workers); !ok {
			t.Fatalf("workers=%d: block list with coinbase rejected at %d", workers, bad)
		}
	}
	// A chunk of coinbases only has nothing to verify.
	only := []*chain.Tx{coinbase(1), coinbase(2), coinbase(3), coinbase(4), coinbase(5), coinbase(6), coinbase(7), coinbase(8)}
	if bad, ok := verifyTxs(only, &testNet, 2); !ok {
		t.Fatalf("coinbase-only list rejected at %d", bad)
	}
	// The coinbase does not shift reported indices.
	txs[25].Amount++
	for _, workers := range []int{1, 2} {
		if bad, ok := verifyTxs(txs, &testNet, workers); ok || bad != 25 {
			t.Fatalf("workers=%d: got (%d, %v), want (25, false)", workers, bad, ok)
		}
	}
}

func TestVerifyTxsReportsFirstBadIndex(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 16, 64, 101} {
		for _, pos := range []int{0, n / 3, n / 2, n - 1} {
			for _, workers := range []int{1, 2, 3, 4, 8} {
				txs := signedTxs(t, n, testNet)
				txs[pos].Signature[10] ^= 0x40
				bad, ok := verifyTxs(txs, &testNet, workers)
				if ok || bad != pos {
					t.Fatalf("n=%d bad at %d workers=%d: got (%d, %v)", n, pos, workers, bad, ok)
				}
			}
		}
	}
}

func TestVerifyTxsFirstOfSeveralBad(t *testing.T) {
	txs := signedTxs(t, 100, testNet)
	for _, i := range []int{90, 60, 31, 99} {
		txs[i].Fee++
	}
	for _, workers := range []int{1, 2, 3, 5, 8} {
		if bad, ok := verifyTxs(txs, &testNet, workers); ok || bad != 31 {
			t.Fatalf("workers=%d: got (%d, %v), want (31, false)", workers, bad, ok)
		}
	}
}

func TestVerifyTxsNilEntry(t *testing.T) {
	txs := signedTxs(t, 20, testNet)
	txs[12] = nil
	for _, workers := range []int{1, 2, 4} {
		if bad, ok := verifyTxs(txs, &testNet, workers); ok || bad != 12 {
			t.Fatalf("workers=%d: got (%d, %v), want (12, false)", workers, bad, ok)
		}
	}
	// An invalid signature before the nil is reported first.
	txs[4].Nonce++
	for _, workers := range []int{1, 2} {
		if bad, ok := verifyTxs(txs, &testNet, workers); ok || bad != 4 {
			t.Fatalf("workers=%d: got (%d, %v), want (4, false)", workers, bad, ok)
		}
	}
}

func TestVerifyTxsAllocations(t *testing.T) {
	txs := signedTxs(t, 200, testNet)
	allocs := testing.AllocsPerRun(20, func() {
		if _, ok := verifyTxs(txs, &testNet, 1); !ok {
			t.Fatal("valid list rejected")
		}
	})
	// The batch verifier's own SHA-512 state costs one allocation per
	// signature; the messages themselves must cost none.
	if perTx := allocs / float64(len(txs)); perTx > maxAllocsPerTx {
		t.Fatalf("%.1f allocations for %d txs (%.2f per tx), want at most %d per tx", allocs, len(txs), perTx, maxAllocsPerTx)
	}
}

// maxAllocsPerTx is the allocation budget per verified transaction.
const maxAllocsPerTx = 1

// scalarFrom returns a scalar derived from label.
func scalarFrom(t *testing.T, label string) *edwards25519.Scalar {
	t.Helper()
	h := sha512.Sum512([]byte(label))
	s, err := new(edwards25519.Scalar).SetUniformBytes(h[:])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// challenge returns k = SHA-512(R || A || msg) as a scalar.
func challenge(t *testing.T, r []byte, a chain.PublicKey, msg []byte) *edwards25519.Scalar {
	t.Helper()
	h := sha512.New()
	h.Write(r)
	h.Write(a[:])
	h.Write(msg)
	k, err := new(edwards25519.Scalar).SetUniformBytes(h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestZIP215NonCanonicalEncodings builds signatures that ZIP-215 accepts
// but a strict (cofactorless, canonical-only) verifier rejects, and checks
// that single and batch verification agree on them.
func TestZIP215NonCanonicalEncodings(t *testing.T) {
	// Non-canonical R: the identity point with the sign bit set (x = 0).
	// With s = k*a, [s]B - [k]A - R = 0, so the cofactored check holds.
	t.Run("non-canonical R", func(t *testing.T) {
		key := testKey(t, 3)
		tx := &chain.Tx{To: chain.Address{7}, Amount: 1, Nonce: 1}
		tx.From = key.PublicKey()
		var rEnc [32]byte
		rEnc[0], rEnc[31] = 1, 0x80
		h := sha512.Sum512(key.Seed())
		a, err := new(edwards25519.Scalar).SetBytesWithClamping(h[:32])
		if err != nil {
			t.Fatal(err)
		}
		k := challenge(t, rEnc[:], tx.From, tx.SigningMessage(testNet))
		s := new(edwards25519.Scalar).Multiply(k, a)
		copy(tx.Signature[:32], rEnc[:])
		copy(tx.Signature[32:], s.Bytes())
		checkZIP215Only(t, tx)
		if VerifyTx(tx, otherNet) {
			t.Fatal("the signature verifies on another network")
		}
	})
	// Non-canonical small-order A: y = 0 encoded as y = p (order 4). With
	// s = r and R = [r]B, [s]B - [k]A - R = -[k]A, which [8] kills.
	t.Run("non-canonical small-order A", func(t *testing.T) {
		tx := &chain.Tx{To: chain.Address{8}, Amount: 2, Nonce: 2}
		tx.From = chain.PublicKey{0: 0xed, 31: 0x7f}
		for i := 1; i < 31; i++ {
			tx.From[i] = 0xff
		}
		r := scalarFrom(t, "nonce r")
		copy(tx.Signature[:32], new(edwards25519.Point).ScalarBaseMult(r).Bytes())
		copy(tx.Signature[32:], r.Bytes())
		// The strict verifier rejects this unless k happens to be a
		// multiple of 4; pick a memo for which it is not.
		for m := byte(0); ; m++ {
			tx.Memo = []byte{m}
			k := challenge(t, tx.Signature[:32], tx.From, tx.SigningMessage(testNet))
			if k.Bytes()[0]&3 != 0 {
				break
			}
		}
		checkZIP215Only(t, tx)
		// As the package doc warns, a small-order key "signs" anything:
		// the same signature holds on any network.
		if !VerifyTx(tx, otherNet) {
			t.Fatal("small-order key signature is network-bound; ZIP-215 says it is not")
		}
	})
}

// checkZIP215Only checks that tx verifies singly and in a batch with
// ordinary transactions, and that the standard library's strict verifier
// rejects it (so the case really exercises a ZIP-215 difference).
func checkZIP215Only(t *testing.T, tx *chain.Tx) {
	t.Helper()
	if ed25519.Verify(tx.From[:], tx.SigningMessage(testNet), tx.Signature[:]) {
		t.Fatal("constructed case is accepted by the strict verifier too; it tests nothing ZIP-215 specific")
	}
	if !VerifyTx(tx, testNet) {
		t.Fatal("ZIP-215 single verification rejects the case")
	}
	txs := append(signedTxs(t, 15, testNet), tx)
	for _, workers := range []int{1, 2} {
		if bad, ok := verifyTxs(txs, &testNet, workers); !ok {
			t.Fatalf("workers=%d: batch verification rejects the case at %d", workers, bad)
		}
	}
}

// benchTxs is the list size of the all-cores benchmark: a full block's
// worth of transactions.
const benchTxs = 1000

func BenchmarkVerifySingle(b *testing.B) {
	txs := signedTxs(b, 64, testNet)
	i := 0
	for b.Loop() {
		if !VerifyTx(txs[i%len(txs)], testNet) {
			b.Fatal("valid tx rejected")
		}
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "sigs/s")
}

func benchmarkVerifyTxs(b *testing.B, workers int) {
	txs := signedTxs(b, benchTxs, testNet)
	n := 0
	for b.Loop() {
		if _, ok := verifyTxs(txs, &testNet, workers); !ok {
			b.Fatal("valid list rejected")
		}
		n++
	}
	b.ReportMetric(float64(n*len(txs))/b.Elapsed().Seconds(), "sigs/s")
}

// BenchmarkVerifyTxsAllCores is VerifyTxs on 1,000 transactions with
// GOMAXPROCS goroutines: the signature ceiling of block connection.
func BenchmarkVerifyTxsAllCores(b *testing.B) {
	txs := signedTxs(b, benchTxs, testNet)
	n := 0
	for b.Loop() {
		if _, ok := VerifyTxs(txs, testNet); !ok {
			b.Fatal("valid list rejected")
		}
		n++
	}
	b.ReportMetric(float64(n*len(txs))/b.Elapsed().Seconds(), "sigs/s")
}

// BenchmarkVerifyTxsOneCore is the same batch work on one goroutine, to
// separate the batch gain from the parallel gain.
func BenchmarkVerifyTxsOneCore(b *testing.B) { benchmarkVerifyTxs(b, 1) }
