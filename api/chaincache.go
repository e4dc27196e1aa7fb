package api

import (
	"sync"

	"github.com/chaind/chaind/chain"
)

// maxChainCacheBytes bounds the JSON encodings the whole-chain routes
// keep, so that streaming the chain to several clients encodes each
// block once rather than once per client.
const maxChainCacheBytes = 32 << 20

// encodedBlock is a block's JSON encoding with the hash of its parent
// (so a stream can check that what it writes links).
type encodedBlock struct {
	prev chain.Hash
	json []byte
}

// blockJSONCache maps block hashes to their encodings, bounded by bytes:
// when full, arbitrary entries are dropped until a quarter is free. Block
// encodings never change (a block's hash fixes its content), so entries
// never go stale. Safe for concurrent use.
type blockJSONCache struct {
	mu    sync.Mutex
	m     map[chain.Hash]encodedBlock
	bytes int
}

func newBlockJSONCache() *blockJSONCache {
	return &blockJSONCache{m: make(map[chain.Hash]encodedBlock)}
}

func (c *blockJSONCache) get(h chain.Hash) (encodedBlock, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[h]
	return e, ok
}

func (c *blockJSONCache) put(h chain.Hash, e encodedBlock) {
	if len(e.json) > maxChainCacheBytes/16 {
		return // a huge block is encoded each time rather than crowd out the rest
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[h]; ok {
		return
	}
	if c.bytes+len(e.json) > maxChainCacheBytes {
		for k, old := range c.m {
			delete(c.m, k)
			c.bytes -= len(old.json)
			if c.bytes <= maxChainCacheBytes*3/4 {
				break
			}
		}
	}
	c.m[h] = e
	c.bytes += len(e.json)
}
