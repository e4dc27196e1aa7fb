package node

import (
	"sync"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/p2p"
)

// Event hub bounds.
const (
	// EventBuffer is each subscriber's queue; a subscriber that falls this
	// far behind is dropped rather than slowing the node.
	EventBuffer = 256
	// MaxEventSubscribers bounds concurrent event streams.
	MaxEventSubscribers = 64
)

// Event is one thing that happened in the node: a *BlockConnected,
// *BlockAccepted, *BlockDisconnected, *Reorg, *TxAccepted or *PeerChanged. Events carry
// domain values; presenting them (the API's event stream) is the
// subscriber's job. Subscribers must not modify what an event points to.
type Event interface{ nodeEvent() }

// BlockConnected: Block joined the main chain.
type BlockConnected struct{ Block *chain.Block }

// BlockAccepted: Block was stored as valid so far, on any branch (it may
// not be, or not yet be, on the main chain).
type BlockAccepted struct{ Block *chain.Block }

// BlockDisconnected: Block left the main chain in a reorganisation.
type BlockDisconnected struct{ Block *chain.Block }

// Reorg: the main chain switched branches; the new tip is Height, Hash.
type Reorg struct {
	Height uint32
	Hash   chain.Hash
}

// TxAccepted: Tx was admitted to the mempool.
type TxAccepted struct{ Tx *chain.Tx }

// PeerChanged: a peer connected (Connected) or left; Addr is the remote
// "host:port" of the connection.
type PeerChanged struct {
	Peer      p2p.PeerID
	Connected bool
	Addr      string
}

func (*BlockConnected) nodeEvent()    {}
func (*BlockAccepted) nodeEvent()     {}
func (*BlockDisconnected) nodeEvent() {}
func (*Reorg) nodeEvent()             {}
func (*TxAccepted) nodeEvent()        {}
func (*PeerChanged) nodeEvent()       {}

// Hub fans events out to subscribers without ever blocking the publisher.
// It is safe for concurrent use.
type Hub struct {
	mu     sync.Mutex
	nextID int
	subs   map[int]chan Event
}

func newHub() *Hub { return &Hub{subs: make(map[int]chan Event)} }

// ErrTooManySubscribers is returned when MaxEventSubscribers streams are open.
var ErrTooManySubscribers = errTooMany{}

type errTooMany struct{}

func (errTooMany) Error() string { return "too many event subscribers" }

// Subscribe returns a channel of events and a function that ends the
// subscription. The channel is closed when the subscription ends, either by
// cancel or because the subscriber fell EventBuffer events behind.
func (h *Hub) Subscribe() (<-chan Event, func(), error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) >= MaxEventSubscribers {
		return nil, nil, ErrTooManySubscribers
	}
	id := h.nextID
	h.nextID++
	ch := make(chan Event, EventBuffer)
	h.subs[id] = ch
	return ch, func() { h.drop(id) }, nil
}

func (h *Hub) drop(id int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ch, ok := h.subs[id]; ok {
		delete(h.subs, id)
		close(ch)
	}
}

// Len returns the number of subscribers.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Publish delivers e to every subscriber that has room.
func (h *Hub) Publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, ch := range h.subs {
		select {
		case ch <- e:
		default:
			delete(h.subs, id)
			close(ch)
		}
	}
}

// closeAll ends every subscription (on shutdown).
func (h *Hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, ch := range h.subs {
		delete(h.subs, id)
		close(ch)
	}
}
