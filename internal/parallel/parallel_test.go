package parallel

import (
	"runtime"
	"sync/atomic"
	"testing"
)

func TestRangeCoversEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 64, 1001} {
		for _, workers := range []int{-1, 0, 1, 2, 3, 8, 5000} {
			hits := make([]int32, n)
			var calls atomic.Int32
			Range(n, workers, func(w, lo, hi int) {
				calls.Add(1)
				if lo > hi || lo < 0 || hi > n {
					t.Errorf("n=%d workers=%d: bad chunk [%d, %d)", n, workers, lo, hi)
				}
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("n=%d workers=%d: index %d visited %d times", n, workers, i, h)
				}
			}
			want := int32(max(min(workers, n), 1))
			if got := calls.Load(); got != want {
				t.Fatalf("n=%d workers=%d: %d calls, want %d", n, workers, got, want)
			}
		}
	}
}

func TestRangeChunksAreContiguousAndOrdered(t *testing.T) {
	const n, workers = 103, 4
	lo := make([]int, workers)
	hi := make([]int, workers)
	Range(n, workers, func(w, l, h int) { lo[w], hi[w] = l, h })
	if lo[0] != 0 || hi[workers-1] != n {
		t.Fatalf("chunks do not span [0, %d): %v %v", n, lo, hi)
	}
	for w := 1; w < workers; w++ {
		if lo[w] != hi[w-1] {
			t.Fatalf("chunk %d starts at %d, previous ends at %d", w, lo[w], hi[w-1])
		}
		if d := (hi[w] - lo[w]) - (hi[0] - lo[0]); d < -1 || d > 1 {
			t.Fatalf("chunk sizes differ by more than one: %v %v", lo, hi)
		}
	}
}

func TestRangeJoinsBeforeReturning(t *testing.T) {
	var done atomic.Int32
	Range(8, 4, func(w, lo, hi int) {
		if w != 3 {
			runtime.Gosched()
		}
		done.Add(1)
	})
	if got := done.Load(); got != 4 {
		t.Fatalf("Range returned with %d of 4 chunks done", got)
	}
}

func TestWorkers(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	cases := []struct{ n, minPer, want int }{
		{0, 4, 1},
		{3, 4, 1},
		{8, 4, min(2, procs)},
		{1 << 20, 4, procs},
		{5, 0, procs},
	}
	for _, c := range cases {
		if got := Workers(c.n, c.minPer); got != c.want {
			t.Errorf("Workers(%d, %d) = %d, want %d", c.n, c.minPer, got, c.want)
		}
	}
}
