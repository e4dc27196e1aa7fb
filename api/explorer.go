package api

import (
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/web"
)

// Block tree route bounds.
const (
	// DefaultTreeHeights is how many heights GET /api/v1/tree covers
	// without heights.
	DefaultTreeHeights = 20
	// MaxTreeHeights bounds heights of GET /api/v1/tree.
	MaxTreeHeights = 1000
	// DefaultTipsList is how many tips GET /api/v1/chaintips lists
	// without limit.
	DefaultTipsList = 100
)

// treeBlockJSON is one block of GET /api/v1/tree.
type treeBlockJSON struct {
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
	// Status is "main", "side" (a valid header off the main chain) or
	// "invalid" (failed validation or builds on a block that did).
	Status string `json:"status"`
	// Validated says the block was connected at some time, so its body was
	// checked in full; a side block never connected was not.
	Validated bool `json:"validated"`
}

// treeJSON is the answer of GET /api/v1/tree.
type treeJSON struct {
	From          uint32          `json:"from"`
	To            uint32          `json:"to"`
	TipHeight     uint32          `json:"tip_height"`
	Tip           chain.Hash      `json:"tip"`
	TargetSpacing int64           `json:"target_spacing"` // seconds between blocks the retarget aims at
	Blocks        []treeBlockJSON `json:"blocks"`         // by height, then arrival
	Truncated     bool            `json:"truncated"`
}

// blockStatus names where a block stands.
func blockStatus(main, invalid bool) string {
	switch {
	case invalid:
		return "invalid"
	case main:
		return "main"
	}
	return "side"
}

// getTree is GET /api/v1/tree: every known block (all branches) with a
// height in a window: ?to= (default: the highest known height) and
// ?heights= (how many heights ending at to, 1..MaxTreeHeights, default
// DefaultTreeHeights).
func (s *Server) getTree(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "to", "heights")
	if err != nil {
		return err
	}
	heights := uint64(DefaultTreeHeights)
	if v, ok := q["heights"]; ok {
		if heights, err = parseUint("heights", v, 1, MaxTreeHeights); err != nil {
			return err
		}
	}
	top := s.n.Chain.TreeHeight()
	to := uint64(top)
	if v, ok := q["to"]; ok {
		if to, err = parseUint("to", v, 0, math.MaxUint32); err != nil {
			return err
		}
		if to > uint64(top) {
			return badRequest("to: %d is above the highest known block %d", to, top)
		}
	}
	from := uint64(0)
	if to+1 > heights {
		from = to + 1 - heights
	}
	p := s.n.Params()
	tip := s.n.Chain.Tip()
	blocks, more := s.n.Chain.Tree(uint32(from), uint32(to), blockchain.MaxTreeBlocks)
	v := treeJSON{From: uint32(from), To: uint32(to), TipHeight: tip.Height, Tip: tip.Hash,
		TargetSpacing: p.TargetSpacing, Blocks: make([]treeBlockJSON, len(blocks)), Truncated: more}
	// Blocks near each other mostly share their bits: convert each once.
	type target struct{ difficulty, work float64 }
	targets := make(map[uint32]target)
	for i, b := range blocks {
		t, ok := targets[b.Bits]
		if !ok {
			t.work, _ = consensus.WorkFromBits(b.Bits).Float64()
			t.difficulty = consensus.Difficulty(b.Bits, p.PowLimit)
			targets[b.Bits] = t
		}
		v.Blocks[i] = treeBlockJSON{
			Hash: b.Hash, Parent: b.Parent, Height: b.Height, Timestamp: b.Timestamp,
			Bits: fmt.Sprintf("%08x", b.Bits), Difficulty: t.difficulty, Work: t.work,
			MainChain: b.MainChain, Status: blockStatus(b.MainChain, b.Invalid), Validated: b.Connected,
		}
	}
	return writeJSON(w, http.StatusOK, v)
}

// chainTipJSON is one branch tip of GET /api/v1/chaintips.
type chainTipJSON struct {
	Hash       chain.Hash `json:"hash"`
	Height     uint32     `json:"height"`
	BranchLen  uint32     `json:"branchlen"`
	ForkHeight uint32     `json:"fork_height"`
	// Status is "active", "valid-fork", "valid-headers" or "invalid", as
	// Bitcoin's getchaintips says.
	Status string `json:"status"`
}

// chainTipsJSON is the answer of GET /api/v1/chaintips.
type chainTipsJSON struct {
	Tips      []chainTipJSON `json:"tips"`
	Truncated bool           `json:"truncated"`
}

// getChainTips is GET /api/v1/chaintips: the tip of every branch the node
// knows (like Bitcoin's getchaintips), the active one first, the others
// highest first; ?limit= (1..blockchain.MaxTips, default DefaultTipsList).
func (s *Server) getChainTips(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "limit")
	if err != nil {
		return err
	}
	limit := uint64(DefaultTipsList)
	if v, ok := q["limit"]; ok {
		if limit, err = parseUint("limit", v, 1, blockchain.MaxTips); err != nil {
			return err
		}
	}
	tips, more := s.n.Chain.Tips(int(limit))
	v := chainTipsJSON{Tips: make([]chainTipJSON, len(tips)), Truncated: more}
	for i, t := range tips {
		v.Tips[i] = chainTipJSON{Hash: t.Hash, Height: t.Height, BranchLen: t.BranchLen, ForkHeight: t.ForkHeight, Status: t.Status}
	}
	return writeJSON(w, http.StatusOK, v)
}

// explorerRoutes serves the web explorer (package web): its shell at "/"
// and its files under web.Prefix.
func (s *Server) explorerRoutes() {
	files := web.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, notFound("no explorer file %s", r.URL.Path))
	}))
	serve := func(w http.ResponseWriter, r *http.Request) error {
		files.ServeHTTP(w, r)
		return nil
	}
	s.handle("GET /{$}", serve)
	s.handle("GET "+web.Prefix, serve)
}

// Address history route bounds.
const (
	// DefaultHistoryPage is the page size of GET
	// /api/v1/addresses/{address}/txs without limit.
	DefaultHistoryPage = 25
	// MaxHistoryPage bounds its limit.
	MaxHistoryPage = 100
)

// historyItemJSON is one transaction of an address's history.
type historyItemJSON struct {
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
	Amount       uint64 `json:"amount"`
	Fee          uint64 `json:"fee"`
	Nonce        uint64 `json:"nonce"`
}

// historyJSON is the answer of GET /api/v1/addresses/{address}/txs.
type historyJSON struct {
	Address string            `json:"address"`
	Txs     []historyItemJSON `json:"txs"` // newest first
	// Next is the before of the following (older) page, absent on the last.
	Next string `json:"next,omitempty"`
}

// parseCursor parses a history cursor "<height>-<index>".
func parseCursor(s string) (store.TxPosition, error) {
	h, i, ok := strings.Cut(s, "-")
	if !ok {
		return store.TxPosition{}, badRequest("before: %q is not a cursor <height>-<index> (take it from next)", s)
	}
	height, err := parseUint("before height", h, 0, math.MaxUint32)
	if err != nil {
		return store.TxPosition{}, err
	}
	index, err := parseUint("before index", i, 0, chain.MaxBlockTxs-1)
	if err != nil {
		return store.TxPosition{}, err
	}
	return store.TxPosition{Height: uint32(height), Index: int(index)}, nil
}

func formatCursor(p store.TxPosition) string { return fmt.Sprintf("%d-%d", p.Height, p.Index) }

// getAddressHistory is GET /api/v1/addresses/{address}/txs: the
// address's main-chain transactions (sent and received), newest first;
// ?limit= (1..MaxHistoryPage, default DefaultHistoryPage) and ?before= (the
// next of the previous page).
func (s *Server) getAddressHistory(w http.ResponseWriter, r *http.Request) error {
	addr, err := s.parseAddress("address", r.PathValue("address"))
	if err != nil {
		return err
	}
	q, err := query(r, "limit", "before")
	if err != nil {
		return err
	}
	limit := uint64(DefaultHistoryPage)
	if v, ok := q["limit"]; ok {
		if limit, err = parseUint("limit", v, 1, MaxHistoryPage); err != nil {
			return err
		}
	}
	var before *store.TxPosition
	if v, ok := q["before"]; ok {
		pos, err := parseCursor(v)
		if err != nil {
			return err
		}
		before = &pos
	}
	// One more than asked says whether there is a next page.
	items, err := s.n.Chain.AddressHistory(addr, before, int(limit)+1)
	if err != nil {
		return fmt.Errorf("address history: %w", err)
	}
	v := historyJSON{Address: chain.FormatAddress(s.hrp, addr), Txs: make([]historyItemJSON, 0, min(len(items), int(limit)))}
	if len(items) > int(limit) {
		items = items[:limit]
		v.Next = formatCursor(items[len(items)-1].TxPosition)
	}
	for _, it := range items {
		j := historyItemJSON{ID: it.TxID, Height: it.Height, Index: it.Index, Block: it.Block, Timestamp: it.Timestamp,
			Sent: it.Sent, Received: it.Received, Coinbase: it.Coinbase, Amount: it.Amount, Fee: it.Fee, Nonce: it.Nonce}
		if !it.Coinbase {
			j.Counterparty = chain.FormatAddress(s.hrp, it.Counterparty)
		}
		v.Txs = append(v.Txs, j)
	}
	return writeJSON(w, http.StatusOK, v)
}
