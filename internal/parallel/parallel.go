// Package parallel runs fork-join loops: a range of indices cut into
// contiguous chunks, one goroutine per chunk, joined before returning.
//
// It is the one place chaind spreads CPU-bound work over cores
// (signature verification in consensus and mempool, signing in test
// helpers). Every goroutine it starts has ended when its functions return,
// so callers own no goroutines afterwards.
package parallel

import (
	"runtime"
	"sync"
)

// Workers returns how many goroutines n items are worth splitting over:
// at most runtime.GOMAXPROCS(0), at most one per minPerWorker items, and at
// least one. minPerWorker is the smallest share for which a goroutine's
// start and join are a small part of its work.
func Workers(n, minPerWorker int) int {
	w := runtime.GOMAXPROCS(0)
	if minPerWorker > 0 {
		w = min(w, n/minPerWorker)
	}
	return max(w, 1)
}

// Range cuts [0, n) into workers contiguous chunks of near-equal size and
// calls fn(w, lo, hi) for chunk w = [lo, hi). Chunk w's bounds are
// w*n/workers and (w+1)*n/workers, so they do not depend on timing. The
// last chunk runs on the caller's goroutine, the others on goroutines of
// their own; Range returns after every call has returned. With workers <= 1
// or n <= 1 it calls fn(0, 0, n) once on the caller's goroutine. fn must
// be safe to run concurrently for distinct chunks (typically each writes
// only its own slots).
func Range(n, workers int, fn func(w, lo, hi int)) {
	workers = min(workers, n)
	if workers <= 1 {
		fn(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers - 1 {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Go(func() { fn(w, lo, hi) })
	}
	last := workers - 1
	fn(last, last*n/workers, n)
	wg.Wait()
}

// For is Range over Workers(n, minPerWorker) chunks: the usual way to
// spread n independent items over the cores.
func For(n, minPerWorker int, fn func(w, lo, hi int)) {
	Range(n, Workers(n, minPerWorker), fn)
}
