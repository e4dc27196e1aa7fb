package netsync

import (
	"sync"

	"github.com/chaind/chaind/chain"
)

// hashSet is a bounded set of hashes: when full, adding forgets the oldest.
// It grows as hashes come rather than taking its bound at once (a lab runs
// a thousand nodes in one process). Safe for concurrent use.
type hashSet struct {
	mu   sync.Mutex
	size int
	m    map[chain.Hash]struct{}
	ring []chain.Hash
	next int
}

func newHashSet(size int) *hashSet {
	return &hashSet{size: size, m: make(map[chain.Hash]struct{})}
}

// add inserts h and reports whether it was new.
func (s *hashSet) add(h chain.Hash) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[h]; ok {
		return false
	}
	if len(s.ring) < s.size {
		s.ring = append(s.ring, h)
	} else {
		delete(s.m, s.ring[s.next])
		s.ring[s.next] = h
		s.next = (s.next + 1) % len(s.ring)
	}
	s.m[h] = struct{}{}
	return true
}
