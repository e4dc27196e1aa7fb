package api

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/netsync"
)

// Paging bounds.
const (
	// DefaultBlocksPage is the page size of GET /api/v1/blocks without limit.
	DefaultBlocksPage = 20
	// MaxBlocksPage bounds limit of GET /api/v1/blocks.
	MaxBlocksPage = 100
	// DefaultMempoolList is how many transactions GET /api/v1/mempool lists
	// without limit.
	DefaultMempoolList = 100
	// MaxMempoolList bounds limit of GET /api/v1/mempool.
	MaxMempoolList = 1000
	// maxHeightDigits is the length of the largest uint32 in decimal.
	maxHeightDigits = 10
)

// statusJSON is the answer of GET /api/v1/status.
type statusJSON struct {
	Network     string     `json:"network"`
	Genesis     chain.Hash `json:"genesis"`
	Height      uint32     `json:"height"`
	Tip         chain.Hash `json:"tip"`
	TipTime     uint32     `json:"tip_time"`
	Bits        string     `json:"bits"`
	Difficulty  float64    `json:"difficulty"`
	TotalWork   string     `json:"total_work"` // decimal: too large for a JSON number
	Peers       int        `json:"peers"`
	MempoolSize int        `json:"mempool_size"`
	Syncing     bool       `json:"syncing"`
	// Sync is the sync progress: target height, blocks/s, ETA (ns).
	Sync     netsync.Progress `json:"sync"`
	Mining   bool             `json:"mining"`
	HashRate float64          `json:"hashrate"`
}

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) error {
	p := s.n.Params()
	tip := s.n.Chain.Tip()
	st := s.n.Miner.Stats()
	prog := s.n.SyncProgress()
	return writeJSON(w, http.StatusOK, statusJSON{
		Network:     p.Name,
		Genesis:     p.GenesisHash(),
		Height:      tip.Height,
		Tip:         tip.Hash,
		TipTime:     tip.Header.Timestamp,
		Bits:        fmt.Sprintf("%08x", tip.Header.Bits),
		Difficulty:  consensus.Difficulty(tip.Header.Bits, p.PowLimit),
		TotalWork:   tip.Work.String(),
		Peers:       s.n.PeerCount(),
		MempoolSize: s.n.Pool.Len(),
		Syncing:     prog.Syncing,
		Sync:        prog,
		Mining:      st.Running,
		HashRate:    st.HashRate,
	})
}

// blocksPage is the answer of GET /api/v1/blocks.
type blocksPage struct {
	Blocks []chain.BlockSummaryJSON `json:"blocks"`
	Order  string                   `json:"order"`
	Tip    uint32                   `json:"tip"`
	Next   *uint32                  `json:"next,omitempty"` // from of the following page
}

// query parses r's query string and refuses parameters other than allowed
// and repeated ones.
func query(r *http.Request, allowed ...string) (map[string]string, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest("malformed query string: %v", err)
	}
	out := make(map[string]string, len(vals))
	for k, v := range vals {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			if len(allowed) == 0 {
				return nil, badRequest("unknown query parameter %q: this route takes none", k)
			}
			return nil, badRequest("unknown query parameter %q (known: %v)", k, allowed)
		}
		if len(v) > 1 {
			return nil, badRequest("query parameter %q given %d times", k, len(v))
		}
		out[k] = v[0]
	}
	return out, nil
}

// parseUint parses a decimal query or path value in [lo, hi].
func parseUint(name, s string, lo, hi uint64) (uint64, error) {
	if s == "" {
		return 0, badRequest("%s: empty", name)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, badRequest("%s: %q is not a whole number", name, s)
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, badRequest("%s: %s is out of range %d..%d", name, s, lo, hi)
	}
	return v, nil
}

func (s *Server) getBlocks(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "from", "limit", "order")
	if err != nil {
		return err
	}
	limit := uint64(DefaultBlocksPage)
	if v, ok := q["limit"]; ok {
		if limit, err = parseUint("limit", v, 1, MaxBlocksPage); err != nil {
			return err
		}
	}
	tip := s.n.Chain.Height()
	fromStr, hasFrom := q["from"]
	order, hasOrder := q["order"]
	switch {
	case !hasOrder && hasFrom:
		order = "asc"
	case !hasOrder:
		order = "desc"
	case order != "asc" && order != "desc":
		return badRequest("order: %q is neither asc nor desc", order)
	}
	var from uint64
	switch {
	case hasFrom:
		if from, err = parseUint("from", fromStr, 0, math.MaxUint32); err != nil {
			return err
		}
		if from > uint64(tip) {
			return badRequest("from: %d is above the tip height %d", from, tip)
		}
	case order == "desc":
		from = uint64(tip)
	}
	page := blocksPage{Blocks: make([]chain.BlockSummaryJSON, 0, limit), Order: order, Tip: tip}
	h := int64(from)
	step := int64(1)
	if order == "desc" {
		step = -1
	}
	for ; uint64(len(page.Blocks)) < limit && h >= 0 && h <= int64(tip); h += step {
		b, err := s.n.Chain.BlockAt(uint32(h))
		if blockchain.IsNotFound(err) {
			break // the chain got shorter under a reorg: end the page here
		}
		if err != nil {
			return fmt.Errorf("block at height %d: %w", h, err)
		}
		page.Blocks = append(page.Blocks, chain.BlockSummary(s.hrp, b))
	}
	if h >= 0 && h <= int64(tip) {
		next := uint32(h)
		page.Next = &next
	}
	return writeJSON(w, http.StatusOK, page)
}

// parseHash parses a 64-hex-digit hash from a path value.
func parseHash(what, s string) (chain.Hash, error) {
	h, err := chain.ParseHash(s)
	if err != nil {
		return h, badRequest("%s %q: %v", what, s, err)
	}
	return h, nil
}

// blockDetail is the answer of GET /api/v1/blocks/{id}.
type blockDetail struct {
	chain.BlockJSON
	Size          int    `json:"size"`
	Confirmations uint32 `json:"confirmations"` // 0 off the main chain
	MainChain     bool   `json:"main_chain"`
	Invalid       bool   `json:"invalid,omitempty"`
	// Status is "main", "side" or "invalid"; DataHash the header's hash
	// of the data note.
	Status   string     `json:"status"`
	DataHash chain.Hash `json:"data_hash"`
}

func (s *Server) getBlock(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var hash chain.Hash
	switch {
	case len(id) == 2*chain.HashSize:
		h, err := parseHash("block hash", id)
		if err != nil {
			return err
		}
		hash = h
	case len(id) > 0 && len(id) <= maxHeightDigits && id[0] >= '0' && id[0] <= '9':
		height, err := parseUint("block height", id, 0, math.MaxUint32)
		if err != nil {
			return err
		}
		h, err := s.n.Chain.HashAt(uint32(height))
		if blockchain.IsNotFound(err) {
			return notFound("no block at height %d: the tip is at %d", height, s.n.Chain.Height())
		}
		if err != nil {
			return fmt.Errorf("block at height %d: %w", height, err)
		}
		hash = h
	default:
		return badRequest("block id %q: want a height (decimal, at most %d digits) or a hash (%d hex digits)", id, maxHeightDigits, 2*chain.HashSize)
	}
	b, err := s.n.Chain.Block(hash)
	if blockchain.IsNotFound(err) {
		return notFound("no block with hash %s", hash)
	}
	if err != nil {
		return fmt.Errorf("block %s: %w", hash, err)
	}
	info, ok := s.n.Chain.BlockInfo(hash)
	if !ok {
		return notFound("no block with hash %s", hash)
	}
	d := blockDetail{BlockJSON: chain.BlockView(s.hrp, b), Size: b.Size(), MainChain: info.MainChain, Invalid: info.Invalid,
		Status: blockStatus(info.MainChain, info.Invalid), DataHash: b.Header.DataHash}
	if tip := s.n.Chain.Height(); info.MainChain && tip >= b.Header.Height {
		d.Confirmations = tip - b.Header.Height + 1
	}
	return writeJSON(w, http.StatusOK, d)
}

// txDetail is the answer of GET /api/v1/txs/{id}.
type txDetail struct {
	Tx            chain.TxJSON `json:"tx"`
	Status        string       `json:"status"` // "confirmed" or "pending"
	Block         *chain.Hash  `json:"block,omitempty"`
	Height        *uint32      `json:"height,omitempty"`
	Index         *int         `json:"index,omitempty"`
	Confirmations uint32       `json:"confirmations"`
}

func (s *Server) getTx(w http.ResponseWriter, r *http.Request) error {
	id, err := parseHash("transaction id", r.PathValue("id"))
	if err != nil {
		return err
	}
	// Chain, pool, chain again: a transaction mined between the first two
	// looks is still found.
	for try := 0; try < 2; try++ {
		d, found, err := s.confirmedTx(id)
		if err != nil {
			return err
		}
		if found {
			return writeJSON(w, http.StatusOK, d)
		}
		if try == 0 {
			if tx, ok := s.n.Pool.Get(id); ok {
				return writeJSON(w, http.StatusOK, txDetail{Tx: chain.TxView(s.hrp, tx), Status: "pending"})
			}
		}
	}
	return notFound("no transaction %s in the main chain or the mempool", id)
}

func (s *Server) confirmedTx(id chain.Hash) (txDetail, bool, error) {
	loc, conf, err := s.n.Chain.TxLocation(id)
	if blockchain.IsNotFound(err) {
		return txDetail{}, false, nil
	}
	if err != nil {
		return txDetail{}, false, fmt.Errorf("transaction %s: %w", id, err)
	}
	b, err := s.n.Chain.Block(loc.Block)
	if blockchain.IsNotFound(err) {
		return txDetail{}, false, nil // disconnected meanwhile
	}
	if err != nil {
		return txDetail{}, false, fmt.Errorf("transaction %s: block %s: %w", id, loc.Block, err)
	}
	if loc.Index < 0 || loc.Index >= len(b.Txs) {
		return txDetail{}, false, fmt.Errorf("transaction %s: index %d outside block %s of %d transactions", id, loc.Index, loc.Block, len(b.Txs))
	}
	return txDetail{
		Tx: chain.TxView(s.hrp, b.Txs[loc.Index]), Status: "confirmed",
		Block: &loc.Block, Height: &loc.Height, Index: &loc.Index, Confirmations: conf,
	}, true, nil
}

// accountJSON is the answer of GET /api/v1/accounts/{address}.
type accountJSON struct {
	Address      string `json:"address"`
	Balance      uint64 `json:"balance"`
	Nonce        uint64 `json:"nonce"`
	PendingCount int    `json:"pending_count"`
	PendingSpend uint64 `json:"pending_spend"` // amounts plus fees of pooled sends
	Spendable    uint64 `json:"spendable"`     // balance less pending spend
	NextNonce    uint64 `json:"next_nonce"`    // the nonce a new transaction should carry
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) error {
	addr, err := s.parseAddress("address", r.PathValue("address"))
	if err != nil {
		return err
	}
	acct := s.n.Chain.Account(addr)
	count, spend, next := s.n.Pool.Pending(addr)
	v := accountJSON{
		Address: chain.FormatAddress(s.hrp, addr), Balance: acct.Balance, Nonce: acct.Nonce,
		PendingCount: count, PendingSpend: spend, NextNonce: next,
	}
	if spend < acct.Balance {
		v.Spendable = acct.Balance - spend
	}
	return writeJSON(w, http.StatusOK, v)
}

// parseAddress parses a bech32m address of this network.
func (s *Server) parseAddress(field, str string) (chain.Address, error) {
	if str == "" {
		return chain.Address{}, badRequest("%s: missing", field)
	}
	a, err := chain.ParseAddress(s.hrp, str)
	if err != nil {
		if field == "address" {
			return a, badRequest("%v", err) // the message starts with "address"
		}
		return a, badRequest("%s: %v", field, err)
	}
	return a, nil
}

// mempoolJSON is the answer of GET /api/v1/mempool.
type mempoolJSON struct {
	Size      int            `json:"size"`
	Txs       []chain.TxJSON `json:"txs"` // highest fee first
	Truncated bool           `json:"truncated"`
}

func (s *Server) getMempool(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "limit")
	if err != nil {
		return err
	}
	limit := uint64(DefaultMempoolList)
	if v, ok := q["limit"]; ok {
		if limit, err = parseUint("limit", v, 1, MaxMempoolList); err != nil {
			return err
		}
	}
	txs := s.n.Pool.Txs()
	v := mempoolJSON{Size: len(txs), Txs: make([]chain.TxJSON, 0, min(uint64(len(txs)), limit))}
	for _, tx := range txs {
		if uint64(len(v.Txs)) == limit {
			v.Truncated = true
			break
		}
		v.Txs = append(v.Txs, chain.TxView(s.hrp, tx))
	}
	return writeJSON(w, http.StatusOK, v)
}

// nodeJSON is the answer of GET /api/v1/node.
type nodeJSON struct {
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
}

func (s *Server) getNode(w http.ResponseWriter, r *http.Request) error {
	p := s.n.Params()
	v := nodeJSON{
		Network: p.Name, Genesis: p.GenesisHash(), Version: s.version,
		PeerID: s.n.PeerID(), ListenAddresses: s.n.ListenAddrs(), WalletAddresses: []string{},
	}
	if v.ListenAddresses == nil {
		v.ListenAddresses = []string{}
	}
	if a := s.n.Miner.Address(); a != (chain.Address{}) {
		v.MinerAddress = chain.FormatAddress(s.hrp, a)
	}
	for _, a := range s.n.Addresses() {
		v.WalletAddresses = append(v.WalletAddresses, chain.FormatAddress(s.hrp, a))
	}
	return writeJSON(w, http.StatusOK, v)
}
