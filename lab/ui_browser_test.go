package lab

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chaind/chaind/internal/browsertest"
)

// The network view's browser test drives a real headless Chromium (Debian's
// chromium package, or $CHAIND_CHROMIUM) against a 4-node memnet devnet, the
// way web/browser_test.go drives the explorer. Screenshots go to a temporary
// directory and to $CHAIND_SCREENSHOTS when set.

const uiNet = `
name: class
transport: memnet
simulated_mining: true
block_time: 2s
compression: 4
topology: ring
link: {latency: 20ms}
nodes:
  - {name: a, share: 25}
  - {name: b, share: 25}
  - {name: c, share: 25}
  - {name: d, share: 25}
`

// uiBrowser is a tab of the shared headless Chromium with the network
// view's own helpers.
type uiBrowser struct{ *browsertest.Tab }

func newUIBrowser(t *testing.T) *uiBrowser { return &uiBrowser{browsertest.Open(t)} }

// TestMain stops the shared Chromium after the tests.
func TestMain(m *testing.M) { browsertest.Main(m) }

func uiEval[T any](b *uiBrowser, expr string) T { return browsertest.Eval[T](b.Tab, expr) }

func (b *uiBrowser) do(expr string) { b.T.Helper(); uiEval[bool](b, "("+expr+", true)") }

func (b *uiBrowser) waitJS(expr string, within time.Duration) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, within+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(within))); err != nil {
		b.T.Fatalf("waiting %v for %s: %v (status: %s; result: %s)", within, expr, err,
			uiEval[string](b, `document.getElementById("status").textContent`), uiEval[string](b, `document.getElementById("result").textContent`))
	}
}

// mineAt mines one block at node through the page's controls and returns
// the short hash the page reports.
func (b *uiBrowser) mineAt(node string) string {
	b.T.Helper()
	b.do(fmt.Sprintf(`document.getElementById("node").value = %q, document.getElementById("blocks").value = "1",
		document.getElementById("result").textContent = "",
		document.querySelector('#f-node button[data-op="mine"]').click()`, node))
	b.waitJS(fmt.Sprintf(`document.getElementById("result").textContent.startsWith("Done: mine %s 1: ")`, node), 10*time.Second)
	txt := uiEval[string](b, `document.getElementById("result").textContent`)
	return strings.TrimSpace(txt[strings.LastIndex(txt, ":")+1:])
}

func TestNetworkViewBrowser(t *testing.T) {
	c := simNetwork(t, uiNet)
	ctrl := NewController(c, c.Observatory(), nil)
	srv := httptest.NewServer(ctrl)
	t.Cleanup(srv.Close) // after the browser's cleanup closes the page's event stream
	b := newUIBrowser(t)

	b.Run("open the network view", chromedp.Navigate(srv.URL+"/"))
	b.waitJS(`document.querySelectorAll("#graph .node").length === 4 && document.querySelectorAll("#graph .link").length === 4`, 10*time.Second)
	if got := uiEval[string](b, `[...document.querySelectorAll("#nodes tbody th")].map(e => e.textContent).join(",")`); got != "a,b,c,d" {
		t.Errorf("node table: %q", got)
	}
	b.waitJS(`/ · memnet · 4 of 4 nodes running$/.test(document.getElementById("status").textContent)`, 5*time.Second)

	// A block mined at a through the page spreads through the graph: a dot
	// travels along the links and every node marks it as seen.
	b.do(`window.__spread = new Set(), new MutationObserver(ms => { for (const m of ms) for (const n of m.addedNodes)
		if (n.classList && n.classList.contains("spread")) window.__spread.add(n.dataset.hash); })
		.observe(document.getElementById("graph"), {childList: true, subtree: true})`)
	h := b.mineAt("a")
	if len(h) != 10 {
		t.Fatalf("mined hash %q", h)
	}
	b.waitJS(fmt.Sprintf(`[...window.__spread].some(x => x.startsWith(%q))`, h), 5*time.Second)
	b.waitJS(`Number(document.getElementById("graph").dataset.spreads) >= 4`, 5*time.Second)
	b.Shot("network-view")

	// A 2|2 partition through the page's form: both sides mine, two branches.
	b.do(`document.getElementById("groups").value = "a,b|c,d", document.querySelector('#f-partition button[type=submit]').click()`)
	b.waitJS(`document.getElementById("result").textContent.startsWith("Done: partition")`, 5*time.Second)
	b.waitJS(`document.querySelectorAll("#graph .link.cut").length === 2`, 5*time.Second)
	b.mineAt("a")
	b.mineAt("c")
	// The simulated miners go on mining on both sides, so a node may lead
	// its side for a moment: wait until the two branches follow the
	// partition rather than sampling once.
	b.waitJS(`document.getElementById("graph").dataset.branches === "2" &&
		new Set([...document.querySelectorAll("#graph .node")].map(n => n.dataset.branch)).size === 2 &&
		(() => { const br = n => document.querySelector('#graph .node[data-node="'+n+'"]').dataset.branch;
			return br("a") === br("b") && br("c") === br("d") && br("a") !== br("c"); })()`, 10*time.Second)
	b.Shot("network-view-partitioned")

	// A reloaded page draws the partition and a shaped link from the
	// controller's network answer, before any event arrives.
	b.do(`document.getElementById("link").value = "a-b", document.getElementById("delay").value = "80ms",
		document.querySelector('#f-shape button[type=submit]').click()`)
	b.waitJS(`document.getElementById("result").textContent.startsWith("Done: shape")`, 5*time.Second)
	b.Run("reload the network view", chromedp.Reload())
	b.waitJS(`document.querySelectorAll("#graph .node").length === 4 && document.querySelectorAll("#graph .link.cut").length === 2 &&
		document.querySelectorAll("#graph path.group").length === 2 &&
		document.querySelector('#graph .link.shaped[data-link="a-b"]') !== null &&
		document.getElementById("legend").textContent.includes("partitioned: a,b | c,d")`, 5*time.Second)
	if got := uiEval[string](b, `document.querySelector('#graph .linklabel[data-link="a-b"]').textContent`); got != "80ms" {
		t.Errorf("shaped link label %q, want 80ms", got)
	}
	b.Shot("network-view-reloaded-partitioned")

	// The form's bandwidth reaches the link (memnet carries it) and its label.
	b.do(`document.getElementById("link").value = "c-d", document.getElementById("delay").value = "30ms",
		document.getElementById("bandwidth").value = "2Mbit", document.querySelector('#f-shape button[type=submit]').click()`)
	b.waitJS(`document.getElementById("result").textContent.startsWith("Done: shape")`, 5*time.Second)
	b.waitJS(`(document.querySelector('#graph .linklabel[data-link="c-d"]') || {}).textContent === "30ms 2Mbit"`, 5*time.Second)
	var cd Shape
	for _, l := range c.Network().Links {
		if l.Pair == (Pair{"c", "d"}) {
			cd = l.Shape
		}
	}
	if cd.Bandwidth != 2e6 {
		t.Errorf("c-d bandwidth %v after the form, want 2 Mbit/s", float64(cd.Bandwidth))
	}
	b.do(`document.getElementById("bandwidth").value = ""`)

	// Heal: one branch again.
	b.do(`document.getElementById("heal").click()`)
	b.waitJS(`document.querySelectorAll("#graph .link.cut").length === 0`, 5*time.Second)
	b.waitJS(`document.getElementById("graph").dataset.branches === "1" &&
		new Set([...document.querySelectorAll("#graph .node")].map(n => n.dataset.branch)).size === 1`, 15*time.Second)
	b.waitJS(`document.querySelector("#report dd") !== null && document.querySelectorAll("#miners tbody tr").length === 4`, 5*time.Second)

	// A refused control shows the controller's error.
	b.do(`document.getElementById("link").value = "a-zed", document.getElementById("delay").value = "50ms",
		document.querySelector('#f-shape button[type=submit]').click()`)
	b.waitJS(`document.getElementById("result").textContent.startsWith("Refused:")`, 5*time.Second)

	// Replay of a recording loaded through the file input: the nodes come
	// from the events, the spread and the fork are drawn.
	var rec strings.Builder
	r := NewRecorder(&rec)
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	g := strings.Repeat("0", 64)
	h1, h2, h3 := strings.Repeat("1", 64), strings.Repeat("2", 64), strings.Repeat("3", 64)
	for _, ev := range []Event{
		{T: at(0), Kind: KindFound, Node: "x", Hash: h1, Parent: g, Height: 1},
		{T: at(40), Kind: KindBlock, Node: "y", Hash: h1, Parent: g, Height: 1},
		{T: at(80), Kind: KindBlock, Node: "z", Hash: h1, Parent: g, Height: 1},
		{T: at(100), Kind: KindPartition, Detail: "x,y|z"},
		{T: at(200), Kind: KindFound, Node: "x", Hash: h2, Parent: h1, Height: 2},
		{T: at(240), Kind: KindBlock, Node: "y", Hash: h2, Parent: h1, Height: 2},
		{T: at(260), Kind: KindFound, Node: "z", Hash: h3, Parent: h1, Height: 2},
	} {
		r.Record(ev)
	}
	b.do(fmt.Sprintf(`(() => { const dt = new DataTransfer(); dt.items.add(new File([%q], "session.jsonl"));
		document.getElementById("file").files = dt.files; document.getElementById("speed").value = "4";
		document.querySelector('#f-replay button[type=submit]').click(); })()`, rec.String()))
	b.waitJS(`document.getElementById("status").textContent.startsWith("Replay finished: 7 events")`, 5*time.Second)
	b.waitJS(`[...document.querySelectorAll("#graph .node")].map(n => n.dataset.node).join() === "x,y,z" &&
		document.getElementById("graph").dataset.branches === "2" && document.querySelectorAll("#graph .link.cut").length === 2`, 5*time.Second)
	b.do(`document.getElementById("live").click()`)
	b.waitJS(`document.querySelectorAll("#graph .node").length === 4`, 5*time.Second)

	// The same recording offered by the controller (chaind devnet --record
	// or --replay) is replayed from the page's button.
	if uiEval[bool](b, `!document.getElementById("replay-recorded").hidden`) {
		t.Error("replay button shown with no recording offered")
	}
	path := filepath.Join(t.TempDir(), "session.jsonl")
	if err := os.WriteFile(path, []byte(rec.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ctrl.OfferRecording(path)
	b.waitJS(`!document.getElementById("replay-recorded").hidden`, 5*time.Second)
	b.do(`document.getElementById("speed").value = "16", document.getElementById("replay-recorded").click()`)
	b.waitJS(`document.getElementById("status").textContent.startsWith("Replay finished: 7 events")`, 5*time.Second)
	b.waitJS(`[...document.querySelectorAll("#graph .node")].map(n => n.dataset.node).join() === "x,y,z" &&
		document.getElementById("graph").dataset.branches === "2" && document.querySelectorAll("#graph .link.cut").length === 2 &&
		document.querySelectorAll("#graph path.group").length === 2`, 5*time.Second)
	b.Shot("network-view-replay")
	b.do(`document.getElementById("live").click()`)
	b.waitJS(`document.querySelectorAll("#graph .node").length === 4`, 5*time.Second)

	// Phone width.
	b.Run("phone viewport", chromedp.EmulateViewport(390, 844))
	b.waitJS(`document.documentElement.scrollWidth <= 390`, 5*time.Second)
	b.Shot("network-view-phone")
}
