package blockchain

import (
	"time"

	"github.com/chaind/chaind/chain"
)

// Orphan pool bounds. Orphans are held in memory only; the pool is bounded
// by count and by encoded bytes, and each orphan expires after its TTL,
// removed by a timer even when nothing else arrives.
const (
	// MaxOrphans bounds the blocks held while their parent is unknown.
	MaxOrphans = 256
	// MaxOrphanBytes bounds the encoded size of all orphans held: 16
	// blocks of the largest size devnet allows. An orphan larger than the
	// bound is not kept.
	MaxOrphanBytes = 32 << 20
	// OrphanTTL is how long an orphan waits for its parent.
	OrphanTTL = 10 * time.Minute
	// minOrphanTimer is the shortest wait of the expiry timer, so a clock
	// that does not move (tests) cannot make it spin.
	minOrphanTimer = 10 * time.Millisecond
)

type orphan struct {
	block   *chain.Block
	flags   Flags // as given to ProcessBlock, applied when the parent arrives
	size    int   // encoded bytes
	expires time.Time
}

// orphanPool holds sanity-checked blocks whose parent is unknown, indexed by
// hash and by parent, within maxCount blocks and maxBytes encoded bytes.
// Not safe for concurrent use; the chain lock guards it.
type orphanPool struct {
	maxCount int
	maxBytes int
	ttl      time.Duration
	bytes    int // encoded size of the blocks held
	byHash   map[chain.Hash]*orphan
	byParent map[chain.Hash][]chain.Hash
}

func newOrphanPool(maxCount, maxBytes int, ttl time.Duration) *orphanPool {
	return &orphanPool{maxCount: maxCount, maxBytes: maxBytes, ttl: ttl,
		byHash: make(map[chain.Hash]*orphan), byParent: make(map[chain.Hash][]chain.Hash)}
}

func (p *orphanPool) has(h chain.Hash) bool { _, ok := p.byHash[h]; return ok }

func (p *orphanPool) len() int { return len(p.byHash) }

// add stores an orphan, first dropping expired ones and then, while either
// bound would be exceeded, the one that expires soonest. A block larger
// than the byte bound is not kept.
func (p *orphanPool) add(hash chain.Hash, b *chain.Block, flags Flags, now time.Time) {
	size := b.Size()
	if p.has(hash) || size > p.maxBytes {
		return
	}
	p.expire(now)
	for len(p.byHash) > 0 && (len(p.byHash) >= p.maxCount || p.bytes+size > p.maxBytes) {
		p.remove(p.soonest())
	}
	p.byHash[hash] = &orphan{block: b, flags: flags, size: size, expires: now.Add(p.ttl)}
	p.bytes += size
	p.byParent[b.Header.PrevHash] = append(p.byParent[b.Header.PrevHash], hash)
}

// soonest returns the hash of the orphan that expires first. The pool
// must not be empty.
func (p *orphanPool) soonest() chain.Hash {
	var first chain.Hash
	var firstT time.Time
	for h, o := range p.byHash {
		if firstT.IsZero() || o.expires.Before(firstT) {
			first, firstT = h, o.expires
		}
	}
	return first
}

// nextExpiry returns when the next orphan expires, or false when the pool
// is empty.
func (p *orphanPool) nextExpiry() (time.Time, bool) {
	if len(p.byHash) == 0 {
		return time.Time{}, false
	}
	return p.byHash[p.soonest()].expires, true
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
	p.bytes -= o.size
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
func (p *orphanPool) takeChildren(parent chain.Hash, now time.Time) []*orphan {
	hashes := p.byParent[parent]
	if len(hashes) == 0 {
		return nil
	}
	out := make([]*orphan, 0, len(hashes))
	for _, h := range append([]chain.Hash(nil), hashes...) {
		o := p.byHash[h]
		if !now.After(o.expires) {
			out = append(out, o)
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

// armOrphanTimer sets the expiry timer for the next orphan to expire, or
// stops it when the pool is empty or the chain is closed. The timer is the
// chain's only background work: it runs onOrphanTimer on the runtime's
// timer goroutine and is stopped by Close. Called with mu held.
func (bc *Blockchain) armOrphanTimer() {
	next, ok := bc.orphans.nextExpiry()
	if !ok || bc.timerStopped {
		if bc.orphanTimer != nil {
			bc.orphanTimer.Stop()
		}
		return
	}
	d := max(next.Sub(bc.now()), minOrphanTimer)
	if bc.orphanTimer == nil {
		bc.orphanTimer = time.AfterFunc(d, bc.onOrphanTimer)
		return
	}
	bc.orphanTimer.Reset(d)
}

// onOrphanTimer drops the expired orphans and sets the timer for the next.
func (bc *Blockchain) onOrphanTimer() {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	if bc.timerStopped {
		return
	}
	bc.orphans.expire(bc.now())
	bc.armOrphanTimer()
}
