package store

import (
	"fmt"

	"github.com/chaind/chaind/chain"
)

// checkUpdate checks what every update must carry: a block whose hash is
// u.Hash.
func checkUpdate(u *Update) error {
	if u == nil || u.Block == nil {
		return fmt.Errorf("update has no block")
	}
	if got := u.Block.Hash(); got != u.Hash {
		return fmt.Errorf("update names block %s but its block hashes to %s", u.Hash, got)
	}
	return nil
}

// TipState is the main chain's tip as a store keeps it in memory.
type TipState struct {
	Hash   chain.Hash
	Height uint32
	OK     bool // false for an empty store
}

// CheckConnect checks that u may be connected on top of tip.
func CheckConnect(u *Update, tip TipState) error {
	if err := checkUpdate(u); err != nil {
		return fmt.Errorf("connect block: %w", err)
	}
	h := &u.Block.Header
	if u.Undo == nil {
		return fmt.Errorf("connect block %d %s: update has no undo record", h.Height, u.Hash)
	}
	if len(u.Block.Txs) > chain.MaxBlockTxs {
		return fmt.Errorf("connect block %d %s: %d transactions exceed %d", h.Height, u.Hash, len(u.Block.Txs), chain.MaxBlockTxs)
	}
	if !tip.OK {
		if h.Height != 0 {
			return fmt.Errorf("connect block %d %s: the store is empty, so the first block must be at height 0", h.Height, u.Hash)
		}
		return nil
	}
	if h.PrevHash != tip.Hash {
		return fmt.Errorf("connect block %d %s: its parent %s is not the tip %d %s", h.Height, u.Hash, h.PrevHash, tip.Height, tip.Hash)
	}
	if h.Height != tip.Height+1 {
		return fmt.Errorf("connect block %d %s: height does not follow the tip's height %d", h.Height, u.Hash, tip.Height)
	}
	return nil
}

// CheckDisconnect checks that u is the tip, and returns the tip after it
// is disconnected.
func CheckDisconnect(u *Update, tip TipState) (TipState, error) {
	if err := checkUpdate(u); err != nil {
		return tip, fmt.Errorf("disconnect block: %w", err)
	}
	h := &u.Block.Header
	if !tip.OK {
		return tip, fmt.Errorf("disconnect block %d %s: the store is empty", h.Height, u.Hash)
	}
	if u.Hash != tip.Hash {
		return tip, fmt.Errorf("disconnect block %d %s: it is not the tip %d %s", h.Height, u.Hash, tip.Height, tip.Hash)
	}
	if h.Height == 0 {
		return TipState{}, nil
	}
	return TipState{Hash: h.PrevHash, Height: h.Height - 1, OK: true}, nil
}
