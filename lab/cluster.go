package lab

import (
	"context"
	"errors"
	"fmt"

	"github.com/chaind/chaind/chain"
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

// checkAdd checks what every cluster's Add needs of its arguments, before
// anything changes: a valid name no node has, and at least one peer, each
// a node of the cluster. Called with the cluster's lock held.
func checkAdd[V any](name string, peers []string, nodes map[string]V) error {
	if err := CheckName(name); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if len(peers) == 0 {
		return fmt.Errorf("%w: a new node needs at least one peer", ErrBadRequest)
	}
	if _, ok := nodes[name]; ok {
		return fmt.Errorf("%w: %s", ErrExists, name)
	}
	for _, p := range peers {
		if _, ok := nodes[p]; !ok {
			return fmt.Errorf("%w: peer %q", ErrUnknownNode, p)
		}
	}
	return nil
}

// checkMine checks Mine's block count.
func checkMine(n int) error {
	if n < 1 || n > MaxMineBlocks {
		return fmt.Errorf("%w: blocks %d not in 1..%d", ErrBadRequest, n, MaxMineBlocks)
	}
	return nil
}

// checkShare checks SetShare's share of the network's hash rate.
func checkShare(share float64) error {
	if !(share >= 0 && share <= 1) {
		return fmt.Errorf("%w: share %v%% not in 0..100%%", ErrBadRequest, share*100)
	}
	return nil
}

// mineBlocks mines n blocks at node name one after another with mine and
// returns their hashes (those mined before an error, with the error).
func mineBlocks(ctx context.Context, name string, n int, mine func(context.Context, string) (*chain.Block, error)) ([]string, error) {
	var out []string
	for range n {
		b, err := mine(ctx, "")
		if err != nil {
			return out, fmt.Errorf("node %s: %w", name, err)
		}
		out = append(out, b.Hash().String())
	}
	return out, nil
}

// checkGroups checks a partition's groups against the cluster's nodes: at
// least one group, every name a node, no node in two groups.
func checkGroups[V any](groups [][]string, nodes map[string]V) error {
	if len(groups) == 0 {
		return fmt.Errorf("%w: a partition needs at least one group", ErrBadRequest)
	}
	seen := map[string]bool{}
	for _, g := range groups {
		for _, name := range g {
			if _, ok := nodes[name]; !ok {
				return fmt.Errorf("%w: %q", ErrUnknownNode, name)
			}
			if seen[name] {
				return fmt.Errorf("%w: %s is in two groups", ErrBadRequest, name)
			}
			seen[name] = true
		}
	}
	return nil
}
