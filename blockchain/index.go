package blockchain

import (
	"math/big"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
)

// node is a block in the index: a header that passed its checks, on any branch.
type node struct {
	hash     chain.Hash
	header   chain.Header
	parent   *node
	children []*node
	work     *big.Int // cumulative work up to and including this block
	seq      uint64   // arrival order, for first-seen tie breaks
	invalid  bool
	// sigsChecked: the block's signatures were verified in this run
	// (acceptBlock or connect), so connecting it again skips them.
	sigsChecked bool
	// connected is set once the block was connected to the main chain
	// (validated in full); the store keeps it (HeaderRecord.Connected),
	// and blocks on the main chain when the index was loaded count as
	// connected.
	connected bool
	// body is the block while it is in the index but not yet stored: a
	// block that extends the tip is written by its connect, in the same
	// store batch (acceptBlock), and kept here until then. Nil once the
	// block is stored.
	body *chain.Block
}

func (n *node) height() uint32 { return n.header.Height }

// ancestor returns n's ancestor at height h (n itself at its own height), or
// nil when h is above n.
func (n *node) ancestor(h uint32) *node {
	if h > n.height() {
		return nil
	}
	for n != nil && n.height() > h {
		n = n.parent
	}
	return n
}

// betterThan reports whether n should be preferred as tip over o: more
// work, or equal work and seen first.
func (n *node) betterThan(o *node) bool {
	if c := n.work.Cmp(o.work); c != 0 {
		return c > 0
	}
	return n.seq < o.seq
}

// mainChain is the path from genesis to the tip, indexed by height.
type mainChain []*node

func (m mainChain) tip() *node { return m[len(m)-1] }

func (m mainChain) contains(n *node) bool {
	return int(n.height()) < len(m) && m[n.height()] == n
}

// fork returns the last block n's branch shares with the main chain.
func (m mainChain) fork(n *node) *node {
	for n != nil && !m.contains(n) {
		n = n.parent
	}
	return n
}

// parentContext gathers what consensus needs about the branch ending at p.
func parentContext(p *node, mc mainChain) consensus.ParentContext {
	times := make([]uint32, 0, consensus.MedianTimeBlocks)
	for n := p; n != nil && len(times) < consensus.MedianTimeBlocks; n = n.parent {
		times = append(times, n.header.Timestamp)
	}
	pc := consensus.ParentContext{Parent: &p.header, MedianTime: consensus.MedianTime(times)}
	if p.parent != nil {
		pc.GrandparentTime = p.parent.header.Timestamp
	}
	if p.height() >= consensus.AnchorHeight {
		var anchor *node
		if f := mc.fork(p); f != nil && f.height() >= consensus.AnchorHeight {
			anchor = mc[consensus.AnchorHeight] // shared with the main chain: O(1)
		} else {
			anchor = p.ancestor(consensus.AnchorHeight)
		}
		pc.Anchor = &anchor.header
	}
	return pc
}
