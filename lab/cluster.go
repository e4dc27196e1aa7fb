package lab

import (
	"context"
	"errors"
)

// Errors of a Cluster's controls.
var (
	// ErrUnknownNode: no node has that name.
	ErrUnknownNode = errors.New("unknown node")
	// ErrStopped: the control needs a running node and this one is stopped.
	ErrStopped = errors.New("node is stopped")
	// ErrRunning: Start of a node that runs.
	ErrRunning = errors.New("node is running")
	// ErrExists: Add of a name already taken.
	ErrExists = errors.New("node exists")
	// ErrUnsupported: the transport cannot do this (e.g. simulated mining on libp2p).
	ErrUnsupported = errors.New("not supported by this transport")
	// ErrBadRequest: a control's arguments are out of range.
	ErrBadRequest = errors.New("bad request")
)

// NodeStatus is one node as the controller shows it.
type NodeStatus struct {
	Name       string  `json:"name"`
	Running    bool    `json:"running"`
	PeerID     string  `json:"peer_id,omitempty"`
	API        string  `json:"api,omitempty"` // the node's HTTP API, if it serves one
	Address    string  `json:"address"`       // the node's coinbase and wallet address
	Mining     bool    `json:"mining"`
	Strategy   string  `json:"strategy"`
	Share      float64 `json:"share"`     // hash-rate share asked for, 0..1
	HashRate   float64 `json:"hash_rate"` // measured (hashes/s; simulated miners: 0)
	Withheld   int     `json:"withheld"`  // blocks a strategic miner holds back
	Height     uint32  `json:"height"`
	Tip        string  `json:"tip"`
	Peers      int     `json:"peers"`
	MempoolTxs int     `json:"mempool_txs"`
}

// Cluster is a running devnet the controller steers. Controls on an
// unknown name return ErrUnknownNode; controls that need a running node
// return ErrStopped for a stopped one. Implementations are safe for
// concurrent use.
type Cluster interface {
	// Network returns the network the cluster was started from, with the
	// nodes added since.
	Network() *Network
	// Status returns every node, in the order they were added.
	Status() []NodeStatus
	// Partition cuts the network into groups (nodes in no group form one
	// more); Heal joins it again.
	Partition(groups [][]string) error
	Heal() error
	// Shape sets the shape of the link between two nodes, linking them if
	// they were not.
	Shape(p Pair, s Shape) error
	// Stop stops a node cleanly; Crash kills it without a clean stop;
	// Start restarts a stopped node on its store.
	Stop(name string) error
	Crash(name string) error
	Start(name string) error
	// Add starts a new node linked to peers.
	Add(name string, peers []string) error
	// Mine has a node mine n blocks now (at its pace) and returns their hashes.
	Mine(ctx context.Context, name string, n int) ([]string, error)
	// SetShare sets a node's share of the network's hash rate (0..1; 0
	// stops its mining).
	SetShare(name string, share float64) error
	// Send has a node send amount base units to another node's address
	// and returns the transaction id.
	Send(from, to string, amount uint64) (string, error)
	// Mined reports whether a transaction is in a node's main chain.
	Mined(name, txid string) (bool, error)
	// HashAt returns the hash of a node's main-chain block at height ("" above its tip).
	HashAt(name string, height uint32) (string, error)
	// Close stops every node and the network.
	Close() error
}
