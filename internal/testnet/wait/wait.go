// Package wait holds the one polling helper the tests share: wait until a
// condition holds or fail the test, saying what was awaited. It depends on
// nothing of chaind, so in-package tests of any layer can use it.
package wait

import (
	"testing"
	"time"
)

// Interval is how often For checks its condition.
const Interval = 20 * time.Millisecond

// For polls cond every Interval until it holds, and fails t (Fatalf) when
// timeout passes first, naming what it waited for. It returns how long
// the condition took to hold. It must be called from the test's goroutine.
func For(t testing.TB, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(Interval)
	}
	return time.Since(start)
}

// Until is For without a test: it reports whether cond held before timeout.
func Until(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(Interval)
	}
	return true
}
