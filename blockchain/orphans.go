package blockchain

import (
	"time"

	"github.com/chaind/chaind/chain"
)

// Orphan pool bounds.
const (
	// MaxOrphans bounds the blocks held while their parent is unknown.
	MaxOrphans = 256
	// OrphanTTL is how long an orphan waits for its parent.
	OrphanTTL = 10 * time.Minute
)

type orphan struct {
	block   *chain.Block
	expires time.Time
}

// orphanPool holds sanity-checked blocks whose parent is unknown, indexed by
// hash and by parent. Not safe for concurrent use; the chain lock guards it.
type orphanPool struct {
	byHash   map[chain.Hash]*orphan
	byParent map[chain.Hash][]chain.Hash
}

func newOrphanPool() *orphanPool {
	return &orphanPool{byHash: make(map[chain.Hash]*orphan), byParent: make(map[chain.Hash][]chain.Hash)}
}

func (p *orphanPool) has(h chain.Hash) bool { _, ok := p.byHash[h]; return ok }

func (p *orphanPool) len() int { return len(p.byHash) }

// add stores an orphan, first dropping expired ones and, if still full, the
// one that expires soonest.
func (p *orphanPool) add(hash chain.Hash, b *chain.Block, now time.Time) {
	if p.has(hash) {
		return
	}
	p.expire(now)
	if len(p.byHash) >= MaxOrphans {
		var oldest chain.Hash
		var oldestT time.Time
		for h, o := range p.byHash {
			if oldestT.IsZero() || o.expires.Before(oldestT) {
				oldest, oldestT = h, o.expires
			}
		}
		p.remove(oldest)
	}
	p.byHash[hash] = &orphan{block: b, expires: now.Add(OrphanTTL)}
	p.byParent[b.Header.PrevHash] = append(p.byParent[b.Header.PrevHash], hash)
}

func (p *orphanPool) expire(now time.Time) {
	for h, o := range p.byHash {
		if now.After(o.expires) {
			p.remove(h)
		}
	}
}

func (p *orphanPool) remove(hash chain.Hash) {
	o, ok := p.byHash[hash]
	if !ok {
		return
	}
	delete(p.byHash, hash)
	parent := o.block.Header.PrevHash
	sibs := p.byParent[parent]
	for i, h := range sibs {
		if h == hash {
			sibs = append(sibs[:i], sibs[i+1:]...)
			break
		}
	}
	if len(sibs) == 0 {
		delete(p.byParent, parent)
	} else {
		p.byParent[parent] = sibs
	}
}

// takeChildren removes and returns the live orphans whose parent is parent.
func (p *orphanPool) takeChildren(parent chain.Hash, now time.Time) []*chain.Block {
	hashes := p.byParent[parent]
	if len(hashes) == 0 {
		return nil
	}
	out := make([]*chain.Block, 0, len(hashes))
	for _, h := range append([]chain.Hash(nil), hashes...) {
		o := p.byHash[h]
		if !now.After(o.expires) {
			out = append(out, o.block)
		}
		p.remove(h)
	}
	return out
}

// root follows orphan parents back from hash to the first block missing from
// the pool: the block a syncing node must fetch next.
func (p *orphanPool) root(hash chain.Hash) chain.Hash {
	for {
		o, ok := p.byHash[hash]
		if !ok {
			return hash
		}
		hash = o.block.Header.PrevHash
	}
}
