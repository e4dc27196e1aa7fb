package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chaind/chaind/api"
	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/browsertest"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/node"
)

// liveWithin is how soon a page must show what happened on the node
// without a reload.
const liveWithin = 2 * time.Second

// env is one real node with its API (and so the explorer) on loopback.
type env struct {
	t    *testing.T
	n    *node.Node
	base string
	p    *consensus.Params
}

func newEnv(t *testing.T) *env {
	t.Helper()
	keys := chaintest.Keys(2)
	p := chaintest.Params(keys, 100*consensus.Coin)
	n, err := node.New(node.Config{Params: p, DataDir: t.TempDir(), Threads: 1})
	if err != nil {
		t.Fatalf("node.New: %v", err)
	}
	if err := n.Start(context.Background()); err != nil {
		n.Stop()
		t.Fatalf("node.Start: %v", err)
	}
	s := api.New(n, api.Config{Addr: "127.0.0.1:0"})
	if err := s.Start(context.Background()); err != nil {
		n.Stop()
		t.Fatalf("api Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("api Shutdown: %v", err)
		}
		if err := n.Stop(); err != nil {
			t.Errorf("node Stop: %v", err)
		}
	})
	return &env{t: t, n: n, base: "http://" + s.Addr(), p: p}
}

// get decodes the JSON answer of GET path into out.
func (e *env) get(path string, out any) {
	e.t.Helper()
	resp, err := http.Get(e.base + path)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
}

func (e *env) mine(data string) *chain.Block {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := e.n.Mine(ctx, data)
	if err != nil {
		e.t.Fatalf("mine: %v", err)
	}
	return b
}

func (e *env) addr(a chain.Address) string { return chain.FormatAddress(e.p.AddressPrefix, a) }

// browser is a tab of the shared headless Chromium with the explorer's
// own helpers.
type browser struct{ *browsertest.Tab }

func newBrowser(t *testing.T) *browser { return &browser{browsertest.Open(t)} }

// TestMain stops the shared Chromium after the tests.
func TestMain(m *testing.M) { browsertest.Main(m) }

// js is an action that evaluates expr for its effect.
func js(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool]("("+expr+", true)")(ctx, t)
		return err
	})
}

// open loads url and waits for page to be rendered.
func (b *browser) open(url, page string) {
	b.T.Helper()
	b.Run("open "+url, chromedp.Navigate(url))
	b.waitPage(page)
}

// goTo switches the explorer to hash and waits for page to be rendered.
func (b *browser) goTo(hash, page string) {
	b.T.Helper()
	b.Run("go to "+hash, js(fmt.Sprintf(`document.getElementById("view").dataset.page = "",
		location.hash === %[1]q ? window.dispatchEvent(new HashChangeEvent("hashchange")) : (location.hash = %[1]q)`, hash)))
	b.waitPage(page)
}

func (b *browser) waitPage(page string) {
	b.T.Helper()
	b.WaitJS(fmt.Sprintf(`(() => { const m = document.getElementById("view"); return m.dataset.page === %q && m.getAttribute("aria-busy") === "false"; })()`, page), 10*time.Second)
}

// evalAs evaluates expr in b's tab.
func evalAs[T any](b *browser, expr string) T { return browsertest.Eval[T](b.Tab, expr) }

// field returns the text of the element with data-field name in main.
func (b *browser) field(name string) string {
	b.T.Helper()
	return evalAs[string](b, fmt.Sprintf(`(() => { const el = document.querySelector('#view [data-field=%q]'); return el ? el.textContent : "<missing>"; })()`, name))
}

// wantField checks field name's text.
func (b *browser) wantField(name, want string) {
	b.T.Helper()
	if got := b.field(name); got != want {
		b.T.Errorf("page %s field %s = %q, want %q", b.page(), name, got, want)
	}
}

func (b *browser) page() string { return evalAs[string](b, `location.hash`) }

// count returns how many elements match sel.
func (b *browser) count(sel string) int {
	b.T.Helper()
	return evalAs[int](b, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

// noErrorShown checks the page shows no error box.
func (b *browser) noErrorShown() {
	b.T.Helper()
	if msg := evalAs[string](b, `(() => { const e = document.querySelector("#view .error"); return e ? e.textContent : ""; })()`); msg != "" {
		b.T.Errorf("page %s shows an error: %s", b.page(), msg)
	}
}

// num and coins format as the pages do (lib.js).
func num(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func coins(units uint64) string {
	s := num(units / consensus.Coin)
	if frac := units % consensus.Coin; frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%08d", frac), "0")
	}
	return s + " coin"
}

// blockView is the part of GET /api/v1/blocks/{id} the test compares.
type blockView struct {
	Index         uint32 `json:"index"`
	Hash          string `json:"hash"`
	PreviousHash  string `json:"previous_hash"`
	Timestamp     uint32 `json:"timestamp"`
	Data          string `json:"data"`
	Proof         uint64 `json:"proof"`
	Version       uint16 `json:"version"`
	MerkleRoot    string `json:"merkle_root"`
	Bits          string `json:"bits"`
	Size          int    `json:"size"`
	Confirmations uint32 `json:"confirmations"`
	Status        string `json:"status"`
	DataHash      string `json:"data_hash"`
	Transactions  []struct {
		ID string `json:"id"`
	} `json:"transactions"`
}

// hostile is a data note and memo that would run script if inserted as HTML.
const hostile = `<img src=x onerror="window.__xss=1"><b>bold?</b>`

// TestBrowserPages: every page shows what the API says of the same
// object, hostile notes and memos render as text, the blocks page follows
// a new block live, and no page logs a console error.
func TestBrowserPages(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	keys := chaintest.Keys(2)
	dev := e.n.Addresses()[0]
	e.mine(hostile)
	tx1, err := e.n.Send(dev, keys[1].Address(), 3*consensus.Coin+50, 7, hostile)
	if err != nil {
		t.Fatal(err)
	}
	e.mine("second")
	// A pending transaction, sent after the last block this test mines.
	var tx2 *chain.Tx
	sendPending := func() {
		tx2, err = e.n.Send(dev, keys[1].Address(), consensus.Coin, 20, "pending one")
		if err != nil {
			t.Fatal(err)
		}
	}

	// Overview.
	var st struct {
		Height      uint32  `json:"height"`
		Tip         string  `json:"tip"`
		Difficulty  float64 `json:"difficulty"`
		Peers       int     `json:"peers"`
		MempoolSize int     `json:"mempool_size"`
		Network     string  `json:"network"`
	}
	e.get("/api/v1/status", &st)
	b.open(e.base+"/", "overview")
	b.noErrorShown()
	b.wantField("height", num(uint64(st.Height)))
	b.wantField("peers", "0")
	b.wantField("mempool", "0 tx")
	b.wantField("sync", "in step with peers")
	b.wantField("network", st.Network)
	tipHref := evalAs[string](b, `document.querySelector('#view [data-field="tip"] a').getAttribute("href")`)
	if tipHref != "#/block/"+st.Tip {
		t.Errorf("overview tip links to %q, want the tip %s", tipHref, st.Tip)
	}
	if got := b.field("hashrate"); got == "–" || got == "<missing>" {
		t.Errorf("overview shows no hash-rate estimate: %q", got)
	}
	b.Shot("overview")

	// Blocks, then a block mined after the page loaded appears live.
	b.goTo("#/blocks", "blocks")
	if n := b.count("#view tbody tr"); n != 3 {
		t.Errorf("blocks page lists %d blocks, want 3", n)
	}
	nb := e.mine("")
	b.WaitJS(fmt.Sprintf(`document.querySelector("#view tbody tr td a") && document.querySelector("#view tbody tr td a").textContent === %q`, num(uint64(nb.Header.Height))), liveWithin)
	b.Shot("blocks")
	sendPending()

	// Block 1: every header field, the hostile note as text.
	var bv blockView
	e.get("/api/v1/blocks/1", &bv)
	b.goTo("#/block/1", "block")
	b.noErrorShown()
	for field, want := range map[string]string{
		"height": num(uint64(bv.Index)), "hash": bv.Hash, "previous_hash": bv.PreviousHash, "merkle_root": bv.MerkleRoot,
		"bits": bv.Bits, "proof": strconv.FormatUint(bv.Proof, 10), "version": strconv.Itoa(int(bv.Version)),
		"data": bv.Data, "data_hash": bv.DataHash, "confirmations": num(uint64(bv.Confirmations)),
		"size": num(uint64(bv.Size)) + " bytes", "tx_count": num(uint64(len(bv.Transactions))), "status": "main chain",
	} {
		b.wantField(field, want)
	}
	if bv.Data != hostile || bv.Status != "main" {
		t.Fatalf("API block 1: data %q, status %q", bv.Data, bv.Status)
	}
	b.Shot("block")

	// The confirmed transaction with the hostile memo, and the pending one.
	var tv struct {
		Tx struct {
			ID, Sender, Recipient, Memo string
			Amount, Fee, Nonce          uint64
		} `json:"tx"`
		Status        string `json:"status"`
		Block         string `json:"block"`
		Height        uint32 `json:"height"`
		Confirmations uint32 `json:"confirmations"`
	}
	e.get("/api/v1/txs/"+tx1.ID().String(), &tv)
	b.goTo("#/tx/"+tx1.ID().String(), "tx")
	for field, want := range map[string]string{
		"status": tv.Status, "id": tv.Tx.ID, "block": tv.Block, "height": num(uint64(tv.Height)),
		"confirmations": num(uint64(tv.Confirmations)), "sender": tv.Tx.Sender, "recipient": tv.Tx.Recipient,
		"amount": coins(tv.Tx.Amount), "fee": coins(tv.Tx.Fee), "nonce": strconv.FormatUint(tv.Tx.Nonce, 10), "memo": tv.Tx.Memo,
	} {
		b.wantField(field, want)
	}
	if tv.Tx.Memo != hostile || tv.Status != "confirmed" || tv.Tx.Amount != 3*consensus.Coin+50 {
		t.Fatalf("API tx: %+v", tv)
	}
	senderHref := evalAs[string](b, `document.querySelector('#view [data-field="sender"] a').getAttribute("href")`)
	if senderHref != "#/address/"+tv.Tx.Sender {
		t.Errorf("sender link %q", senderHref)
	}
	b.Shot("tx")
	b.goTo("#/tx/"+tx2.ID().String(), "tx")
	b.wantField("status", "pending")
	b.wantField("block", "not yet in a block")

	// The recipient's address page.
	var acct struct {
		Address   string `json:"address"`
		Balance   uint64 `json:"balance"`
		Spendable uint64 `json:"spendable"`
		Nonce     uint64 `json:"nonce"`
	}
	recipient := e.addr(keys[1].Address())
	e.get("/api/v1/accounts/"+recipient, &acct)
	var hist struct {
		Txs []struct {
			ID string `json:"id"`
		} `json:"txs"`
	}
	e.get("/api/v1/addresses/"+recipient+"/txs", &hist)
	b.goTo("#/address/"+recipient, "address")
	b.noErrorShown()
	b.wantField("address", acct.Address)
	b.wantField("balance", coins(acct.Balance))
	b.wantField("spendable", coins(acct.Spendable))
	b.wantField("nonce", strconv.FormatUint(acct.Nonce, 10))
	if n := b.count("#view table"); n != 2 {
		t.Errorf("address page has %d tables (pending, history), want 2", n)
	}
	if n := b.count(`#view [data-field="history"] tbody tr`); n != len(hist.Txs) {
		t.Errorf("address page lists %d history rows, the API %d", n, len(hist.Txs))
	}
	b.Shot("address")

	// Mempool, peers, fork tree, charts.
	var mp struct {
		Size int `json:"size"`
	}
	e.get("/api/v1/mempool", &mp)
	b.goTo("#/mempool", "mempool")
	b.wantField("size", fmt.Sprintf("%d pending transaction, highest fee first.", mp.Size))
	b.goTo("#/peers", "peers")
	b.wantField("count", "0 connected peers.")
	b.goTo("#/forks", "forks")
	if n := b.count(`#view svg.tree a[data-status="main"]`); n != 4 {
		t.Errorf("fork tree shows %d main-chain blocks, want 4", n)
	}
	b.goTo("#/charts", "charts")
	if n := b.count("#view svg.chart polyline"); n != 3 {
		t.Errorf("charts page draws %d series, want 3", n)
	}
	b.Shot("charts")

	// Search: a height, a tx id, an address, and nonsense.
	search := func(q string) {
		b.Run("search "+q, js(`document.getElementById("view").dataset.page = ""`),
			chromedp.SetValue(chromedp.CSS("#q"), q), chromedp.SendKeys(chromedp.CSS("#q"), "\r"))
	}
	search("2")
	b.waitPage("block")
	b.wantField("height", "2")
	search(tx1.ID().String())
	b.waitPage("tx")
	b.wantField("id", tx1.ID().String())
	search(recipient)
	b.waitPage("address")
	search(nb.Hash().String())
	b.waitPage("block")
	b.wantField("hash", nb.Hash().String())
	search("<b>nonsense</b>")
	b.WaitJS(`!!document.querySelector("#view .error")`, 5*time.Second)

	// Nothing hostile ran or became an element anywhere.
	if evalAs[bool](b, `window.__xss !== undefined || document.querySelectorAll("#view img, #view script, #view b").length > 0`) {
		t.Error("a data note or memo was inserted as HTML")
	}

	// Keyboard: the first Tab reaches the skip link, Enter on it focuses main.
	b.open(e.base+"/", "overview")
	b.Run("tab", chromedp.KeyEvent("\t"))
	if focused := evalAs[string](b, `document.activeElement.textContent`); focused != "Skip to content" {
		t.Errorf("first Tab focuses %q, want the skip link", focused)
	}

	// A phone's width: nothing wider than the screen but scrollable tables.
	b.Run("phone", chromedp.EmulateViewport(390, 844))
	for _, pg := range []struct{ hash, name string }{{"#/", "overview"}, {"#/block/1", "block"}, {"#/address/" + recipient, "address"}, {"#/forks", "forks"}} {
		b.goTo(pg.hash, pg.name)
		if wide := evalAs[int](b, `document.documentElement.scrollWidth`); wide > 390 {
			t.Errorf("page %s is %d px wide at a phone's 390 px", pg.hash, wide)
		}
	}
	b.goTo("#/block/1", "block")
	b.Shot("block-phone")
}

// TestBrowserFreshNode: a node at height 0 with no peers renders every
// page without an error.
func TestBrowserFreshNode(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	fresh := e.addr(chaintest.Key(9).Address())
	b.open(e.base+"/", "overview")
	b.wantField("height", "0")
	b.wantField("peers", "0")
	b.wantField("hashrate", "–")
	b.Shot("fresh-overview")
	for _, pg := range []struct{ hash, name string }{
		{"#/blocks", "blocks"}, {"#/block/0", "block"}, {"#/mempool", "mempool"}, {"#/peers", "peers"},
		{"#/forks", "forks"}, {"#/charts", "charts"}, {"#/address/" + fresh, "address"},
	} {
		b.goTo(pg.hash, pg.name)
		b.noErrorShown()
	}
	b.goTo("#/block/0", "block")
	b.wantField("status", "main chain")
	b.wantField("confirmations", "1")
	b.goTo("#/address/"+fresh, "address")
	b.wantField("balance", "0 coin")
	b.wantField("no-history", "No transactions in the main chain yet.")
	// A page that does not exist, a block that does not exist.
	b.goTo("#/nowhere", "notfound")
	b.goTo("#/block/7", "block")
	if msg := evalAs[string](b, `document.querySelector("#view .error").textContent`); !strings.Contains(msg, "no block at height 7") {
		t.Errorf("missing block shows %q", msg)
	}
}

// TestBrowserAddressArrival: the address page of a fresh wallet shows coins
// sent to it arrive, pending and then confirmed, without a reload.
func TestBrowserAddressArrival(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	dev := e.n.Addresses()[0]
	e.mine("")
	fresh := chaintest.Key(9).Address()
	b.open(e.base+"/#/address/"+e.addr(fresh), "address")
	b.wantField("balance", "0 coin")
	b.wantField("no-pending", "Nothing pending.")
	tx, err := e.n.Send(dev, fresh, 2*consensus.Coin+5, 3, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	b.WaitJS(fmt.Sprintf(`!!document.querySelector('#view a[href="#/tx/%s"]')`, tx.ID()), liveWithin)
	e.mine("")
	b.WaitJS(`document.querySelector('#view [data-field="balance"]').textContent === "2.00000005 coin"`, liveWithin)
	b.WaitJS(`document.querySelectorAll('#view [data-field="history"] tbody tr').length === 1`, liveWithin)
	b.wantField("no-pending", "Nothing pending.")
	b.Shot("address-arrival")
}

// TestBrowserForkTree: a competing block shows as a second branch, marked
// stale, live; when its branch overtakes, the reorg shows the old blocks
// stale and the new ones on the main chain.
func TestBrowserForkTree(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	keys := chaintest.Keys(2)
	b1 := e.mine("")
	b2 := e.mine("")
	b3 := e.mine("")
	b.open(e.base+"/#/forks", "forks")
	if n := b.count(`#view svg.tree a[data-status="main"]`); n != 4 {
		t.Fatalf("tree shows %d main blocks, want 4", n)
	}
	side := func(parent *chain.Block, memo string) *chain.Block {
		blk := chaintest.Block(chaintest.Spec{Parent: &parent.Header, Miner: keys[1].Address(), Reward: e.p.Reward(parent.Header.Height + 1),
			Memo: memo, Time: max(parent.Header.Timestamp+1, uint32(time.Now().Unix()))})
		if _, err := e.n.Chain.ProcessBlock(blk, blockchain.Requested); err != nil {
			t.Fatalf("process side block %d: %v", blk.Header.Height, err)
		}
		return blk
	}
	status := func(blk *chain.Block) string {
		return fmt.Sprintf(`(document.querySelector('#view svg.tree a[data-hash="%s"]') || {}).dataset?.status`, blk.Hash())
	}
	s2 := side(b1, "s2")
	b.WaitJS(status(s2)+` === "stale"`, liveWithin)
	if n := b.count(`#view [data-field="summary"]`); n != 1 || !strings.Contains(b.field("summary"), "on 2 branches") {
		t.Errorf("summary %q, want 2 branches", b.field("summary"))
	}
	b.Shot("forks-side")
	s3 := side(s2, "s3")
	s4 := side(s3, "s4") // more work than b1..b3: the node reorganises
	if e.n.Chain.Tip().Hash != s4.Hash() {
		t.Fatal("no reorg")
	}
	b.WaitJS(status(s4)+` === "main" && `+status(b3)+` === "stale"`, liveWithin)
	for blk, want := range map[*chain.Block]string{b1: "main", b2: "stale", b3: "stale", s2: "main", s3: "main", s4: "main"} {
		if got := evalAs[string](b, status(blk)); got != want {
			t.Errorf("block %d %s is %q in the tree, want %q", blk.Header.Height, blk.Hash(), got, want)
		}
	}
	b.Shot("forks")
	// The old branch's block page says it is stale.
	b.goTo("#/block/"+b3.Hash().String(), "block")
	b.wantField("status", "side branch (stale)")
	b.wantField("confirmations", "0")
}

// TestBrowserSeesConsoleErrors: the console checks of the other tests can
// fail: an error logged, an exception thrown and a script the CSP refuses
// are all recorded.
func TestBrowserSeesConsoleErrors(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	b.open(e.base+"/", "overview")
	b.Run("misbehave", js(`console.error("logged on purpose"),
		setTimeout(() => { throw new Error("thrown on purpose"); }),
		document.head.append(Object.assign(document.createElement("script"), { textContent: "window.__inline = 1" }))`))
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := strings.Join(b.Errors(), "\n")
		if strings.Contains(got, "logged on purpose") && strings.Contains(got, "thrown on purpose") && strings.Contains(got, "Content Security Policy") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recorded %q; want the logged error, the exception and the CSP refusal", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if evalAs[bool](b, `window.__inline === 1`) {
		t.Error("an inline script ran despite the CSP")
	}
	b.TakeErrors() // expected here: not a failure of this test
}
