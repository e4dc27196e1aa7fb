package chain

import (
	"crypto/sha256"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// Sizes of the randomized hasher tests.
const (
	randomHeaders       = 200 // headers per randomized test
	noncesPerHeader     = 20  // random nonces checked per header
	searchRangePerCase  = 300 // nonces per brute-force search comparison
	searchCases         = 60  // brute-force search comparisons
	allocRuns           = 200 // calls averaged by testing.AllocsPerRun
	benchSearchBatch    = 4096
	bulkBufferSize      = 1 << 20
	sha256BlockSize     = 64
	easyTargetLeadBytes = 1 // zero bytes leading an "easy" random target
)

// edgeNonces are nonces at the boundaries of their byte and word layout in
// the final block (the nonce straddles three 32-bit message words).
var edgeNonces = []uint64{
	0, 1, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 0x100000000,
	0xffff_ffff_ffff, 0x1_0000_0000_0000, 0x0102030405060708,
	0x8000000000000000, math.MaxUint64 - 1, math.MaxUint64,
}

func randomHeader(rng *rand.Rand) Header {
	h := Header{
		Version:   uint16(rng.Uint32()),
		Height:    rng.Uint32(),
		Timestamp: rng.Uint32(),
		Bits:      rng.Uint32(),
		Nonce:     rng.Uint64(),
	}
	for _, f := range []*Hash{&h.PrevHash, &h.MerkleRoot, &h.DataHash} {
		for i := range f {
			f[i] = byte(rng.Uint32())
		}
	}
	return h
}

// referenceHash hashes the header with the given nonce the slow, obvious
// way: crypto/sha256 over the full 118-byte encoding.
func referenceHash(h Header, nonce uint64) Hash {
	h.Nonce = nonce
	b := h.Encode()
	return sha256.Sum256(b[:])
}

func TestHashNonceMatchesHeaderHash(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for range randomHeaders {
		h := randomHeader(rng)
		hh := NewHeaderHasher(&h)
		nonces := append([]uint64{h.Nonce}, edgeNonces...)
		for range noncesPerHeader {
			nonces = append(nonces, rng.Uint64())
		}
		for _, n := range nonces {
			want := h
			want.Nonce = n
			if got := hh.HashNonce(n); got != want.Hash() {
				t.Fatalf("header %+v nonce %#x: HashNonce = %s, Header.Hash = %s", h, n, got, want.Hash())
			}
			if got := hh.HashNonce(n); got != referenceHash(h, n) {
				t.Fatalf("nonce %#x: HashNonce disagrees with crypto/sha256", n)
			}
		}
	}
}

func TestHeaderHasherIgnoresNonceAndResets(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	a, b := randomHeader(rng), randomHeader(rng)
	aOtherNonce := a
	aOtherNonce.Nonce = ^a.Nonce
	ha, ha2 := NewHeaderHasher(&a), NewHeaderHasher(&aOtherNonce)
	if *ha != *ha2 {
		t.Error("hashers for headers differing only in Nonce differ")
	}
	ha.Reset(&b)
	for _, n := range edgeNonces {
		if got, want := ha.HashNonce(n), referenceHash(b, n); got != want {
			t.Fatalf("after Reset to another header, nonce %#x: got %s, want %s", n, got, want)
		}
	}
	// Every field reaches the hash: flipping any byte of the encoding
	// outside the nonce changes the hasher's output.
	enc := a.Encode()
	base := NewHeaderHasher(&a).HashNonce(0)
	for i := range offNonce {
		mod := enc
		mod[i] ^= 1
		h, err := DecodeHeader(mod[:])
		if err != nil {
			t.Fatal(err)
		}
		if NewHeaderHasher(&h).HashNonce(0) == base {
			t.Errorf("flipping encoding byte %d does not change the hash", i)
		}
	}
}

// referenceSearch is SearchNonces written with math/big and Header.Hash.
func referenceSearch(h Header, start, count uint64, target *[HashSize]byte) (uint64, Hash, bool) {
	t := new(big.Int).SetBytes(target[:])
	for i := uint64(0); i < count; i++ {
		n := start + i
		if n < start {
			break // no wrap-around
		}
		h.Nonce = n
		hash := h.Hash()
		if new(big.Int).SetBytes(hash[:]).Cmp(t) <= 0 {
			return n, hash, true
		}
	}
	return 0, Hash{}, false
}

func checkSearch(t *testing.T, hh *HeaderHasher, h Header, start, count uint64, target *[HashSize]byte) (found bool) {
	t.Helper()
	gotN, gotH, gotOK := hh.SearchNonces(start, count, target)
	wantN, wantH, wantOK := referenceSearch(h, start, count, target)
	if gotN != wantN || gotH != wantH || gotOK != wantOK {
		t.Fatalf("SearchNonces(%#x, %d, %x) = (%#x, %s, %v), want (%#x, %s, %v)",
			start, count, target[:], gotN, gotH, gotOK, wantN, wantH, wantOK)
	}
	return gotOK
}

func TestSearchNoncesMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	var hits, misses int
	for range searchCases {
		h := randomHeader(rng)
		hh := NewHeaderHasher(&h)
		// A random target whose leading byte is zero and whose next byte is
		// small: roughly one nonce in a few hundred qualifies, so some
		// ranges find one and some do not.
		var target [HashSize]byte
		for i := range target {
			target[i] = byte(rng.Uint32())
		}
		target[0] = 0
		target[1] &= 0x7f
		count := 1 + rng.Uint64N(searchRangePerCase) // odd and even counts
		if checkSearch(t, hh, h, rng.Uint64(), count, &target) {
			hits++
		} else {
			misses++
		}
	}
	if hits == 0 || misses == 0 {
		t.Errorf("searches found %d and missed %d: the test targets do not exercise both outcomes", hits, misses)
	}
}

func TestSearchNoncesTargetBoundaries(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	h := randomHeader(rng)
	hh := NewHeaderHasher(&h)
	n := rng.Uint64()
	hash := hh.HashNonce(n)

	// hash <= target is inclusive.
	exact := [HashSize]byte(hash)
	if got, gotHash, ok := hh.SearchNonces(n, 1, &exact); !ok || got != n || gotHash != hash {
		t.Errorf("target equal to the hash: got (%#x, %v), want (%#x, true)", got, ok, n)
	}
	// Targets that agree with the hash in every word but one, and are one
	// below or one above it in that word's lowest byte: the comparison
	// must reach that word and decide there.
	for word := range hashWords {
		lowByte := 4*word + 3
		below, above := exact, exact
		if below[lowByte] == 0 || above[lowByte] == 0xff {
			continue // the neighbour would carry into the next byte
		}
		below[lowByte]--
		above[lowByte]++
		if _, _, ok := hh.SearchNonces(n, 1, &below); ok {
			t.Errorf("word %d: target one below the hash accepted", word)
		}
		if _, _, ok := hh.SearchNonces(n, 1, &above); !ok {
			t.Errorf("word %d: target one above the hash rejected", word)
		}
		checkSearch(t, hh, h, n, 1, &below)
		checkSearch(t, hh, h, n, 1, &above)
	}
	var zero, max [HashSize]byte
	for i := range max {
		max[i] = 0xff
	}
	if got, _, ok := hh.SearchNonces(n, 3, &max); !ok || got != n {
		t.Errorf("all-ones target: got (%#x, %v), want (%#x, true)", got, ok, n)
	}
	checkSearch(t, hh, h, n, 50, &zero)
}

func TestSearchNoncesRangeEdges(t *testing.T) {
	var max [HashSize]byte
	for i := range max {
		max[i] = 0xff
	}
	rng := rand.New(rand.NewPCG(19, 20))
	h := randomHeader(rng)
	hh := NewHeaderHasher(&h)

	if _, _, ok := hh.SearchNonces(5, 0, &max); ok {
		t.Error("count 0 found a nonce")
	}
	if _, _, ok := hh.SearchNonces(5, 10, nil); ok {
		t.Error("nil target found a nonce")
	}
	if got, _, ok := hh.SearchNonces(math.MaxUint64, math.MaxUint64, &max); !ok || got != math.MaxUint64 {
		t.Errorf("start at MaxUint64: got (%#x, %v), want (MaxUint64, true)", got, ok)
	}

	// The search must stop at MaxUint64 rather than wrap to 0. Pick a
	// header whose nonce-0 hash is below the hashes of the last three
	// nonces, use that hash as the target, and search the last three
	// nonces with a count that would reach 0 if the range wrapped.
	const tailNonces = 3
	for {
		h = randomHeader(rng)
		hh.Reset(&h)
		target := [HashSize]byte(hh.HashNonce(0))
		below := true
		for i := range uint64(tailNonces) {
			hi := hh.HashNonce(math.MaxUint64 - i)
			if new(big.Int).SetBytes(hi[:]).Cmp(new(big.Int).SetBytes(target[:])) <= 0 {
				below = false
			}
		}
		if !below {
			continue
		}
		if checkSearch(t, hh, h, math.MaxUint64-(tailNonces-1), tailNonces+5, &target) {
			t.Error("search wrapped past MaxUint64")
		}
		if !checkSearch(t, hh, h, 0, 1, &target) {
			t.Error("nonce 0 does not meet a target equal to its own hash")
		}
		break
	}
}

func TestHasherDoesNotAllocate(t *testing.T) {
	h := randomHeader(rand.New(rand.NewPCG(21, 22)))
	hh := NewHeaderHasher(&h)
	var zero [HashSize]byte
	var sink Hash
	nonce := uint64(0)
	if n := testing.AllocsPerRun(allocRuns, func() { sink = hh.HashNonce(nonce); nonce++ }); n != 0 {
		t.Errorf("HashNonce allocates %v times per nonce, want 0", n)
	}
	if n := testing.AllocsPerRun(allocRuns, func() {
		_, sink, _ = hh.SearchNonces(nonce, benchSearchBatch, &zero)
		nonce += benchSearchBatch
	}); n != 0 {
		t.Errorf("SearchNonces allocates %v times per call of %d nonces, want 0", n, benchSearchBatch)
	}
	_ = sink
}

// BenchmarkHeaderNonces measures the miner's inner loop on one goroutine
// (one core): SearchNonces under a target no hash meets.
func BenchmarkHeaderNonces(b *testing.B) {
	h := randomHeader(rand.New(rand.NewPCG(23, 24)))
	hh := NewHeaderHasher(&h)
	var zero [HashSize]byte
	start := uint64(0)
	for b.Loop() {
		if _, _, ok := hh.SearchNonces(start, benchSearchBatch, &zero); ok {
			b.Fatal("a hash met the zero target")
		}
		start += benchSearchBatch
	}
	b.ReportMetric(float64(b.N)*benchSearchBatch/b.Elapsed().Seconds(), "nonces/s")
}

// BenchmarkSHA256Bulk1MiB is the yardstick for BenchmarkHeaderNonces:
// crypto/sha256 over 1 MiB, reported as 64-byte message blocks per second.
func BenchmarkSHA256Bulk1MiB(b *testing.B) {
	buf := make([]byte, bulkBufferSize)
	for i := range buf {
		buf[i] = byte(i)
	}
	b.SetBytes(bulkBufferSize)
	var sink [sha256.Size]byte
	for b.Loop() {
		sink = sha256.Sum256(buf)
	}
	_ = sink
	b.ReportMetric(float64(b.N)*(bulkBufferSize/sha256BlockSize)/b.Elapsed().Seconds(), "blocks64/s")
}
