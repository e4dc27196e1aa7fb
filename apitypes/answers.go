package apitypes

import (
	"encoding/json"
	"time"

	"github.com/chaind/chaind/chain"
)

// Error is the body of every answer other than success.
type Error struct {
	Error string `json:"error"`          // what is wrong, in words
	Code  string `json:"code,omitempty"` // the rule's short name when a rule refused, e.g. "bad-nonce"
	ID    string `json:"id,omitempty"`   // the transaction concerned, when there is one
}

// SyncProgress is the node's sync state.
type SyncProgress struct {
	Syncing      bool    `json:"syncing"`
	Height       uint32  `json:"height"`
	TargetHeight uint32  `json:"target_height"`
	BlocksPerSec float64 `json:"blocks_per_sec"`
	// ETA is the time left at the current rate, in nanoseconds (0 when
	// unknown or in step).
	ETA time.Duration `json:"eta"`
}

// Status is the answer of GET /api/v1/status.
type Status struct {
	Network     string       `json:"network"`
	Genesis     chain.Hash   `json:"genesis"`
	Height      uint32       `json:"height"`
	Tip         chain.Hash   `json:"tip"`
	TipTime     uint32       `json:"tip_time"`
	Bits        string       `json:"bits"`
	Difficulty  float64      `json:"difficulty"`
	TotalWork   string       `json:"total_work"` // decimal: too large for a JSON number
	Peers       int          `json:"peers"`
	MempoolSize int          `json:"mempool_size"`
	Syncing     bool         `json:"syncing"`
	Sync        SyncProgress `json:"sync"`
	Mining      bool         `json:"mining"`
	HashRate    float64      `json:"hashrate"`
}

// BlocksPage is the answer of GET /api/v1/blocks.
type BlocksPage struct {
	Blocks []BlockSummary `json:"blocks"`
	Order  string         `json:"order"` // "asc" or "desc"
	Tip    uint32         `json:"tip"`
	Next   *uint32        `json:"next,omitempty"` // from of the following page; absent at the end
}

// BlockDetail is the answer of GET /api/v1/blocks/{id}.
type BlockDetail struct {
	Block
	Size          int    `json:"size"`
	Confirmations uint32 `json:"confirmations"` // 0 off the main chain
	MainChain     bool   `json:"main_chain"`
	Invalid       bool   `json:"invalid,omitempty"`
	// Status is "main", "side" or "invalid"; DataHash the header's hash
	// of the data note.
	Status   string     `json:"status"`
	DataHash chain.Hash `json:"data_hash"`
}

// Transaction statuses of TxDetail.
const (
	TxConfirmed = "confirmed"
	TxPending   = "pending"
)

// TxDetail is the answer of GET /api/v1/txs/{id}.
type TxDetail struct {
	Tx            Tx          `json:"tx"`
	Status        string      `json:"status"` // TxConfirmed or TxPending
	Block         *chain.Hash `json:"block,omitempty"`
	Height        *uint32     `json:"height,omitempty"`
	Index         *int        `json:"index,omitempty"`
	Confirmations uint32      `json:"confirmations"`
}

// Account is the answer of GET /api/v1/accounts/{address}.
type Account struct {
	Address      string `json:"address"`
	Balance      Uint64 `json:"balance"`
	Nonce        Uint64 `json:"nonce"`
	PendingCount int    `json:"pending_count"`
	PendingSpend Uint64 `json:"pending_spend"` // amounts plus fees of pooled sends
	Spendable    Uint64 `json:"spendable"`     // balance less pending spend
	NextNonce    Uint64 `json:"next_nonce"`    // the nonce a new transaction should carry
}

// Mempool is the answer of GET /api/v1/mempool.
type Mempool struct {
	Size      int  `json:"size"`
	Txs       []Tx `json:"txs"` // highest fee first
	Truncated bool `json:"truncated"`
}

// NodeInfo is the answer of GET /api/v1/node.
type NodeInfo struct {
	Network string     `json:"network"`
	Genesis chain.Hash `json:"genesis"`
	Version string     `json:"version"`
	// PeerID and ListenAddresses describe the node on the peer-to-peer
	// network (empty when networking is off); another node given this
	// node's API URL as --peer reads them to connect.
	PeerID          string   `json:"peer_id"`
	ListenAddresses []string `json:"listen_addresses"`
	WalletAddresses []string `json:"wallet_addresses"`
	MinerAddress    string   `json:"miner_address"` // "" when blocks would burn their reward
	// Faucet is the address the faucet pays from ("" when the node has no
	// faucet: not a development network, or no key).
	Faucet string `json:"faucet,omitempty"`
}

// Peer is one connected peer in GET /api/v1/peers.
type Peer struct {
	ID string `json:"id"`
	// Addrs are the addresses the peer can be dialled at, as multiaddrs
	// ending in /p2p/<id>.
	Addrs []string `json:"addrs"`
	// HostPorts are the same addresses as "host:port" where they have one.
	HostPorts []string `json:"host_ports,omitempty"`
	// Remote is the "host:port" (or transport address) of the live connection.
	Remote    string `json:"remote"`
	Direction string `json:"direction"` // "inbound" or "outbound"
	// Penalty is the misbehaviour points held against the peer.
	Penalty       int        `json:"penalty"`
	ConnectedAt   time.Time  `json:"connected_at"`
	BestHeight    uint32     `json:"best_height"`
	BestHash      chain.Hash `json:"best_hash"`
	BlocksFetched Uint64     `json:"blocks_fetched"`
}

// Peers is the answer of GET /api/v1/peers.
type Peers struct {
	Peers []Peer `json:"peers"`
	Count int    `json:"count"`
}

// AddPeerRequest is the body of POST /addPeer and POST /api/v1/peers.
type AddPeerRequest struct {
	Peer string `json:"peer"` // a multiaddr ending in /p2p/<id>, or another node's API URL
}

// AddPeerAnswer is the answer of POST /addPeer and POST /api/v1/peers.
type AddPeerAnswer struct {
	Message string `json:"message"`
	Peer    string `json:"peer"`
	PeerID  string `json:"peer_id"`
}

// RegisterRequest is the body of the Flask tutorial's POST /nodes/register.
type RegisterRequest struct {
	Nodes []string `json:"nodes"`
}

// RegisterAnswer is the answer of POST /nodes/register.
type RegisterAnswer struct {
	Message    string            `json:"message"`
	TotalNodes []string          `json:"total_nodes"`
	Errors     map[string]string `json:"errors,omitempty"` // node -> why it is not connected yet
}

// Health is the answer of GET /healthz.
type Health struct {
	Status string `json:"status"`
	Height uint32 `json:"height"`
}

// MineBlockRequest is the body of naivechain's POST /mineBlock.
type MineBlockRequest struct {
	Data string `json:"data"`
}

// MineAnswer is the Flask tutorial's answer of GET /mine (plus the hash).
type MineAnswer struct {
	Message      string     `json:"message"`
	Index        uint32     `json:"index"`
	Transactions []Tx       `json:"transactions"`
	Proof        Uint64     `json:"proof"`
	PreviousHash chain.Hash `json:"previous_hash"`
	Hash         chain.Hash `json:"hash"`
}

// ChainAnswer is the Flask tutorial's answer of GET /chain, and of GET
// /nodes/resolve (Message, and NewChain in place of Chain when the chain
// was replaced).
type ChainAnswer struct {
	Message  string  `json:"message,omitempty"`
	Chain    []Block `json:"chain,omitempty"`
	NewChain []Block `json:"new_chain,omitempty"`
	Length   int     `json:"length"`
}

// NewTxRequest is the body of the Flask tutorial's POST /transactions/new.
// Amount and Fee are in coins, the tutorial's unit: a JSON number with at
// most 8 decimals (5 is 5 coins, 0.5 half a coin).
type NewTxRequest struct {
	Sender    string      `json:"sender"`
	Recipient string      `json:"recipient"`
	Amount    json.Number `json:"amount"`
	Fee       json.Number `json:"fee,omitempty"`
	Memo      string      `json:"memo,omitempty"`
}

// NewTxAnswer is the answer of POST /transactions/new.
type NewTxAnswer struct {
	Message string     `json:"message"`
	ID      chain.Hash `json:"id"`
	Nonce   Uint64     `json:"nonce"`
	// AmountUnits is the amount moved, in base units (amount coins * 10^8).
	AmountUnits Uint64 `json:"amount_units"`
}

// TxResult is the outcome of one transaction of POST /api/v1/txs.
type TxResult struct {
	ID       string `json:"id,omitempty"`
	Accepted bool   `json:"accepted"`
	Error    string `json:"error,omitempty"`
	Code     string `json:"code,omitempty"`
}

// Batch is the answer of POST /api/v1/txs with an array.
type Batch struct {
	Accepted int        `json:"accepted"`
	Rejected int        `json:"rejected"`
	Results  []TxResult `json:"results"`
}

// GenerateRequest is the body of POST /api/v1/generate: mine Blocks blocks
// now, paying their rewards to Address (the node's miner address when
// empty), as bitcoind's generatetoaddress.
type GenerateRequest struct {
	Blocks  int    `json:"blocks"`
	Address string `json:"address,omitempty"`
}

// GenerateAnswer is the answer of POST /api/v1/generate.
type GenerateAnswer struct {
	Hashes []chain.Hash `json:"hashes"` // the blocks mined, in order
	Height uint32       `json:"height"` // the tip's height afterwards
}

// FaucetRequest is the body of POST /api/v1/faucet. Amount is in base
// units.
type FaucetRequest struct {
	Address string `json:"address"`
	Amount  Uint64 `json:"amount"`
}

// FaucetAnswer is the answer of POST /api/v1/faucet: the transaction that
// pays Amount to Address from the node's development key, now pending.
type FaucetAnswer struct {
	ID      chain.Hash `json:"id"`
	From    string     `json:"from"`
	Address string     `json:"address"`
	Amount  Uint64     `json:"amount"`
	Fee     Uint64     `json:"fee"`
	Nonce   Uint64     `json:"nonce"`
}

// Block statuses of BlockDetail and TreeBlock.
const (
	BlockMain    = "main"    // on the main chain
	BlockSide    = "side"    // a valid header off the main chain
	BlockInvalid = "invalid" // failed validation, or builds on a block that did
)

// TreeBlock is one block of GET /api/v1/tree.
type TreeBlock struct {
	Hash      chain.Hash `json:"hash"`
	Parent    chain.Hash `json:"previous_hash"`
	Height    uint32     `json:"index"`
	Timestamp uint32     `json:"timestamp"`
	Bits      string     `json:"bits"`
	// Difficulty is the block's target as a multiple of the easiest one;
	// Work the hashes expected to find a block at its target.
	Difficulty float64 `json:"difficulty"`
	Work       float64 `json:"work"`
	MainChain  bool    `json:"main_chain"`
	Status     string  `json:"status"` // BlockMain, BlockSide or BlockInvalid
	// Validated says the block was connected at some time, so its body was
	// checked in full; a side block never connected was not.
	Validated bool `json:"validated"`
}

// Tree is the answer of GET /api/v1/tree: every known block, all branches,
// in a window of heights.
type Tree struct {
	From          uint32      `json:"from"`
	To            uint32      `json:"to"`
	TipHeight     uint32      `json:"tip_height"`
	Tip           chain.Hash  `json:"tip"`
	TargetSpacing int64       `json:"target_spacing"` // seconds between blocks the retarget aims at
	Blocks        []TreeBlock `json:"blocks"`         // by height, then arrival
	Truncated     bool        `json:"truncated"`
}

// ChainTip is one branch tip of GET /api/v1/chaintips.
type ChainTip struct {
	Hash       chain.Hash `json:"hash"`
	Height     uint32     `json:"height"`
	BranchLen  uint32     `json:"branchlen"`
	ForkHeight uint32     `json:"fork_height"`
	// Status is "active", "valid-fork", "valid-headers" or "invalid", as
	// Bitcoin's getchaintips says.
	Status string `json:"status"`
}

// ChainTips is the answer of GET /api/v1/chaintips.
type ChainTips struct {
	Tips      []ChainTip `json:"tips"`
	Truncated bool       `json:"truncated"`
}

// HistoryItem is one transaction of an address's history.
type HistoryItem struct {
	ID        chain.Hash `json:"id"`
	Height    uint32     `json:"height"`
	Index     int        `json:"index"` // position in the block
	Block     chain.Hash `json:"block"`
	Timestamp uint32     `json:"timestamp"`
	// Sent and Received say which side the address is on (both for a
	// transfer to itself); Coinbase marks new coins (no sender).
	Sent     bool `json:"sent"`
	Received bool `json:"received"`
	Coinbase bool `json:"coinbase"`
	// Counterparty is the other side's address; empty for a coinbase.
	Counterparty string `json:"counterparty,omitempty"`
	Amount       Uint64 `json:"amount"`
	Fee          Uint64 `json:"fee"`
	Nonce        Uint64 `json:"nonce"`
}

// History is the answer of GET /api/v1/addresses/{address}/txs.
type History struct {
	Address string        `json:"address"`
	Txs     []HistoryItem `json:"txs"` // newest first
	// Next is the before of the following (older) page, absent on the last.
	Next string `json:"next,omitempty"`
}
