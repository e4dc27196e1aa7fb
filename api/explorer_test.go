package api

import (
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/node"
)

// sideBlock builds a valid block on parent that competes with the node's
// own child of parent.
func sideBlock(p *consensus.Params, parent *chain.Header, miner chain.Address, memo string) *chain.Block {
	return chaintest.Block(chaintest.Spec{Parent: parent, Miner: miner, Reward: p.Reward(parent.Height + 1),
		Memo: memo, Time: max(parent.Timestamp+1, uint32(time.Now().Unix()))})
}

// TestTreeAndChainTips makes a side branch next to the node's chain and
// reads it back through GET /api/v1/tree and GET /api/v1/chaintips.
func TestTreeAndChainTips(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 100*consensus.Coin)
	e := newEnv(t, p, Config{})
	b1 := e.mine()
	b2 := e.mine()
	side := sideBlock(p, &b1.Header, keys[1].Address(), "side")
	if _, err := e.n.Chain.ProcessBlock(side, blockchain.Requested); err != nil {
		t.Fatalf("process side block: %v", err)
	}

	var tree apitypes.Tree
	e.call("GET", "/api/v1/tree?heights=5", nil, 200, &tree)
	if tree.From != 0 || tree.To != 2 || tree.TipHeight != 2 || tree.Tip != b2.Hash() || tree.TargetSpacing != p.TargetSpacing || tree.Truncated {
		t.Fatalf("tree window %+v", tree)
	}
	if len(tree.Blocks) != 4 {
		t.Fatalf("tree has %d blocks, want 4: %+v", len(tree.Blocks), tree.Blocks)
	}
	got := map[chain.Hash]apitypes.TreeBlock{}
	for _, b := range tree.Blocks {
		got[b.Hash] = b
	}
	for _, c := range []struct {
		b      *chain.Block
		status string
	}{{b1, "main"}, {b2, "main"}, {side, "side"}} {
		v, ok := got[c.b.Hash()]
		if !ok || v.Status != c.status || v.Parent != c.b.Header.PrevHash || v.Height != c.b.Header.Height || v.MainChain != (c.status == "main") {
			t.Fatalf("block %d %s in the tree: %+v (found %v), want status %s", c.b.Header.Height, c.b.Hash(), v, ok, c.status)
		}
		if v.Difficulty <= 0 || v.Work <= 0 {
			t.Fatalf("block %d: difficulty %v, work %v", v.Height, v.Difficulty, v.Work)
		}
	}
	e.call("GET", "/api/v1/tree?heights=1&to=2", nil, 200, &tree)
	if tree.From != 2 || tree.To != 2 || len(tree.Blocks) != 2 {
		t.Fatalf("window at height 2: %+v", tree)
	}

	var tips apitypes.ChainTips
	e.call("GET", "/api/v1/chaintips", nil, 200, &tips)
	want := []apitypes.ChainTip{
		{Hash: b2.Hash(), Height: 2, BranchLen: 0, ForkHeight: 2, Status: "active"},
		{Hash: side.Hash(), Height: 2, BranchLen: 1, ForkHeight: 1, Status: "valid-headers"},
	}
	if len(tips.Tips) != len(want) || tips.Truncated {
		t.Fatalf("tips %+v, want %+v", tips, want)
	}
	for i := range want {
		if tips.Tips[i] != want[i] {
			t.Fatalf("tip %d: %+v, want %+v", i, tips.Tips[i], want[i])
		}
	}
	e.call("GET", "/api/v1/chaintips?limit=1", nil, 200, &tips)
	if len(tips.Tips) != 1 || !tips.Truncated {
		t.Fatalf("limit 1: %+v", tips)
	}
}

// TestChainTipsAfterRestart: a branch that was the main chain until a
// reorg is "valid-fork" and a block never connected "valid-headers", and
// both stay so when the node restarts on its Pebble store (the store
// keeps which blocks were connected).
func TestChainTipsAfterRestart(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 100*consensus.Coin)
	nc := node.Config{Params: p, DataDir: t.TempDir(), Threads: 1}
	var before apitypes.ChainTips
	var stale, never *chain.Block
	t.Run("before", func(t *testing.T) {
		e := startEnv(t, nc, Config{})
		b1 := e.mine()
		stale = e.mine()
		s2 := sideBlock(p, &b1.Header, keys[1].Address(), "fork")
		s3 := sideBlock(p, &s2.Header, keys[1].Address(), "fork")
		never = sideBlock(p, &p.Genesis().Header, keys[1].Address(), "never")
		for _, b := range []*chain.Block{s2, s3, never} {
			if _, err := e.n.Chain.ProcessBlock(b, blockchain.Requested); err != nil {
				t.Fatalf("process block %d: %v", b.Header.Height, err)
			}
		}
		e.mine()
		e.call("GET", "/api/v1/chaintips", nil, 200, &before)
	})
	if t.Failed() {
		return
	}
	status := map[chain.Hash]string{}
	for _, tip := range before.Tips {
		status[tip.Hash] = tip.Status
	}
	if len(before.Tips) != 3 || before.Tips[0].Status != "active" || before.Tips[0].Height != 4 ||
		status[stale.Hash()] != "valid-fork" || status[never.Hash()] != "valid-headers" {
		t.Fatalf("tips before the restart: %+v", before.Tips)
	}
	t.Run("after", func(t *testing.T) {
		e := startEnv(t, nc, Config{})
		var after apitypes.ChainTips
		e.call("GET", "/api/v1/chaintips", nil, 200, &after)
		if len(after.Tips) != len(before.Tips) {
			t.Fatalf("tips after the restart: %+v, before: %+v", after.Tips, before.Tips)
		}
		for i := range before.Tips {
			if after.Tips[i] != before.Tips[i] {
				t.Fatalf("tip %d after the restart: %+v, before: %+v", i, after.Tips[i], before.Tips[i])
			}
		}
	})
}

// TestExplorerRoutesBadInput: every parameter of the explorer's routes is
// checked, with a 4xx JSON error that names it.
func TestExplorerRoutesBadInput(t *testing.T) {
	keys := chaintest.Keys(1)
	p := chaintest.Params(keys, 100*consensus.Coin)
	e := newEnv(t, p, Config{})
	for _, c := range []struct {
		path   string
		status int
		want   string
	}{
		{"/api/v1/tree?heights=0", 400, "heights: 0 is out of range"},
		{"/api/v1/tree?heights=-1", 400, "is not a whole number"},
		{"/api/v1/tree?heights=1001", 400, "out of range 1..1000"},
		{"/api/v1/tree?heights=99999999999999999999999", 400, "out of range"},
		{"/api/v1/tree?to=5", 400, "to: 5 is above the highest known block 0"},
		{"/api/v1/tree?to=abc", 400, "not a whole number"},
		{"/api/v1/tree?to=1&to=2", 400, "given 2 times"},
		{"/api/v1/tree?from=1", 400, `unknown query parameter \"from\"`},
		{"/api/v1/chaintips?limit=0", 400, "limit: 0 is out of range"},
		{"/api/v1/chaintips?limit=1000000", 400, "out of range 1..1000"},
		{"/api/v1/chaintips?limit=%zz", 400, "malformed query string"},
	} {
		status, hdr, body := e.request("GET", c.path, nil)
		if status != c.status || hdr.Get("Content-Type") != "application/json" || !strings.Contains(string(body), c.want) {
			t.Errorf("GET %s: %d %s %s, want %d with %q", c.path, status, hdr.Get("Content-Type"), body, c.status, c.want)
		}
	}
}

// TestAddressHistoryRoute pages through an address's history and follows
// it through a reorg; bad parameters get 4xx.
func TestAddressHistoryRoute(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 100*consensus.Coin)
	e := newEnv(t, p, Config{})
	dev := e.n.Addresses()[0]
	to := keys[1].Address()
	b1 := e.mine() // pays dev
	var sent []chain.Hash
	for i := 0; i < 3; i++ {
		tx, err := e.n.Send(dev, to, consensus.Coin, 10, "")
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		sent = append(sent, tx.ID())
	}
	b2 := e.mine()
	path := "/api/v1/addresses/" + e.addr(to) + "/txs"
	var h apitypes.History
	e.call("GET", path, nil, 200, &h)
	// keys[1] has its genesis allocation and the three receipts.
	if len(h.Txs) != 4 || h.Next != "" || h.Address != e.addr(to) {
		t.Fatalf("history %+v, want 4 entries", h)
	}
	for i, it := range h.Txs[:3] {
		if it.Height != 2 || it.Block != b2.Hash() || !it.Received || it.Sent || uint64(it.Amount) != consensus.Coin || it.Counterparty != e.addr(dev) || it.Timestamp != b2.Header.Timestamp {
			t.Fatalf("entry %d: %+v", i, it)
		}
	}
	for i, id := range sent { // newest first: the last sent has the highest index
		if h.Txs[2-i].ID != id {
			t.Fatalf("entry %d is %s, want transfer %d %s", 2-i, h.Txs[2-i].ID, i, id)
		}
	}
	if g := h.Txs[3]; g.Height != 0 || !g.Coinbase || g.Counterparty != "" {
		t.Fatalf("genesis allocation entry: %+v", g)
	}
	// Paged by 1, newest first, the same entries.
	var all []apitypes.HistoryItem
	next := ""
	for {
		q := "?limit=1"
		if next != "" {
			q += "&before=" + next
		}
		var page apitypes.History
		e.call("GET", path+q, nil, 200, &page)
		all = append(all, page.Txs...)
		if page.Next == "" {
			break
		}
		next = page.Next
	}
	if len(all) != 4 {
		t.Fatalf("paged history has %d entries, want 4", len(all))
	}
	for i := range all {
		if all[i] != h.Txs[i] {
			t.Fatalf("paged entry %d %+v, whole %+v", i, all[i], h.Txs[i])
		}
	}
	var devH apitypes.History
	e.call("GET", "/api/v1/addresses/"+e.addr(dev)+"/txs", nil, 200, &devH)
	// dev: reward of b1, three sends, reward of b2 (coinbase at index 0 of b2).
	if len(devH.Txs) != 5 || !devH.Txs[0].Sent || devH.Txs[0].Fee != 10 || devH.Txs[3].Height != 2 || !devH.Txs[3].Coinbase || devH.Txs[4].Height != 1 {
		t.Fatalf("sender's history: %+v", devH.Txs)
	}

	// A heavier branch from b1 without the transfers: they leave the history.
	s1 := sideBlock(p, &b1.Header, keys[0].Address(), "s1")
	s2 := sideBlock(p, &s1.Header, keys[0].Address(), "s2")
	for _, b := range []*chain.Block{s1, s2} {
		if _, err := e.n.Chain.ProcessBlock(b, blockchain.Requested); err != nil {
			t.Fatalf("process side block: %v", err)
		}
	}
	if e.n.Chain.Tip().Hash != s2.Hash() {
		t.Fatal("no reorg to the side branch")
	}
	e.call("GET", path, nil, 200, &h)
	if len(h.Txs) != 1 || h.Txs[0].Height != 0 {
		t.Fatalf("history after the reorg: %+v, want the genesis allocation only", h.Txs)
	}

	for _, c := range []struct{ path, want string }{
		{"/api/v1/addresses/nope/txs", "address"},
		{path + "?limit=0", "limit: 0 is out of range"},
		{path + "?limit=101", "out of range 1..100"},
		{path + "?limit=-5", "not a whole number"},
		{path + "?before=12", "not a cursor"},
		{path + "?before=-1-2", "before height"},
		{path + "?before=1-99999999", "before index"},
		{path + "?before=99999999999-0", "out of range"},
		{path + "?page=2", "unknown query parameter"},
	} {
		status, hdr, body := e.request("GET", c.path, nil)
		if status != 400 || hdr.Get("Content-Type") != "application/json" || !strings.Contains(string(body), c.want) {
			t.Errorf("GET %s: %d %s, want 400 with %q", c.path, status, body, c.want)
		}
	}
}

// TestExplorerServed: the API server serves the explorer at "/" and its
// files under /explorer/ with the CSP; a missing file is a JSON 404.
func TestExplorerServed(t *testing.T) {
	e := newEnv(t, chaintest.Params(chaintest.Keys(1), consensus.Coin), Config{})
	status, hdr, body := e.request("GET", "/", nil)
	if status != 200 || hdr.Get("Content-Type") != "text/html; charset=utf-8" || !strings.Contains(string(body), "/explorer/app.js") {
		t.Fatalf("GET /: %d %s", status, hdr.Get("Content-Type"))
	}
	if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("GET /: CSP %q", csp)
	}
	status, hdr, _ = e.request("GET", "/explorer/pages/block.js", nil)
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/javascript") {
		t.Fatalf("GET a page module: %d %s", status, hdr.Get("Content-Type"))
	}
	status, hdr, body = e.request("GET", "/explorer/missing.js", nil)
	if status != 404 || hdr.Get("Content-Type") != "application/json" || !strings.Contains(string(body), "no explorer file") {
		t.Fatalf("GET a missing file: %d %s %s", status, hdr.Get("Content-Type"), body)
	}
	if status, _, _ := e.request("POST", "/", "x"); status != 405 {
		t.Fatalf("POST /: %d, want 405", status)
	}
}
