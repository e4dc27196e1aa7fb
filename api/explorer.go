package api

import (
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/chaind/chaind/apitypes"
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

// blockStatus names where a block stands.
func blockStatus(main, invalid bool) string {
	switch {
	case invalid:
		return apitypes.BlockInvalid
	case main:
		return apitypes.BlockMain
	}
	return apitypes.BlockSide
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
	v := apitypes.Tree{From: uint32(from), To: uint32(to), TipHeight: tip.Height, Tip: tip.Hash,
		TargetSpacing: p.TargetSpacing, Blocks: make([]apitypes.TreeBlock, len(blocks)), Truncated: more}
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
		v.Blocks[i] = apitypes.TreeBlock{
			Hash: b.Hash, Parent: b.Parent, Height: b.Height, Timestamp: b.Timestamp,
			Bits: apitypes.Bits(b.Bits), Difficulty: t.difficulty, Work: t.work,
			MainChain: b.MainChain, Status: blockStatus(b.MainChain, b.Invalid), Validated: b.Connected,
		}
	}
	return writeJSON(w, http.StatusOK, v)
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
	v := apitypes.ChainTips{Tips: make([]apitypes.ChainTip, len(tips)), Truncated: more}
	for i, t := range tips {
		v.Tips[i] = apitypes.ChainTip{Hash: t.Hash, Height: t.Height, BranchLen: t.BranchLen, ForkHeight: t.ForkHeight, Status: t.Status}
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
	v := apitypes.History{Address: chain.FormatAddress(s.hrp, addr), Txs: make([]apitypes.HistoryItem, 0, min(len(items), int(limit)))}
	if len(items) > int(limit) {
		items = items[:limit]
		v.Next = formatCursor(items[len(items)-1].TxPosition)
	}
	for _, it := range items {
		j := apitypes.HistoryItem{ID: it.TxID, Height: it.Height, Index: it.Index, Block: it.Block, Timestamp: it.Timestamp,
			Sent: it.Sent, Received: it.Received, Coinbase: it.Coinbase,
			Amount: apitypes.Uint64(it.Amount), Fee: apitypes.Uint64(it.Fee), Nonce: apitypes.Uint64(it.Nonce)}
		if !it.Coinbase {
			j.Counterparty = chain.FormatAddress(s.hrp, it.Counterparty)
		}
		v.Txs = append(v.Txs, j)
	}
	return writeJSON(w, http.StatusOK, v)
}
