package mempool

import (
	"cmp"
	"container/heap"
	"slices"

	"github.com/chaind/chaind/chain"
)

// cursor is a sender's next transaction for a template.
type cursor struct {
	s *sender
	i int // index in s.txs
}

func (c cursor) entry() *entry { return c.s.txs[c.i] }

// priceHeap puts the highest fee first, the earlier arrival on a tie.
type priceHeap []cursor

func (h priceHeap) Len() int { return len(h) }

func (h priceHeap) Less(i, j int) bool { return feeOrder(h[i].entry(), h[j].entry()) < 0 }

func (h priceHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

func (h *priceHeap) Push(x any) { *h = append(*h, x.(cursor)) }

func (h *priceHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// feeOrder sorts by fee, highest first, then by arrival.
func feeOrder(a, b *entry) int {
	if c := cmp.Compare(b.tx.Fee, a.tx.Fee); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// Template returns transactions for the next block: at most maxTxs of
// them, of at most maxBytes encoded bytes in all, highest fee first while
// each sender's transactions stay in nonce order and contiguous from its
// account nonce, so the list applies in order to the state the pool last
// saw. A transaction that does not fit the remaining bytes is left out
// with its sender's later ones; other senders continue.
func (p *Pool) Template(maxTxs, maxBytes int) []*chain.Tx {
	if maxTxs <= 0 || maxBytes <= 0 {
		return nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	h := make(priceHeap, 0, len(p.senders))
	for _, s := range p.senders {
		if s.txs[0].tx.Nonce == s.acct.Nonce {
			h = append(h, cursor{s: s})
		}
	}
	heap.Init(&h)
	out := make([]*chain.Tx, 0, min(maxTxs, len(p.byID)))
	used := 0
	for len(h) > 0 && len(out) < maxTxs {
		c := h[0]
		e := c.entry()
		if e.size > maxBytes-used {
			heap.Pop(&h)
			continue
		}
		out = append(out, e.tx)
		used += e.size
		if next := c.i + 1; next < len(c.s.txs) && c.s.txs[next].tx.Nonce == e.tx.Nonce+1 {
			h[0].i = next
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return out
}

// Txs returns a snapshot of every pooled transaction, highest fee first
// (earlier arrival first on equal fees). Unlike Template it includes
// transactions behind a nonce gap and does not keep nonce order.
func (p *Pool) Txs() []*chain.Tx {
	p.mu.RLock()
	es := make([]*entry, 0, len(p.byID))
	for _, e := range p.byID {
		es = append(es, e)
	}
	p.mu.RUnlock()
	slices.SortFunc(es, feeOrder)
	out := make([]*chain.Tx, len(es))
	for i, e := range es {
		out[i] = e.tx
	}
	return out
}
