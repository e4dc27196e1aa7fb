package netsync

import (
	"sync"

	"github.com/chaind/chaind/chain"
)

// hashSet is a bounded set of hashes: when full, adding forgets the oldest.
// Safe for concurrent use.
type hashSet struct {
	mu   sync.Mutex
	m    map[chain.Hash]struct{}
	ring []chain.Hash
	next int
}

func newHashSet(size int) *hashSet {
	return &hashSet{m: make(map[chain.Hash]struct{}, size), ring: make([]chain.Hash, 0, size)}
}

// add inserts h and reports whether it was new.
func (s *hashSet) add(h chain.Hash) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[h]; ok {
		return false
	}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, h)
	} else {
		delete(s.m, s.ring[s.next])
		s.ring[s.next] = h
		s.next = (s.next + 1) % len(s.ring)
	}
	s.m[h] = struct{}{}
	return true
}

// flights tracks the gossip messages being validated right now, so that the
// chain and pool notifications they cause (which run inside ProcessBlock or
// Pool.Add, on the validator's goroutine) are not published again: the
// network relays an accepted message itself. A notification that found
// its message in flight marks it suppressed; if the validator then does
// not accept it (another path got there first), the validator knows it
// must publish. Entries live only while a validation runs. Safe for
// concurrent use.
type flights[K comparable] struct {
	mu sync.Mutex
	m  map[K]bool // key -> a notification was suppressed
}

func newFlights[K comparable]() *flights[K] { return &flights[K]{m: make(map[K]bool)} }

// begin marks k in flight; false if it already is (a concurrent copy).
func (f *flights[K]) begin(k K) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.m[k]; ok {
		return false
	}
	f.m[k] = false
	return true
}

// end clears k and reports whether a notification for it was suppressed.
func (f *flights[K]) end(k K) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.m[k]
	delete(f.m, k)
	return s
}

// suppress reports whether k is in flight, marking it suppressed if so.
func (f *flights[K]) suppress(k K) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.m[k]; !ok {
		return false
	}
	f.m[k] = true
	return true
}
