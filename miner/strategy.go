package miner

import (
	"fmt"
	"sync"

	"github.com/chaind/chaind/chain"
)

// Strategy names, as a devnet's network file and the CLI spell them.
const (
	StrategyHonest  = "honest"
	StrategySelfish = "selfish"
)

// Strategy decides when the blocks this node mines are announced. The node
// consults it before announcing: Mined is told of each block of ours that
// became our tip, Seen of the height of each block another miner published;
// both return the blocks to announce now, oldest first. It knows nothing of
// the network: withholding is not announcing. A Strategy is safe for
// concurrent use.
type Strategy interface {
	// Name is the strategy's name (StrategyHonest, StrategySelfish).
	Name() string
	// Mined is told of a block this node mined; it returns the blocks to
	// announce now.
	Mined(b *chain.Block) []*chain.Block
	// Seen is told of another miner's block at height, published on the
	// network; it returns the blocks to announce now.
	Seen(height uint32) []*chain.Block
	// Withheld returns how many mined blocks are held back.
	Withheld() int
}

// NewStrategy returns the strategy called name.
func NewStrategy(name string) (Strategy, error) {
	switch name {
	case StrategyHonest, "":
		return Honest{}, nil
	case StrategySelfish:
		return &Selfish{}, nil
	}
	return nil, fmt.Errorf("unknown miner strategy %q (want %q or %q)", name, StrategyHonest, StrategySelfish)
}

// Honest announces every block as soon as it is mined.
type Honest struct{}

// Name implements Strategy.
func (Honest) Name() string { return StrategyHonest }

// Mined implements Strategy: announce it now.
func (Honest) Mined(b *chain.Block) []*chain.Block { return []*chain.Block{b} }

// Seen implements Strategy: nothing to announce.
func (Honest) Seen(uint32) []*chain.Block { return nil }

// Withheld implements Strategy: nothing is held back.
func (Honest) Withheld() int { return 0 }

// Selfish is Eyal and Sirer's selfish mining ("Majority is not Enough:
// Bitcoin Mining is Vulnerable", 2014). It mines on a private branch and
// publishes from it only to win races, with lead = private tip height -
// public height:
//
//   - it mines a block: keep it private, unless a tie race is on (lead 0
//     after publishing a one-block branch against another of equal height),
//     then publish the whole branch, which now wins by one;
//   - another miner publishes a block: with lead 0 (no private blocks)
//     nothing to do, the node adopts it; lead 1 becomes 0: publish the one
//     private block and race; lead 2 becomes 1: publish everything, the
//     branch wins by one; a greater lead: publish the private blocks up to
//     the public height, staying ahead; a negative lead (the public chain
//     overtook it) drops the private branch.
//
// The node must mine on its own tip (the private branch) and announce only
// what the strategy returns.
type Selfish struct {
	mu      sync.Mutex
	private []*chain.Block // mined, not yet announced, oldest first
	public  uint32         // height of the best block known to be public
	tie     bool           // a race between two branches of equal height is on
}

// Name implements Strategy.
func (s *Selfish) Name() string { return StrategySelfish }

// Mined implements Strategy.
func (s *Selfish) Mined(b *chain.Block) []*chain.Block {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.private) > 0 && b.Header.Height != s.private[len(s.private)-1].Header.Height+1 {
		// Mined on another branch than the private one: that branch is gone.
		s.private = nil
	}
	s.private = append(s.private, b)
	if s.tie {
		s.tie = false
		return s.publish(len(s.private))
	}
	return nil
}

// Seen implements Strategy.
func (s *Selfish) Seen(height uint32) []*chain.Block {
	s.mu.Lock()
	defer s.mu.Unlock()
	if height <= s.public {
		return nil // an old block, or a rival of one already counted
	}
	s.public = height
	s.tie = false
	if len(s.private) == 0 {
		return nil
	}
	lead := int64(s.private[len(s.private)-1].Header.Height) - int64(height)
	switch {
	case lead < 0:
		s.private = nil // overtaken: the node adopts the public chain
		return nil
	case lead == 0:
		s.tie = true
		return s.publish(len(s.private))
	case lead == 1:
		return s.publish(len(s.private))
	}
	n := 0
	for n < len(s.private) && s.private[n].Header.Height <= height {
		n++
	}
	return s.publish(n)
}

// publish removes the first n private blocks and returns them; they are
// public from now on.
func (s *Selfish) publish(n int) []*chain.Block {
	if n == 0 {
		return nil
	}
	out := append([]*chain.Block(nil), s.private[:n]...)
	s.private = append(s.private[:0:0], s.private[n:]...)
	if h := out[n-1].Header.Height; h > s.public {
		s.public = h
	}
	return out
}

// Withheld implements Strategy.
func (s *Selfish) Withheld() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.private)
}
