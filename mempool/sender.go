package mempool

import (
	"slices"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/state"
)

// entry is one pooled transaction.
type entry struct {
	tx   *chain.Tx
	id   chain.Hash
	from *sender
	cost uint64 // Amount + Fee (CheckTxSanity rules out overflow)
	size int
	seq  uint64 // admission order, the tie-break between equal fees
}

// sender is the pooled transactions of one address and the account they
// were last checked against. Invariants, with the pool's lock held:
// txs is ordered by strictly increasing nonce, every nonce >= acct.Nonce,
// cost is the sum of their costs and cost <= acct.Balance, minFee is the
// lowest fee among them, and a sender with no txs is in neither the
// pool's map nor its eviction heap.
type sender struct {
	addr     chain.Address
	acct     state.Account
	txs      []*entry
	cost     uint64
	minFee   uint64
	evictIdx int  // index in Pool.evict, -1 when not in it
	local    bool // a local account's: never evicted, no per-sender limit
}

// find returns the index of nonce in s.txs, or where it would go.
func (s *sender) find(nonce uint64) (int, bool) {
	return slices.BinarySearchFunc(s.txs, nonce, func(e *entry, n uint64) int {
		switch {
		case e.tx.Nonce < n:
			return -1
		case e.tx.Nonce > n:
			return 1
		}
		return 0
	})
}

// nextNonce returns the nonce after the run that starts at the account's
// nonce: the next executable nonce, the one a new transaction should use.
func (s *sender) nextNonce() uint64 {
	n := s.acct.Nonce
	for _, e := range s.txs {
		if e.tx.Nonce != n {
			break
		}
		n++
	}
	return n
}

// tail returns the sender's last transaction (s.txs must not be empty).
func (s *sender) tail() *entry { return s.txs[len(s.txs)-1] }

// evictHeap orders senders for eviction: lowest fee held first, and on
// equal fees the sender whose last transaction arrived last.
type evictHeap []*sender

func (h evictHeap) Len() int { return len(h) }

func (h evictHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.minFee != b.minFee {
		return a.minFee < b.minFee
	}
	return a.tail().seq > b.tail().seq
}

func (h evictHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].evictIdx = i
	h[j].evictIdx = j
}

func (h *evictHeap) Push(x any) {
	s := x.(*sender)
	s.evictIdx = len(*h)
	*h = append(*h, s)
}

func (h *evictHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	s.evictIdx = -1
	return s
}
