package feed

import "testing"

func TestFeed(t *testing.T) {
	f := New[int](2)
	a, cancelA := f.Subscribe()
	b, cancelB := f.Subscribe()
	for i := range 3 {
		f.Send(i)
	}
	if f.Dropped() != 2 {
		t.Fatalf("dropped %d, want 2 (one per subscriber)", f.Dropped())
	}
	for _, ch := range []<-chan int{a, b} {
		if x, y := <-ch, <-ch; x != 0 || y != 1 {
			t.Fatalf("got %d %d, want 0 1", x, y)
		}
	}
	cancelA()
	cancelA() // idempotent
	if _, ok := <-a; ok {
		t.Fatal("cancelled channel still open")
	}
	if n := f.Send(7); n != 0 {
		t.Fatalf("send after cancel dropped %d", n)
	}
	if v := <-b; v != 7 {
		t.Fatalf("got %d", v)
	}
	f.Close()
	if _, ok := <-b; ok {
		t.Fatal("channel open after Close")
	}
	cancelB() // after Close: no panic
	c, _ := f.Subscribe()
	if _, ok := <-c; ok {
		t.Fatal("subscription after Close is open")
	}
	f.Send(1) // after Close: no-op
}
