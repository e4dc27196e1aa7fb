// app.js: the hash router, the one event stream and the page lifecycle.
import { h, clear, api, ApiError } from "./lib.js";
import { search } from "./search.js";
import * as overview from "./pages/overview.js";
import * as blocks from "./pages/blocks.js";
import * as block from "./pages/block.js";
import * as tx from "./pages/tx.js";
import * as address from "./pages/address.js";
import * as mempool from "./pages/mempool.js";
import * as peers from "./pages/peers.js";
import * as forks from "./pages/forks.js";
import * as charts from "./pages/charts.js";

// routes maps the first part of the fragment (#/<name>/<arg>) to a page
// module. A new page is one module and one line here.
const routes = {
  "": overview,
  blocks,
  block,
  tx,
  address,
  mempool,
  peers,
  forks,
  charts,
};

const main = document.getElementById("view");
const live = document.getElementById("live");
let current = null; // the running page's {onEvent, stop}
let generation = 0;

// parse splits "#/block/12?x=1" into the page name, its argument and the
// query parameters.
function parse(hash) {
  const raw = hash.replace(/^#\/?/, "");
  const [path, qs] = raw.split("?");
  const parts = path.split("/");
  let arg = "";
  try {
    arg = decodeURIComponent(parts.slice(1).join("/"));
  } catch {
    arg = parts.slice(1).join("/");
  }
  return { name: parts[0], arg, query: new URLSearchParams(qs || "") };
}

async function show() {
  const gen = ++generation;
  if (current && current.stop) current.stop();
  current = null;
  const { name, arg, query } = parse(location.hash);
  main.setAttribute("aria-busy", "true");
  const page = routes[name];
  for (const a of document.querySelectorAll("nav a")) {
    const target = a.getAttribute("href").slice(2);
    if (target === name || (target === "blocks" && name === "block")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!page) {
    document.title = "Not found · chaind";
    clear(main, h("h1", {}, "No such page"), h("p", {}, "Try the ", h("a", { href: "#/" }, "overview"), "."));
    done("notfound");
    return;
  }
  document.title = page.title + " · chaind";
  try {
    const ctl = await page.render(main, { arg, query }, app);
    if (gen !== generation) {
      if (ctl && ctl.stop) ctl.stop();
      return;
    }
    current = ctl || null;
  } catch (err) {
    if (gen !== generation) return;
    clear(main, h("h1", {}, page.title), errorBox(err));
  }
  done(name || "overview");
}

// done marks the page as rendered (for assistive technology and tests).
function done(name) {
  main.dataset.page = name;
  main.setAttribute("aria-busy", "false");
}

// errorBox shows a failed load: the node's own message for API errors.
export function errorBox(err) {
  const msg = err instanceof ApiError ? err.message : "could not reach the node: " + err.message;
  return h("p", { class: "error", role: "alert" }, msg);
}

// app is what pages get: navigation and the error box.
const app = {
  go(hash) {
    if (location.hash === hash) show();
    else location.hash = hash;
  },
  errorBox,
};

// The event stream: one EventSource for the whole explorer; events go to
// the page being shown. EventSource reconnects by itself.
const EVENTS = ["block", "block-accepted", "block-disconnected", "reorg", "tx", "peer"];
function connect() {
  const es = new EventSource("/api/v1/events");
  es.onopen = () => { live.textContent = "live"; live.className = "live ok"; };
  es.onerror = () => { live.textContent = "reconnecting to the event stream…"; live.className = "live down"; };
  for (const type of EVENTS) {
    es.addEventListener(type, (ev) => {
      if (!current || !current.onEvent) return;
      let data = null;
      try { data = JSON.parse(ev.data); } catch { return; }
      current.onEvent(type, data);
    });
  }
}

document.getElementById("search").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = document.getElementById("q");
  const q = input.value.trim();
  if (!q) return;
  const target = await search(q);
  if (target.hash) {
    input.value = "";
    app.go(target.hash);
  } else {
    clear(main, h("h1", {}, "Search"), h("p", { class: "error", role: "alert" }, target.error));
    main.focus();
  }
});

window.addEventListener("hashchange", () => { show().then(() => main.focus({ preventScroll: true })); });
api("node").then((n) => { document.getElementById("netname").textContent = "network " + n.network; }).catch(() => {});
connect();
show();
