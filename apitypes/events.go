package apitypes

import "github.com/chaind/chaind/chain"

// Event names of GET /api/v1/events (the "event:" line of each
// Server-Sent Event), and the JSON each carries on its "data:" line.
const (
	// EventBlock: a block was connected to the main chain; data is a
	// BlockSummary.
	EventBlock = "block"
	// EventBlockAccepted: a block was stored as valid so far, on any
	// branch; data is a BlockSummary.
	EventBlockAccepted = "block-accepted"
	// EventBlockDisconnected: a block left the main chain in a reorg;
	// data is a BlockSummary.
	EventBlockDisconnected = "block-disconnected"
	// EventReorg: the main chain switched branches; data is a Reorg.
	EventReorg = "reorg"
	// EventTx: a transaction was admitted to the mempool; data is a Tx.
	EventTx = "tx"
	// EventPeer: a peer connected or left; data is a PeerEvent.
	EventPeer = "peer"
)

// EventNames lists every event name.
var EventNames = []string{EventBlock, EventBlockAccepted, EventBlockDisconnected, EventReorg, EventTx, EventPeer}

// Reorg is the data of an EventReorg: the new tip.
type Reorg struct {
	Height uint32     `json:"height"`
	Hash   chain.Hash `json:"hash"`
}

// PeerEvent is the data of an EventPeer.
type PeerEvent struct {
	Peer      string `json:"peer"`
	Connected bool   `json:"connected"`
	Addr      string `json:"addr"`
}
