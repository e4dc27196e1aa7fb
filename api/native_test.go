package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/chaind/chaind/apitypes"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
)

// TestSubmitTxBatch posts batches of signed transactions: all valid ones
// are admitted, and a bad signature refuses that one transaction only.
func TestSubmitTxBatch(t *testing.T) {
	keys := chaintest.Keys(8)
	p := chaintest.Params(keys, 100*consensus.Coin)
	e := newEnv(t, p, Config{})
	to := chaintest.Key(100).Address()

	var batch []apitypes.Tx
	for nonce := uint64(0); nonce < 5; nonce++ {
		for _, k := range keys {
			batch = append(batch, apitypes.TxOf(p.AddressPrefix, chaintest.Tx(p, k, to, consensus.Coin, 1000, nonce)))
		}
	}
	var res apitypes.Batch
	e.call("POST", "/api/v1/txs", batch, http.StatusOK, &res)
	if res.Accepted != len(batch) || res.Rejected != 0 || len(res.Results) != len(batch) {
		t.Fatalf("batch: %d accepted, %d rejected of %d", res.Accepted, res.Rejected, len(batch))
	}
	for i, r := range res.Results {
		if !r.Accepted || r.ID != batch[i].ID.String() {
			t.Fatalf("result %d: %+v, want accepted %s", i, r, batch[i].ID)
		}
	}
	if n := e.n.Pool.Len(); n != len(batch) {
		t.Fatalf("mempool holds %d, want %d", n, len(batch))
	}

	// One bad signature among good ones, plus a transaction sent before
	// and one whose recipient is on another network.
	second := []apitypes.Tx{}
	for i, k := range keys[:5] {
		tx := chaintest.Tx(p, k, to, consensus.Coin, 1000, 5)
		if i == 2 {
			tx.Amount++ // after signing: the signature no longer matches
		}
		second = append(second, apitypes.TxOf(p.AddressPrefix, tx))
	}
	second = append(second, batch[0])
	wrongNet := apitypes.TxOf(p.AddressPrefix, chaintest.Tx(p, keys[6], to, consensus.Coin, 1000, 5))
	wrongNet.Recipient = chain.FormatAddress("dev", to)
	wrongNet.ID = chain.Hash{}
	second = append(second, wrongNet)
	e.call("POST", "/api/v1/txs", second, http.StatusOK, &res)
	if res.Accepted != 4 || res.Rejected != 3 {
		t.Fatalf("second batch: %d accepted, %d rejected; %+v", res.Accepted, res.Rejected, res.Results)
	}
	for i, r := range res.Results {
		var wantCode string
		switch i {
		case 2:
			wantCode = "bad-signature"
		case 5:
			wantCode = "duplicate"
		case 6:
			wantCode = "malformed"
		}
		if wantCode == "" {
			if !r.Accepted {
				t.Fatalf("result %d refused: %+v", i, r)
			}
			continue
		}
		if r.Accepted || r.Code != wantCode || r.Error == "" {
			t.Fatalf("result %d: %+v, want refused with code %s", i, r, wantCode)
		}
	}
	if !strings.Contains(res.Results[6].Error, "transaction 6: recipient") {
		t.Fatalf("wrong-network recipient error %q does not name the transaction and field", res.Results[6].Error)
	}
	if n := e.n.Pool.Len(); n != len(batch)+4 {
		t.Fatalf("mempool holds %d, want %d", n, len(batch)+4)
	}

	// A single object, and the same one again.
	one := apitypes.TxOf(p.AddressPrefix, chaintest.Tx(p, keys[7], to, consensus.Coin, 1000, 5))
	var single apitypes.TxResult
	e.call("POST", "/api/v1/txs", one, http.StatusOK, &single)
	if !single.Accepted || single.ID != one.ID.String() {
		t.Fatalf("single: %+v", single)
	}
	var eb apitypes.Error
	e.call("POST", "/api/v1/txs", one, http.StatusConflict, &eb)
	if eb.Code != "duplicate" || eb.ID != one.ID.String() {
		t.Fatalf("resubmitted: %+v", eb)
	}

	// The pool's view through the API.
	var mp apitypes.Mempool
	e.call("GET", "/api/v1/mempool?limit=3", nil, http.StatusOK, &mp)
	if mp.Size != len(batch)+5 || len(mp.Txs) != 3 || !mp.Truncated {
		t.Fatalf("mempool: size %d, %d listed, truncated %v", mp.Size, len(mp.Txs), mp.Truncated)
	}
	var acct apitypes.Account
	e.call("GET", "/api/v1/accounts/"+e.addr(keys[0].Address()), nil, http.StatusOK, &acct)
	if acct.PendingCount != 6 || acct.NextNonce != 6 || uint64(acct.PendingSpend) != 6*(consensus.Coin+1000) ||
		uint64(acct.Spendable) != 100*consensus.Coin-uint64(acct.PendingSpend) {
		t.Fatalf("account: %+v", acct)
	}
}

// TestEvents subscribes to the event stream, mines a block and receives
// its event; the stream ends when the server shuts down.
func TestEvents(t *testing.T) {
	e := newEnv(t, consensus.Regtest(), Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.base+"/api/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(resp.Body)
	if line, err := rd.ReadString('\n'); err != nil || line != ": subscribed\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	mined := e.mine()

	var event, data string
	for event != "block" {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("read event: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
	if line, _ := rd.ReadString('\n'); strings.HasPrefix(line, "data: ") {
		data = strings.TrimSpace(strings.TrimPrefix(line, "data: "))
	}
	var got apitypes.BlockSummary
	if err := json.Unmarshal([]byte(data), &got); err != nil {
		t.Fatalf("event data %q: %v", data, err)
	}
	if got.Index != 1 || got.Hash != mined.Hash() {
		t.Fatalf("block event %+v, mined %d %s", got, mined.Header.Height, mined.Hash())
	}

	// Shutdown ends the stream rather than waiting for it.
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	start := time.Now()
	if err := e.s.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown with an open stream: %v", err)
	}
	if _, err := rd.ReadString(0); err == nil {
		t.Fatal("stream still open after shutdown")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("shutdown took %s", d)
	}
}

// TestToken checks that protected routes need the token when
// RequireToken is set, and that the others stay open.
func TestToken(t *testing.T) {
	const token, cookie = "correct horse battery staple", "the cookie of this start"
	e := newEnv(t, consensus.Regtest(), Config{RequireToken: true, Token: token, Cookie: cookie})
	for _, c := range []struct {
		method, path, body string
	}{
		{"GET", "/mine", ""},
		{"POST", "/mineBlock", `{"data": "x"}`},
		{"POST", "/transactions/new", `{}`},
		{"POST", "/addPeer", `{"peer": "ws://127.0.0.1:1"}`},
		{"POST", "/nodes/register", `{"nodes": []}`},
		{"GET", "/nodes/resolve", ""},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		for _, auth := range []string{"", "Bearer wrong", "Basic " + token, "Bearer " + token + "x"} {
			status, hdr, raw := e.request(c.method, c.path, body, "Authorization", auth)
			if status != http.StatusUnauthorized || !strings.Contains(string(raw), "needs the API token") || hdr.Get("WWW-Authenticate") == "" {
				t.Fatalf("%s %s with %q: %d %s", c.method, c.path, auth, status, raw)
			}
		}
	}
	if e.n.Chain.Height() != 0 {
		t.Fatal("a refused request mined")
	}
	var m apitypes.MineAnswer
	e.call("GET", "/mine", nil, http.StatusOK, &m, "Authorization", "Bearer "+token)
	e.call("GET", "/mine", nil, http.StatusOK, &m, "Authorization", "bearer "+token)
	e.call("GET", "/mine", nil, http.StatusOK, &m, "Authorization", "Bearer "+cookie)
	if m.Index != 3 {
		t.Fatalf("mined %d", m.Index)
	}
	// Open routes: reading, and submitting already-signed transactions.
	e.call("GET", "/api/v1/status", nil, http.StatusOK, nil)
	e.call("GET", "/blocks", nil, http.StatusOK, nil)
	e.call("POST", "/api/v1/txs", `[]`, http.StatusBadRequest, nil)
	// A browser on another site cannot mine even with the token.
	e.call("GET", "/mine", nil, http.StatusForbidden, nil, "Authorization", "Bearer "+token, "Sec-Fetch-Site", "cross-site")
	e.call("POST", "/mineBlock", `{"data": "x"}`, http.StatusForbidden, nil, "Authorization", "Bearer "+token, "Sec-Fetch-Site", "cross-site")
}

// TestMetricsAndHealthz reads /healthz and /metrics: the node's series
// and the API latency by route pattern, never by raw path.
func TestMetricsAndHealthz(t *testing.T) {
	e := newEnv(t, consensus.Regtest(), Config{})
	var h apitypes.Health
	e.call("GET", "/healthz", nil, http.StatusOK, &h)
	if h.Status != "ok" {
		t.Fatalf("healthz %+v", h)
	}
	e.call("GET", "/api/v1/blocks/0", nil, http.StatusOK, nil)
	e.call("GET", "/api/v1/blocks/12345", nil, http.StatusNotFound, nil)
	e.call("GET", "/no/such/path", nil, http.StatusNotFound, nil)
	status, hdr, raw := e.request("GET", "/metrics", nil)
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %q", status, hdr.Get("Content-Type"))
	}
	text := string(raw)
	for _, want := range []string{
		"\nchaind_height 0\n",
		`chaind_api_request_duration_seconds_bucket{code="200",route="GET /healthz",le=`,
		`chaind_api_request_duration_seconds_count{code="200",route="GET /api/v1/blocks/{id}"} 1`,
		`chaind_api_request_duration_seconds_count{code="404",route="GET /api/v1/blocks/{id}"} 1`,
		`chaind_api_request_duration_seconds_count{code="404",route="unmatched"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "/no/such/path") || strings.Contains(line, "12345") && strings.HasPrefix(line, "chaind_api") {
			t.Errorf("raw path in a label: %s", line)
		}
	}
}

// TestBlocksAndStatus pages through blocks in both orders and reads
// blocks by height and hash, the status and the node.
func TestBlocksAndStatus(t *testing.T) {
	e := newEnv(t, consensus.Regtest(), Config{})
	var mined []*chain.Block
	for i := 0; i < 5; i++ {
		mined = append(mined, e.mine())
	}
	heights := func(pg apitypes.BlocksPage) string {
		var s []string
		for _, b := range pg.Blocks {
			s = append(s, fmt.Sprint(b.Index))
		}
		next := "-"
		if pg.Next != nil {
			next = fmt.Sprint(*pg.Next)
		}
		return strings.Join(s, ",") + " next " + next
	}
	for _, c := range []struct{ query, want string }{
		{"", "5,4,3,2,1,0 next -"},
		{"?limit=2", "5,4 next 3"},
		{"?limit=2&from=3&order=desc", "3,2 next 1"},
		{"?from=1&limit=2", "1,2 next 3"},
		{"?from=4", "4,5 next -"},
		{"?order=asc&limit=3", "0,1,2 next 3"},
	} {
		var pg apitypes.BlocksPage
		e.call("GET", "/api/v1/blocks"+c.query, nil, http.StatusOK, &pg)
		if got := heights(pg); got != c.want {
			t.Errorf("blocks%s: %s, want %s", c.query, got, c.want)
		}
		if pg.Tip != 5 {
			t.Errorf("blocks%s: tip %d", c.query, pg.Tip)
		}
	}
	var byHeight, byHash apitypes.BlockDetail
	e.call("GET", "/api/v1/blocks/3", nil, http.StatusOK, &byHeight)
	e.call("GET", "/api/v1/blocks/"+mined[2].Hash().String(), nil, http.StatusOK, &byHash)
	if byHeight.Hash != mined[2].Hash() || byHash.Hash != byHeight.Hash || !byHash.MainChain || byHash.Confirmations != 3 ||
		len(byHash.Transactions) != 1 || byHash.Size != mined[2].Size() {
		t.Fatalf("block 3: by height %+v, by hash %+v", byHeight, byHash)
	}
	var st apitypes.Status
	e.call("GET", "/api/v1/status", nil, http.StatusOK, &st)
	if st.Network != "regtest" || st.Height != 5 || st.Tip != mined[4].Hash() || st.Genesis != consensus.Regtest().GenesisHash() ||
		st.TotalWork == "" || st.TotalWork == "0" || st.Difficulty != 1 || st.Syncing {
		t.Fatalf("status %+v", st)
	}
	var nd apitypes.NodeInfo
	e.call("GET", "/api/v1/node", nil, http.StatusOK, &nd)
	if nd.Network != "regtest" || len(nd.WalletAddresses) != 1 || nd.WalletAddresses[0] != e.devAddress() ||
		nd.MinerAddress != e.devAddress() || nd.PeerID != "" || nd.ListenAddresses == nil || nd.Version == "" {
		t.Fatalf("node %+v", nd)
	}
	// This node runs without peer-to-peer networking: no peers, and the
	// routes that need the network say so.
	var hostPorts []string
	e.call("GET", "/peers", nil, http.StatusOK, &hostPorts)
	if len(hostPorts) != 0 {
		t.Fatalf("/peers: %v", hostPorts)
	}
	var eb apitypes.Error
	e.call("GET", "/nodes/resolve", nil, http.StatusServiceUnavailable, &eb)
	if !strings.Contains(eb.Error, "networking is off") {
		t.Fatalf("/nodes/resolve: %+v", eb)
	}
	e.call("POST", "/addPeer", map[string]string{"peer": "http://127.0.0.1:1"}, http.StatusServiceUnavailable, &eb)
	if !strings.Contains(eb.Error, "networking is off") {
		t.Fatalf("/addPeer: %+v", eb)
	}
}

// TestRecover answers a panicking handler with a JSON 500 and keeps
// serving.
func TestRecover(t *testing.T) {
	e := newEnv(t, consensus.Regtest(), Config{})
	e.s.handle("GET /test/panic", func(w http.ResponseWriter, r *http.Request) error {
		var m map[string]int
		m["boom"]++ // nil map: a real bug
		return nil
	})
	e.client.Transport.(*specCheck).testOnly("/test/panic")
	var eb apitypes.Error
	e.call("GET", "/test/panic", nil, http.StatusInternalServerError, &eb)
	if !strings.Contains(eb.Error, "internal error") {
		t.Fatalf("panic answer %+v", eb)
	}
	e.call("GET", "/healthz", nil, http.StatusOK, nil)
}

// TestTxInMatchesTxJSON keeps the accepted transaction fields the same as
// apitypes.Tx's.
func TestTxInMatchesTxJSON(t *testing.T) {
	tags := func(v any) []string {
		var out []string
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			out = append(out, strings.Split(rt.Field(i).Tag.Get("json"), ",")[0])
		}
		sort.Strings(out)
		return out
	}
	if a, b := tags(txIn{}), tags(apitypes.Tx{}); !reflect.DeepEqual(a, b) {
		t.Fatalf("txIn fields %v, apitypes.Tx fields %v", a, b)
	}
}
