package lab

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/miner"
	"github.com/chaind/chaind/store"
)

// selfish is a strategic miner's private chain. It takes in every block
// the node's public chain connects; the node's miner extends it; the
// strategy decides which of the miner's blocks the public chain (and so
// the network, which relays what the public chain connects) gets, and
// when. Fork choice on the private chain is the chain's own: the heavier
// branch, the first seen on a tie, so it keeps its private branch through
// a race and adopts the public chain once that is longer.
type selfish struct {
	log      *slog.Logger // with the node's name
	pub      *blockchain.Blockchain
	private  *blockchain.Blockchain
	strategy miner.Strategy

	mu    sync.Mutex
	ours  map[chain.Hash]bool
	queue chan selfishItem
	quit  chan struct{}
	done  chan struct{}
}

// selfishItem is a public block to take in, or blocks to publish.
type selfishItem struct {
	public  *chain.Block
	publish []*chain.Block
}

func newSelfish(c *MemCluster, nd *labNode, public *blockchain.Blockchain) (*selfish, error) {
	private, err := blockchain.New(blockchain.Config{Params: c.params, Store: store.NewMemory(), Now: c.now,
		Logger: c.log.With("node", nd.spec.Name, "sys", "private-chain")})
	if err != nil {
		return nil, fmt.Errorf("private chain: %w", err)
	}
	// The private chain starts as a copy of the public main chain.
	for h := uint32(1); h <= public.Height(); h++ {
		b, err := public.BlockAt(h)
		if err != nil {
			return nil, fmt.Errorf("private chain: copy block %d: %w", h, err)
		}
		if _, err := private.ProcessBlock(b, blockchain.Requested); err != nil {
			return nil, fmt.Errorf("private chain: copy block %d: %w", h, err)
		}
	}
	st, err := miner.NewStrategy(miner.StrategySelfish)
	if err != nil {
		return nil, err
	}
	return &selfish{log: c.log.With("node", nd.spec.Name), pub: public, private: private, strategy: st, ours: map[chain.Hash]bool{},
		queue: make(chan selfishItem, privateQueue), quit: make(chan struct{}), done: make(chan struct{})}, nil
}

func (s *selfish) start() {
	go func() {
		defer close(s.done)
		for {
			select {
			case <-s.quit:
				return
			case it := <-s.queue:
				if it.public != nil {
					_, _ = s.private.ProcessBlock(it.public, blockchain.Requested) // duplicates and our own blocks are no news
				}
				for _, b := range it.publish {
					if _, err := s.pub.ProcessBlock(b, blockchain.Requested); err != nil {
						s.log.Warn("selfish miner: publish", "height", b.Header.Height, "err", err)
					}
				}
			}
		}
	}()
}

func (s *selfish) stop() {
	close(s.quit)
	<-s.done
	s.private.Close()
}

func (s *selfish) enqueue(it selfishItem) {
	select {
	case s.queue <- it:
	default:
		s.log.Warn("selfish miner: queue full, a block is dropped")
	}
}

// public is told of every block the public chain connected.
func (s *selfish) public(b *chain.Block) {
	s.mu.Lock()
	ours := s.ours[b.Hash()]
	s.mu.Unlock()
	it := selfishItem{public: b}
	if !ours {
		it.publish = s.strategy.Seen(b.Header.Height)
	}
	s.enqueue(it)
}

// mined is told of every block the miner found on the private chain.
func (s *selfish) mined(b *chain.Block) {
	s.mu.Lock()
	s.ours[b.Hash()] = true
	s.mu.Unlock()
	if out := s.strategy.Mined(b); len(out) > 0 {
		s.enqueue(selfishItem{publish: out})
	}
}
