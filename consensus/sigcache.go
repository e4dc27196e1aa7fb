package consensus

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/chaind/chaind/chain"
)

// DefaultSigCacheEntries bounds a SigCache when its owner asks for no
// other size: twice the mempool's default bound (50,000), like btcd's
// default of 100,000. Full, it holds about 14 MB (SigCacheEntryBytes).
const DefaultSigCacheEntries = 100_000

// SigCacheEntryBytes bounds the memory of one entry of a full cache: the
// 32-byte tx id in the map with its 4-byte position and the map's spare
// room, and the id again in the eviction ring; 139 bytes measured with
// go1.26 on amd64 (TestSigCacheEntryBytes). A cache of n entries holds at
// most about n × SigCacheEntryBytes.
const SigCacheEntryBytes = 150

// SigCache remembers the ids of transactions whose signatures verified, so
// that a transaction checked when it entered the pool is not checked again
// when a block carries it (btcd's txscript.SigCache, Bitcoin Core's
// CSignatureCache). It is safe for concurrent use.
//
// The key is the transaction id, SHA-256 of the whole encoding: sender's
// public key, every signed field and the signature. For one network the
// id therefore fixes everything ed25519 verification reads (the signing
// message is a domain tag, the network id and the same fields), so a
// transaction that differs from a cached one in any byte, its signature
// included, has another id and is verified afresh. The network is fixed
// when the cache is made; VerifySignaturesCached ignores a cache made for
// another network.
//
// Only ids whose signatures verified are added (the caller's duty, as in
// Add's contract). The cache holds at most its bound of entries and
// evicts the oldest first (FIFO): which entry goes depends only on the
// order of insertions, not on the ids, so a peer cannot aim at an entry;
// to push one out it must get as many new valid signatures accepted as the
// cache holds, which costs a funded pool admission or a block's work each.
type SigCache struct {
	netID chain.Hash
	max   int

	mu sync.RWMutex // guards slot, ring and next
	// slot maps a cached id to its position in ring.
	slot map[chain.Hash]int32
	// ring holds the ids in insertion order, a circle once it has max
	// entries; a removed id's position stays in it until overwritten.
	ring []chain.Hash
	// next is the position the next insertion overwrites once ring is
	// full: the oldest.
	next int

	hits, misses atomic.Uint64
}

// NewSigCache returns an empty cache for the signatures of networkID's
// transactions that holds at most maxEntries ids; maxEntries <= 0 selects
// DefaultSigCacheEntries, and it is capped at math.MaxInt32. Memory is
// taken as entries are added.
func NewSigCache(networkID chain.Hash, maxEntries int) *SigCache {
	if maxEntries <= 0 {
		maxEntries = DefaultSigCacheEntries
	}
	maxEntries = min(maxEntries, math.MaxInt32)
	return &SigCache{netID: networkID, max: maxEntries, slot: make(map[chain.Hash]int32)}
}

// NetworkID returns the network whose signatures the cache holds.
func (c *SigCache) NetworkID() chain.Hash { return c.netID }

// Cap returns the most entries the cache holds.
func (c *SigCache) Cap() int { return c.max }

// Len returns the number of cached ids.
func (c *SigCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.slot)
}

// Contains reports whether id is cached: a transaction of that id carries
// a valid signature for the cache's network.
func (c *SigCache) Contains(id chain.Hash) bool {
	c.mu.RLock()
	_, ok := c.slot[id]
	c.mu.RUnlock()
	return ok
}

// Add records the ids of transactions whose signatures were verified for
// the cache's network; it must not be called with any other id. An id
// already cached keeps its place. When the cache is full the oldest entry
// makes room.
func (c *SigCache) Add(ids ...chain.Hash) {
	if len(ids) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		c.add(id)
	}
}

// add inserts one id. Called with mu held.
func (c *SigCache) add(id chain.Hash) {
	if _, ok := c.slot[id]; ok {
		return
	}
	if len(c.ring) < c.max {
		c.slot[id] = int32(len(c.ring))
		c.ring = append(c.ring, id)
		return
	}
	// The ring only grows to max, and then every live entry has its own
	// position: overwriting the oldest keeps len(slot) <= max.
	if old := c.ring[c.next]; c.holds(old, c.next) {
		delete(c.slot, old)
	}
	c.ring[c.next] = id
	c.slot[id] = int32(c.next)
	c.next = (c.next + 1) % c.max
}

// holds reports whether id is cached at position pos of the ring. Called
// with mu held.
func (c *SigCache) holds(id chain.Hash, pos int) bool {
	p, ok := c.slot[id]
	return ok && int(p) == pos
}

// Remove forgets ids, as when their transactions are buried in the chain
// and will not be verified again. Unknown ids are ignored.
func (c *SigCache) Remove(ids ...chain.Hash) {
	if len(ids) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		// The ring position stays until the oldest-first sweep reaches
		// it; add then sees it no longer belongs to this id.
		delete(c.slot, id)
	}
}

// SigCacheStats counts the signatures VerifyTxsCached looked up (block
// validation); the pool's lookups are not counted.
type SigCacheStats struct {
	Hits   uint64 // found in the cache: not verified
	Misses uint64 // not found: verified
}

// Stats returns the counts of lookups so far.
func (c *SigCache) Stats() SigCacheStats {
	return SigCacheStats{Hits: c.hits.Load(), Misses: c.misses.Load()}
}

// uncached returns the signed transactions of txs whose ids (ids[i] is
// txs[i]'s) are not cached, with their indexes in txs, and counts the
// lookups. Coinbases are left out; nil entries are kept, so the verifier
// reports them.
func (c *SigCache) uncached(txs []*chain.Tx, ids []chain.Hash) ([]*chain.Tx, []int) {
	var list []*chain.Tx
	var at []int
	hits := 0
	c.mu.RLock()
	for i, tx := range txs {
		if tx != nil && tx.IsCoinbase() {
			continue
		}
		if tx != nil {
			if _, ok := c.slot[ids[i]]; ok {
				hits++
				continue
			}
		}
		list = append(list, tx)
		at = append(at, i)
	}
	c.mu.RUnlock()
	c.hits.Add(uint64(hits))
	c.misses.Add(uint64(len(list)))
	return list, at
}

// verifyList is the verifier behind VerifyTxsCached; tests count its
// calls.
var verifyList = func(txs []*chain.Tx, networkID *chain.Hash) (int, bool) {
	return verifyTxs(txs, networkID, runtime.GOMAXPROCS(0))
}

// VerifyTxsCached is VerifyTxs that takes the transactions whose ids cache
// holds as verified: only the others go to the batch verifier. ids[i] must
// be txs[i].ID() (nil or a shorter list: they are computed). The cache is
// only read, never added to; a nil cache or one made for another network
// is not used, and every signature is verified.
func VerifyTxsCached(txs []*chain.Tx, ids []chain.Hash, networkID chain.Hash, cache *SigCache) (bad int, ok bool) {
	if cache == nil || cache.netID != networkID {
		return verifyList(txs, &networkID)
	}
	if len(ids) < len(txs) {
		ids = txIDs(txs)
	}
	list, at := cache.uncached(txs, ids)
	if len(list) == 0 {
		return -1, true
	}
	if bad, ok := verifyList(list, &networkID); !ok {
		return at[bad], false
	}
	return -1, true
}

// txIDs returns the ids of txs; a nil entry gets the zero id.
func txIDs(txs []*chain.Tx) []chain.Hash {
	ids := make([]chain.Hash, len(txs))
	for i, tx := range txs {
		if tx != nil {
			ids[i] = tx.ID()
		}
	}
	return ids
}

// VerifySignaturesCached is VerifySignatures through cache
// (VerifyTxsCached): a block whose transactions were verified when they
// entered the pool costs a lookup per transaction instead of a signature
// check.
func VerifySignaturesCached(p *Params, txs []*chain.Tx, ids []chain.Hash, cache *SigCache) error {
	if bad, ok := VerifyTxsCached(txs, ids, p.GenesisHash(), cache); !ok {
		return ruleErr(CodeBadSignature, "transaction %d (%s) has an invalid signature", bad, txs[bad].ID())
	}
	return nil
}
