package penalty

import (
	"fmt"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newBook(c *clock) *Book {
	return New(Config{Threshold: 100, HalfLife: 10 * time.Minute, BanDuration: time.Hour, Now: c.now})
}

func TestPointsAddUpAndBan(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	b := newBook(c)
	for i := 1; i <= 4; i++ {
		banned, total := b.Add("p", 20)
		if banned || total != 20*i {
			t.Fatalf("charge %d: banned=%v total=%d", i, banned, total)
		}
	}
	banned, total := b.Add("p", 20)
	if !banned || total != 100 {
		t.Fatalf("fifth charge: banned=%v total=%d, want a ban at 100", banned, total)
	}
	if ok, until := b.Banned("p"); !ok || !until.Equal(c.t.Add(time.Hour)) {
		t.Fatalf("Banned = %v until %v", ok, until)
	}
	if again, _ := b.Add("p", 50); again {
		t.Error("a banned peer was banned again")
	}
	c.t = c.t.Add(time.Hour)
	if ok, _ := b.Banned("p"); ok {
		t.Error("ban did not expire")
	}
	if got := b.Points("p"); got != 0 {
		t.Errorf("points after the ban: %d, want 0", got)
	}
	if ok, _ := b.Banned("other"); ok || b.Points("other") != 0 {
		t.Error("an unknown peer is banned or has points")
	}
}

func TestPointsDecay(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	b := newBook(c)
	b.Add("p", 80)
	c.t = c.t.Add(10 * time.Minute)
	if got := b.Points("p"); got != 40 {
		t.Fatalf("after one half-life: %d, want 40", got)
	}
	// Slow misbehaviour never reaches the threshold.
	for range 20 {
		c.t = c.t.Add(10 * time.Minute)
		if banned, _ := b.Add("p", 45); banned {
			t.Fatal("charges spread over half-lives banned the peer")
		}
	}
	if banned, _ := b.Add("p", 0); banned {
		t.Error("a zero charge banned")
	}
}

func TestBookIsBounded(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	b := newBook(c)
	for i := range MaxTracked + 100 {
		b.Add(fmt.Sprint(i), 100) // every one banned
	}
	if n := len(b.entries); n > MaxTracked {
		t.Fatalf("%d entries, bound %d", n, MaxTracked)
	}
	if ok, _ := b.Banned(fmt.Sprint(MaxTracked + 99)); !ok {
		t.Error("the newest ban was evicted")
	}
}
