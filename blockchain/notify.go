package blockchain

import "github.com/chaind/chaind/chain"

// NotificationType says what happened to the chain.
type NotificationType int

// The notification types.
const (
	// BlockConnected: Block was added to the main chain.
	BlockConnected NotificationType = iota + 1
	// BlockDisconnected: Block was removed from the main chain by a reorg.
	BlockDisconnected
	// TipChanged: the main chain has a new tip (after any connects and
	// disconnects of one ProcessBlock call).
	TipChanged
	// BlockAccepted: Block passed its header checks and was stored in the
	// index, on whichever branch (it comes before any BlockConnected of
	// the same block). Side-branch blocks are seen only through it.
	BlockAccepted
)

func (t NotificationType) String() string {
	switch t {
	case BlockConnected:
		return "block-connected"
	case BlockDisconnected:
		return "block-disconnected"
	case TipChanged:
		return "tip-changed"
	case BlockAccepted:
		return "block-accepted"
	}
	return "unknown"
}

// Notification is one chain event.
type Notification struct {
	Type   NotificationType
	Block  *chain.Block // for BlockConnected, BlockDisconnected and BlockAccepted
	Hash   chain.Hash
	Height uint32
	Reorg  bool // for TipChanged: the old tip left the main chain
	// Flags, for BlockAccepted, are the flags the block reached
	// ProcessBlock with (Unrequested: gossip).
	Flags Flags
}
