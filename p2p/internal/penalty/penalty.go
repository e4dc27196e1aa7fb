// Package penalty keeps misbehaviour points and bans per peer, shared by the
// p2p implementations so that both discipline peers by the same rules.
//
// Points decay exponentially (they halve every half-life) so that rare
// harmless slips never add up to a ban while a burst of bad data does. When
// a peer's points reach the threshold it is banned until a deadline and its
// points are cleared. The book is bounded: past MaxTracked entries it drops
// expired bans and faded scores first, then arbitrary unbanned entries.
package penalty

import (
	"math"
	"sync"
	"time"
)

// MaxTracked bounds the number of peers the book remembers.
const MaxTracked = 10000

// fadedPoints: an entry whose points decayed below this is forgettable.
const fadedPoints = 0.5

// Config sets the rules of a Book.
type Config struct {
	Threshold   int           // points at which a peer is banned (> 0)
	HalfLife    time.Duration // time in which points halve (> 0)
	BanDuration time.Duration // how long a ban lasts (> 0)
	Now         func() time.Time
}

type entry struct {
	points      float64
	updated     time.Time
	bannedUntil time.Time
}

// Book tracks points and bans. It is safe for concurrent use.
type Book struct {
	cfg     Config
	mu      sync.Mutex
	entries map[string]*entry
}

// New returns an empty book. A nil Now uses time.Now.
func New(cfg Config) *Book {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Book{cfg: cfg, entries: make(map[string]*entry)}
}

// decayed returns e's points as of now.
func (b *Book) decayed(e *entry, now time.Time) float64 {
	dt := now.Sub(e.updated)
	if dt <= 0 || e.points == 0 {
		return e.points
	}
	return e.points * math.Exp2(-float64(dt)/float64(b.cfg.HalfLife))
}

// Add charges points to id and reports whether this charge banned it (it
// was not banned before and is now) and its points after the charge.
// Non-positive points are ignored.
func (b *Book) Add(id string, points int) (banned bool, total int) {
	if points <= 0 {
		return false, b.Points(id)
	}
	now := b.cfg.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[id]
	if e == nil {
		b.makeRoom(now)
		e = &entry{}
		b.entries[id] = e
	}
	if now.Before(e.bannedUntil) {
		return false, int(math.Round(b.decayed(e, now)))
	}
	e.points = b.decayed(e, now) + float64(points)
	e.updated = now
	// Compare the rounded points, as reported: five charges of 20 in quick
	// succession decay to 99.99 and must still reach a threshold of 100.
	if math.Round(e.points) >= float64(b.cfg.Threshold) {
		e.bannedUntil = now.Add(b.cfg.BanDuration)
		total = int(math.Round(e.points))
		e.points = 0
		return true, total
	}
	return false, int(math.Round(e.points))
}

// Points returns id's current (decayed) points.
func (b *Book) Points(id string) int {
	now := b.cfg.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[id]
	if e == nil {
		return 0
	}
	return int(math.Round(b.decayed(e, now)))
}

// Banned reports whether id is banned now, and until when.
func (b *Book) Banned(id string) (bool, time.Time) {
	now := b.cfg.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[id]
	if e == nil || !now.Before(e.bannedUntil) {
		return false, time.Time{}
	}
	return true, e.bannedUntil
}

// makeRoom evicts entries when the book is full. Called with mu held.
func (b *Book) makeRoom(now time.Time) {
	if len(b.entries) < MaxTracked {
		return
	}
	for id, e := range b.entries {
		if !now.Before(e.bannedUntil) && b.decayed(e, now) < fadedPoints {
			delete(b.entries, id)
		}
	}
	for id, e := range b.entries {
		if len(b.entries) < MaxTracked {
			return
		}
		if !now.Before(e.bannedUntil) {
			delete(b.entries, id)
		}
	}
	// Still full: every entry is an active ban. Drop one arbitrary ban
	// rather than grow without bound.
	for id := range b.entries {
		if len(b.entries) < MaxTracked {
			return
		}
		delete(b.entries, id)
	}
}
