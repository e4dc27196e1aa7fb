// lib.js: building DOM from data (text only, never HTML), formatting, and
// reading the node's API. Every value from the API reaches the page
// through textContent or an attribute setter.

// h builds an element: h("a", {href: "#/", class: "x"}, "text", child...).
// Strings and numbers become text nodes; null and false are skipped;
// arrays are flattened.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

// append adds children (text, elements, arrays of them) to el.
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// clear empties el and appends children.
export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// ApiError is a failed API call: the HTTP status and the node's message.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// api GETs /api/v1/<path> and returns the decoded JSON; a non-2xx answer
// throws an ApiError with the node's error message.
export async function api(path) {
  const r = await fetch("/api/v1/" + path, { headers: { Accept: "application/json" } });
  let body = null;
  try {
    body = await r.json();
  } catch {
    throw new ApiError(r.status, `the node answered ${r.status} without JSON`);
  }
  if (!r.ok) throw new ApiError(r.status, (body && body.error) || `HTTP ${r.status}`);
  return body;
}

export const COIN = 100000000;

// coins formats base units as coins with up to eight decimals.
export function coins(units) {
  const n = BigInt(units);
  const whole = n / BigInt(COIN);
  const frac = (n % BigInt(COIN)).toString().padStart(8, "0").replace(/0+$/, "");
  return whole.toLocaleString("en-US") + (frac ? "." + frac : "") + " coin";
}

// num formats an integer with thousands separators.
export const num = (n) => Number(n).toLocaleString("en-US");

// time formats a Unix timestamp (seconds) as UTC.
export function time(ts) {
  return new Date(ts * 1000).toISOString().replace("T", " ").replace(".000Z", " UTC");
}

// ago says how long ago a Unix timestamp was.
export function ago(ts) {
  return duration(Date.now() / 1000 - ts) + " ago";
}

// duration formats seconds as "12 s", "3 min 4 s", "2 h 5 min".
export function duration(s) {
  s = Math.max(0, Math.round(s));
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
}

// rate formats hashes per second with a unit prefix.
export function rate(hps) {
  if (!isFinite(hps) || hps < 0) return "–";
  if (hps === 0) return "0 H/s";
  if (hps < 1) return hps.toPrecision(2) + " H/s";
  const units = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s", "EH/s"];
  let i = 0;
  while (hps >= 1000 && i < units.length - 1) { hps /= 1000; i++; }
  return hps.toFixed(hps < 10 ? 2 : hps < 100 ? 1 : 0) + " " + units[i];
}

// fixed formats a float with significant digits that suit its size.
export function fixed(x) {
  if (!isFinite(x)) return "–";
  if (x >= 1000) return num(Math.round(x));
  return x.toPrecision(4).replace(/\.?0+$/, "");
}

// short abbreviates a hash or address for tables.
export const short = (s) => (s.length > 20 ? s.slice(0, 10) + "…" + s.slice(-8) : s);

// Links to pages; ids are encoded, so nothing in them can break the URL.
export const blockHref = (id) => "#/block/" + encodeURIComponent(id);
export const txHref = (id) => "#/tx/" + encodeURIComponent(id);
export const addrHref = (a) => "#/address/" + encodeURIComponent(a);

// addrLink links an address, or shows the coinbase's sender "0" as text.
export function addrLink(a, full) {
  if (a === "0") return h("span", { class: "muted" }, "coinbase");
  return h("a", { href: addrHref(a), class: "hash" }, full ? a : short(a));
}

export const hashLink = (href, hash, full) => h("a", { href, class: "hash" }, full ? hash : short(hash));

// fields renders a definition list of [term, value] pairs; a data-field
// attribute names each value for tests and styles.
export function fields(pairs) {
  return h("dl", { class: "fields" },
    pairs.map(([term, value, key]) => [h("dt", {}, term), h("dd", { "data-field": key || null }, value)]));
}

// table renders a table: cols are [heading, class], rows arrays of cells;
// key names it in a data-field attribute.
export function table(caption, cols, rows, key) {
  return h("div", { class: "table-wrap", "data-field": key || null },
    h("table", {},
      caption ? h("caption", { class: "visually-hidden" }, caption) : null,
      h("thead", {}, h("tr", {}, cols.map(([t, cls]) => h("th", { scope: "col", class: cls || null }, t)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => h("td", { class: cols[i][1] || null }, c)))))));
}

// badge renders a status word.
export const badge = (word, cls) => h("span", { class: "badge " + (cls || word) }, word);

// throttle calls fn at most once per ms, trailing call included.
export function throttle(fn, ms) {
  let timer = null;
  let again = false;
  return () => {
    if (timer) { again = true; return; }
    fn();
    timer = setTimeout(function tick() {
      if (again) { again = false; fn(); timer = setTimeout(tick, ms); } else timer = null;
    }, ms);
  };
}

// treeStatus names a tree block: main, stale (valid, off the main chain)
// or invalid.
export function treeStatus(b) {
  if (b.status === "invalid") return "invalid";
  return b.main_chain ? "main" : "stale";
}

// mainBlocks returns the main-chain blocks of a tree window by height,
// without genesis: its timestamp is the network's birth, not a block
// interval.
export function mainBlocks(blocks) {
  return blocks.filter((b) => b.main_chain && b.index > 0).sort((a, b) => a.index - b.index);
}

// mainStats derives the recent block interval and a hash-rate estimate
// from the main-chain blocks of a tree window.
export function mainStats(blocks) {
  const main = mainBlocks(blocks);
  if (main.length < 2) return { interval: NaN, hashrate: NaN, count: 0 };
  const first = main[0];
  const last = main[main.length - 1];
  const span = last.timestamp - first.timestamp;
  const work = main.slice(1).reduce((s, b) => s + b.work, 0);
  return { interval: span / (main.length - 1), hashrate: span > 0 ? work / span : NaN, count: main.length - 1 };
}
