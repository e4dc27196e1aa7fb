package consensus

import (
	"encoding/binary"
	"runtime"
	"sync"
	"testing"

	"github.com/chaind/chaind/chain"
)

// countVerifier replaces verifyList for the test, counting its calls and
// the transactions handed to it.
func countVerifier(t *testing.T) (calls, txs *int) {
	t.Helper()
	calls, txs = new(int), new(int)
	orig := verifyList
	verifyList = func(list []*chain.Tx, netID *chain.Hash) (int, bool) {
		*calls++
		*txs += len(list)
		return orig(list, netID)
	}
	t.Cleanup(func() { verifyList = orig })
	return calls, txs
}

func TestSigCacheHitSkipsVerifier(t *testing.T) {
	txs := append([]*chain.Tx{coinbase(7)}, signedTxs(t, 100, testNet)...)
	ids := chain.TxIDs(txs)
	c := NewSigCache(testNet, 1000)
	calls, verified := countVerifier(t)

	if bad, ok := VerifyTxsCached(txs, ids, testNet, c); !ok {
		t.Fatalf("cold: transaction %d reported invalid", bad)
	}
	if *calls != 1 || *verified != 100 {
		t.Fatalf("cold: verifier called %d times with %d txs, want once with the 100 signed", *calls, *verified)
	}
	if c.Len() != 0 {
		t.Fatalf("verifying through the cache added %d entries; only Add adds", c.Len())
	}

	c.Add(ids[1:51]...) // half of them, as if the pool had admitted those
	*calls, *verified = 0, 0
	if _, ok := VerifyTxsCached(txs, nil, testNet, c); !ok {
		t.Fatal("half warm: reported invalid")
	}
	if *calls != 1 || *verified != 50 {
		t.Fatalf("half warm: verifier called %d times with %d txs, want once with the 50 uncached", *calls, *verified)
	}

	c.Add(ids[51:]...)
	*calls, *verified = 0, 0
	if _, ok := VerifyTxsCached(txs, ids, testNet, c); !ok {
		t.Fatal("warm: reported invalid")
	}
	if *calls != 0 {
		t.Fatalf("warm: verifier called %d times with %d txs, want no call", *calls, *verified)
	}
	if s := c.Stats(); s.Hits != 50+100 || s.Misses != 100+50 {
		t.Fatalf("stats %+v, want 150 hits and 150 misses", s)
	}
}

func TestSigCacheNeverAcceptsForgery(t *testing.T) {
	txs := signedTxs(t, 20, testNet)
	c := NewSigCache(testNet, 100)
	c.Add(chain.TxIDs(txs)...)

	// Another signature on the same fields; the same signature on other
	// fields; each has its own id, which is not cached.
	badSig := *txs[5]
	badSig.Signature[3] ^= 1
	badAmount := *txs[9]
	badAmount.Amount++
	for _, tc := range []struct {
		name string
		tx   *chain.Tx
		at   int
	}{{"changed signature", &badSig, 5}, {"changed amount", &badAmount, 9}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.tx.ID() == txs[tc.at].ID() {
				t.Fatal("the forgery has the original's id")
			}
			list := append([]*chain.Tx(nil), txs...)
			list[tc.at] = tc.tx
			bad, ok := VerifyTxsCached(list, chain.TxIDs(list), testNet, c)
			if ok || bad != tc.at {
				t.Fatalf("got (%d, %v), want (%d, false)", bad, ok, tc.at)
			}
		})
	}

	// Valid ids for one network do not vouch for another: a cache of
	// testNet is ignored for otherNet, where these signatures are invalid.
	if bad, ok := VerifyTxsCached(txs, nil, otherNet, c); ok || bad != 0 {
		t.Fatalf("other network through testNet's cache: got (%d, %v), want (0, false)", bad, ok)
	}
}

// idOf returns a distinct id for i.
func idOf(i int) chain.Hash {
	var h chain.Hash
	binary.BigEndian.PutUint64(h[:], uint64(i)+1)
	return h
}

func TestSigCacheFIFO(t *testing.T) {
	c := NewSigCache(testNet, 1000)
	for i := 0; i < 5000; i++ {
		c.Add(idOf(i))
		if c.Len() > 1000 {
			t.Fatalf("%d entries after %d adds, bound 1000", c.Len(), i+1)
		}
	}
	for i := 0; i < 5000; i++ {
		if want := i >= 4000; c.Contains(idOf(i)) != want {
			t.Fatalf("id %d cached: %v, want %v (the last 1000 stay)", i, !want, want)
		}
	}
	// Adding a cached id again neither duplicates it nor renews it.
	c.Add(idOf(4000))
	c.Add(idOf(5000))
	if c.Contains(idOf(4000)) || c.Len() != 1000 {
		t.Fatalf("after re-adding the oldest and one new: oldest cached %v, %d entries", c.Contains(idOf(4000)), c.Len())
	}
}

func TestSigCacheRemoveAndReAdd(t *testing.T) {
	a, b := idOf(1), idOf(2)
	c := NewSigCache(testNet, 4)
	c.Add(a, b)
	c.Remove(a, idOf(99))
	if c.Contains(a) || c.Len() != 1 {
		t.Fatalf("after Remove: a cached %v, %d entries", c.Contains(a), c.Len())
	}
	c.Add(a)       // a's old position is stale, its new one the third
	c.Add(idOf(3)) // full ring
	c.Add(idOf(4)) // overwrites the stale position: a stays
	if !c.Contains(a) || c.Len() != 4 {
		t.Fatalf("after overwriting a's stale position: a cached %v, %d entries", c.Contains(a), c.Len())
	}
	c.Add(idOf(5)) // overwrites b, the oldest live entry
	if c.Contains(b) || !c.Contains(a) || c.Len() != 4 {
		t.Fatalf("b cached %v, a cached %v, %d entries", c.Contains(b), c.Contains(a), c.Len())
	}
}

// TestSigCacheFloodConcurrent floods a small cache from several goroutines
// while others look up, verify through it and remove: the bound holds
// throughout, and -race checks the locking.
func TestSigCacheFloodConcurrent(t *testing.T) {
	const bound = 512
	c := NewSigCache(testNet, bound)
	txs := signedTxs(t, 8, testNet)
	ids := chain.TxIDs(txs)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20000; i++ {
				c.Add(idOf(w*1_000_000 + i))
				if i%97 == 0 {
					c.Remove(idOf(w*1_000_000 + i - 50))
				}
				if n := c.Len(); n > bound {
					t.Errorf("%d entries, bound %d", n, bound)
					return
				}
			}
		}()
	}
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				c.Add(ids...) // valid, so always allowed
				if _, ok := VerifyTxsCached(txs, ids, testNet, c); !ok {
					t.Error("valid transactions reported invalid")
					return
				}
				c.Contains(idOf(i))
			}
		}()
	}
	wg.Wait()
	if n := c.Len(); n > bound || n < bound-4*(20000/97) {
		t.Fatalf("%d entries after the flood, want the bound %d less at most the removed", n, bound)
	}
}

// TestSigCacheEntryBytes measures the heap of a full default-sized cache
// against SigCacheEntryBytes, the figure the flags and docs quote.
func TestSigCacheEntryBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a full default cache")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := NewSigCache(testNet, DefaultSigCacheEntries)
	for i := 0; i < 2*DefaultSigCacheEntries; i++ {
		c.Add(idOf(i))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / float64(c.Len())
	t.Logf("%d entries: %.1f bytes each, %.1f MB", c.Len(), per, per*float64(c.Len())/1e6)
	if per > SigCacheEntryBytes {
		t.Fatalf("%.1f bytes per entry, SigCacheEntryBytes says %d", per, SigCacheEntryBytes)
	}
	runtime.KeepAlive(c)
}
