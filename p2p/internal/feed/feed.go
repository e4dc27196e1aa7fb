// Package feed fans events out to subscribers over bounded channels.
//
// Send never blocks: an event that does not fit in a subscriber's buffer is
// dropped for that subscriber and counted, so a slow consumer cannot stall
// the network goroutine that produced the event.
package feed

import "sync"

// Feed delivers values of type T to its subscribers. It is safe for
// concurrent use.
type Feed[T any] struct {
	mu      sync.Mutex
	subs    map[chan T]struct{}
	size    int
	closed  bool
	dropped uint64
}

// New returns a feed whose subscriber channels hold size values.
func New[T any](size int) *Feed[T] {
	return &Feed[T]{subs: make(map[chan T]struct{}), size: size}
}

// Subscribe returns a channel of values and a function that ends the
// subscription and closes the channel. After Close the channel is returned
// already closed.
func (f *Feed[T]) Subscribe() (<-chan T, func()) {
	ch := make(chan T, f.size)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		close(ch)
		return ch, func() {}
	}
	f.subs[ch] = struct{}{}
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if _, ok := f.subs[ch]; ok {
				delete(f.subs, ch)
				close(ch)
			}
		})
	}
}

// Send delivers v to every subscriber that has room and returns how many
// subscribers had to drop it.
func (f *Feed[T]) Send(v T) (dropped int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- v:
		default:
			dropped++
		}
	}
	f.dropped += uint64(dropped)
	return dropped
}

// Dropped returns the number of deliveries dropped so far.
func (f *Feed[T]) Dropped() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropped
}

// Close closes every subscriber channel; later Sends are no-ops.
func (f *Feed[T]) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	for ch := range f.subs {
		close(ch)
	}
	f.subs = nil
}
