package blockchain

import (
	"sort"

	"github.com/chaind/chaind/chain"
)

// Block tree query bounds.
const (
	// MaxTreeBlocks bounds the blocks one Tree call returns.
	MaxTreeBlocks = 5000
	// MaxTips bounds the branch tips one Tips call returns.
	MaxTips = 1000
)

// Tip statuses, as Bitcoin's getchaintips names them.
const (
	// TipActive is the main chain's tip.
	TipActive = "active"
	// TipValidFork is a side branch whose blocks were all connected (and
	// so validated in full) at some time.
	TipValidFork = "valid-fork"
	// TipValidHeaders is a side branch stored with valid headers, some of
	// whose blocks were never connected, so never validated in full.
	TipValidHeaders = "valid-headers"
	// TipInvalid is a branch that failed validation, or builds on one that did.
	TipInvalid = "invalid"
)

// TreeBlock is one indexed block as the block tree shows it.
type TreeBlock struct {
	Hash      chain.Hash
	Parent    chain.Hash
	Height    uint32
	Timestamp uint32
	Bits      uint32
	MainChain bool
	Invalid   bool
	// Connected says the block was connected at some time (validated in
	// full); a side block never connected has passed its header checks only.
	Connected bool
}

// Tree returns every indexed block (every branch, valid or invalid) with a
// height in [from, to], by height and then arrival order, at most max
// (MaxTreeBlocks when max is out of 1..MaxTreeBlocks); more reports whether
// blocks were left out. It costs O(blocks returned).
func (bc *Blockchain) Tree(from, to uint32, max int) (blocks []TreeBlock, more bool) {
	if max <= 0 || max > MaxTreeBlocks {
		max = MaxTreeBlocks
	}
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	for h := uint64(from); h <= uint64(to) && h < uint64(len(bc.byHeight)); h++ {
		for _, n := range bc.byHeight[h] {
			if len(blocks) == max {
				return blocks, true
			}
			blocks = append(blocks, bc.treeBlock(n))
		}
	}
	return blocks, false
}

// treeBlock describes n. Called with mu held.
func (bc *Blockchain) treeBlock(n *node) TreeBlock {
	tb := TreeBlock{Hash: n.hash, Height: n.height(), Timestamp: n.header.Timestamp, Bits: n.header.Bits,
		MainChain: bc.main.contains(n), Invalid: n.invalid, Connected: n.connected}
	if n.parent != nil {
		tb.Parent = n.parent.hash
	}
	return tb
}

// BranchTip is the tip of one branch of the block tree, as Bitcoin's
// getchaintips describes it.
type BranchTip struct {
	Hash   chain.Hash
	Height uint32
	// BranchLen is the number of blocks from the fork point with the main
	// chain to the tip (0 for the main chain's tip).
	BranchLen uint32
	// ForkHeight is the height of the last block the branch shares with
	// the main chain.
	ForkHeight uint32
	Status     string // TipActive, TipValidFork, TipValidHeaders or TipInvalid
}

// Tips returns the tips of every branch the index holds (the main chain's
// tip first, then the others by height, highest first), at most max
// (MaxTips when max is out of 1..MaxTips); more reports whether tips were
// left out.
func (bc *Blockchain) Tips(max int) (tips []BranchTip, more bool) {
	if max <= 0 || max > MaxTips {
		max = MaxTips
	}
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	top := bc.main.tip()
	tips = append(tips, BranchTip{Hash: top.hash, Height: top.height(), ForkHeight: top.height(), Status: TipActive})
	others := make([]*node, 0, len(bc.leaves))
	for n := range bc.leaves {
		if n != top {
			others = append(others, n)
		}
	}
	sort.Slice(others, func(i, j int) bool {
		if others[i].height() != others[j].height() {
			return others[i].height() > others[j].height()
		}
		return others[i].seq < others[j].seq
	})
	for _, n := range others {
		if len(tips) == max {
			return tips, true
		}
		tips = append(tips, bc.branchTip(n))
	}
	return tips, false
}

// branchTip describes the side branch ending at n. Called with mu held.
func (bc *Blockchain) branchTip(n *node) BranchTip {
	t := BranchTip{Hash: n.hash, Height: n.height(), Status: TipValidFork}
	m := n
	for ; m != nil && !bc.main.contains(m); m = m.parent {
		if !m.connected && t.Status == TipValidFork {
			t.Status = TipValidHeaders
		}
	}
	if m != nil {
		t.ForkHeight = m.height()
	}
	t.BranchLen = n.height() - t.ForkHeight
	if n.invalid {
		t.Status = TipInvalid
	}
	return t
}

// TreeHeight returns the highest height of any indexed block, on any
// branch (at least the main chain's height).
func (bc *Blockchain) TreeHeight() uint32 {
	bc.mu.RLock()
	defer bc.mu.RUnlock()
	return uint32(len(bc.byHeight) - 1)
}
