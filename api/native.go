package api

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
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

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) error {
	p := s.n.Params()
	tip := s.n.Chain.Tip()
	st := s.n.Miner.Stats()
	prog := s.n.SyncProgress()
	return writeJSON(w, http.StatusOK, apitypes.Status{
		Network:     p.Name,
		Genesis:     p.GenesisHash(),
		Height:      tip.Height,
		Tip:         tip.Hash,
		TipTime:     tip.Header.Timestamp,
		Bits:        apitypes.Bits(tip.Header.Bits),
		Difficulty:  consensus.Difficulty(tip.Header.Bits, p.PowLimit),
		TotalWork:   tip.Work.String(),
		Peers:       s.n.PeerCount(),
		MempoolSize: s.n.Pool.Len(),
		Syncing:     prog.Syncing,
		Sync: apitypes.SyncProgress{
			Syncing: prog.Syncing, Height: prog.Height, TargetHeight: prog.TargetHeight,
			BlocksPerSec: prog.BlocksPerSec, ETA: prog.ETA,
		},
		Mining:   st.Running,
		HashRate: st.HashRate,
	})
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
	page := apitypes.BlocksPage{Blocks: make([]apitypes.BlockSummary, 0, limit), Order: order, Tip: tip}
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
		page.Blocks = append(page.Blocks, apitypes.SummaryOf(s.hrp, b))
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
	d := apitypes.BlockDetail{Block: apitypes.BlockOf(s.hrp, b), Size: b.Size(), MainChain: info.MainChain, Invalid: info.Invalid,
		Status: blockStatus(info.MainChain, info.Invalid), DataHash: b.Header.DataHash}
	if tip := s.n.Chain.Height(); info.MainChain && tip >= b.Header.Height {
		d.Confirmations = tip - b.Header.Height + 1
	}
	return writeJSON(w, http.StatusOK, d)
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
				return writeJSON(w, http.StatusOK, apitypes.TxDetail{Tx: apitypes.TxOf(s.hrp, tx), Status: apitypes.TxPending})
			}
		}
	}
	return notFound("no transaction %s in the main chain or the mempool", id)
}

func (s *Server) confirmedTx(id chain.Hash) (apitypes.TxDetail, bool, error) {
	loc, conf, err := s.n.Chain.TxLocation(id)
	if blockchain.IsNotFound(err) {
		return apitypes.TxDetail{}, false, nil
	}
	if err != nil {
		return apitypes.TxDetail{}, false, fmt.Errorf("transaction %s: %w", id, err)
	}
	b, err := s.n.Chain.Block(loc.Block)
	if blockchain.IsNotFound(err) {
		return apitypes.TxDetail{}, false, nil // disconnected meanwhile
	}
	if err != nil {
		return apitypes.TxDetail{}, false, fmt.Errorf("transaction %s: block %s: %w", id, loc.Block, err)
	}
	if loc.Index < 0 || loc.Index >= len(b.Txs) {
		return apitypes.TxDetail{}, false, fmt.Errorf("transaction %s: index %d outside block %s of %d transactions", id, loc.Index, loc.Block, len(b.Txs))
	}
	return apitypes.TxDetail{
		Tx: apitypes.TxOf(s.hrp, b.Txs[loc.Index]), Status: apitypes.TxConfirmed,
		Block: &loc.Block, Height: &loc.Height, Index: &loc.Index, Confirmations: conf,
	}, true, nil
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) error {
	addr, err := s.parseAddress("address", r.PathValue("address"))
	if err != nil {
		return err
	}
	acct := s.n.Chain.Account(addr)
	count, spend, next := s.n.Pool.Pending(addr)
	v := apitypes.Account{
		Address: chain.FormatAddress(s.hrp, addr), Balance: apitypes.Uint64(acct.Balance), Nonce: apitypes.Uint64(acct.Nonce),
		PendingCount: count, PendingSpend: apitypes.Uint64(spend), NextNonce: apitypes.Uint64(next),
	}
	if spend < acct.Balance {
		v.Spendable = apitypes.Uint64(acct.Balance - spend)
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
	v := apitypes.Mempool{Size: len(txs), Txs: make([]apitypes.Tx, 0, min(uint64(len(txs)), limit))}
	for _, tx := range txs {
		if uint64(len(v.Txs)) == limit {
			v.Truncated = true
			break
		}
		v.Txs = append(v.Txs, apitypes.TxOf(s.hrp, tx))
	}
	return writeJSON(w, http.StatusOK, v)
}

func (s *Server) getNode(w http.ResponseWriter, r *http.Request) error {
	p := s.n.Params()
	v := apitypes.NodeInfo{
		Network: p.Name, Genesis: p.GenesisHash(), Version: s.version,
		PeerID: s.n.PeerID(), ListenAddresses: s.n.ListenAddrs(), WalletAddresses: []string{},
	}
	if v.ListenAddresses == nil {
		v.ListenAddresses = []string{}
	}
	if a, ok := s.n.FaucetAddress(); ok {
		v.Faucet = chain.FormatAddress(s.hrp, a)
	}
	if a := s.n.Miner.Address(); a != (chain.Address{}) {
		v.MinerAddress = chain.FormatAddress(s.hrp, a)
	}
	for _, a := range s.n.Addresses() {
		v.WalletAddresses = append(v.WalletAddresses, chain.FormatAddress(s.hrp, a))
	}
	return writeJSON(w, http.StatusOK, v)
}
