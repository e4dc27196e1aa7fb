// The devnet's network view: draws the controller's nodes and links, colours
// each node by the branch of its tip, animates each block's spread from the
// observatory's first-seen events, and steers the devnet through the
// controller's API. Everything from the network is inserted as text.

const API = "/api/v1/devnet";
const SVGNS = "http://www.w3.org/2000/svg";
const PALETTE = ["#4caf50", "#42a5f5", "#ef5350", "#ab47bc", "#ffa726", "#26c6da", "#8d6e63", "#d4e157"];
const MAXLOG = 200;
const MAXPARENTS = 20000;

const $ = (id) => document.getElementById(id);

const state = {
  nodes: [],          // NodeStatus from /nodes
  links: [],          // {a, b, shape}
  groups: null,       // the partition seen in the events, or null
  parents: new Map(), // block hash -> {parent, height}, from events
  seen: new Map(),    // block hash -> Map(node -> time first seen)
  branchColour: new Map(), // branch's representative tip -> colour index
  nextColour: 0,
  replaying: false,
  spreads: 0,
};

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
}

function svg(tag, attrs = {}, ...kids) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const k of kids) e.append(k);
  return e;
}

const short = (h) => (h ? h.slice(0, 10) : "");
const pct = (x) => (x * 100).toFixed(1) + "%";
function dur(ns) {
  if (!ns) return "–";
  const ms = ns / 1e6;
  return ms < 1000 ? ms.toFixed(ms < 10 ? 1 : 0) + " ms" : (ms / 1000).toFixed(2) + " s";
}

async function getJSON(path) {
  const r = await fetch(API + path, { headers: { Accept: "application/json" } });
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}

async function control(path, body) {
  const out = $("result");
  out.classList.remove("error");
  out.textContent = "Sending " + path + "…";
  try {
    const r = await fetch(API + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(j.error || "HTTP " + r.status);
    out.textContent = "Done: " + j.control + (Array.isArray(j.result) && j.result.length ? ": " + j.result.map(short).join(" ") : "");
    refresh();
  } catch (e) {
    out.classList.add("error");
    out.textContent = "Refused: " + e.message;
  }
}

// isAncestor reports whether block a is b or an ancestor of b, as far as the
// events tell.
function isAncestor(a, b) {
  for (let h = b, i = 0; h && i < 5000; i++) {
    if (h === a) return true;
    const p = state.parents.get(h);
    if (!p) return false;
    h = p.parent;
  }
  return false;
}

// branches groups the running nodes' tips into branches: a tip on the way
// to a higher tip is on that tip's branch. It returns node name -> colour.
function branches(nodes) {
  const tips = nodes.filter((n) => n.running && n.tip).sort((x, y) => y.height - x.height);
  const reps = [];
  const of = new Map();
  for (const n of tips) {
    let rep = reps.find((r) => isAncestor(n.tip, r));
    if (!rep) {
      rep = n.tip;
      reps.push(rep);
    }
    of.set(n.name, rep);
  }
  // Keep a branch's colour while its representative moves on.
  const next = new Map();
  for (const rep of reps) {
    let c;
    for (const [old, ci] of state.branchColour) {
      if (isAncestor(old, rep) && ![...next.values()].includes(ci)) { c = ci; break; }
    }
    if (c === undefined) c = state.nextColour++ % PALETTE.length;
    next.set(rep, c);
  }
  state.branchColour = next;
  const colour = new Map();
  for (const [name, rep] of of) colour.set(name, next.get(rep));
  return colour;
}

function layout(names) {
  const pos = new Map();
  const n = names.length;
  const cx = 200, cy = 150, r = n <= 1 ? 0 : Math.min(120, 40 + 14 * n);
  names.forEach((name, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(n, 1);
    pos.set(name, { x: cx + r * Math.cos(a), y: cy + r * Math.sin(a) });
  });
  return pos;
}

function groupOf(name) {
  if (!state.groups) return -1;
  return state.groups.findIndex((g) => g.includes(name));
}

function cut(a, b) {
  if (!state.groups) return false;
  const ga = groupOf(a), gb = groupOf(b);
  return ga !== gb;
}

function shapeText(s) {
  const parts = [];
  if (s.latency) parts.push(s.latency);
  if (s.jitter) parts.push("±" + s.jitter);
  if (s.loss) parts.push(s.loss + " loss");
  if (s.bandwidth) parts.push(s.bandwidth);
  return parts.join(" ");
}

// convexHull returns the convex hull of points (Andrew's monotone chain),
// the points themselves when there are fewer than three.
function convexHull(points) {
  const ps = [...points].sort((p, q) => p.x - q.x || p.y - q.y);
  if (ps.length < 3) return ps;
  const cross = (o, a, b) => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  const half = (list) => {
    const out = [];
    for (const p of list) {
      while (out.length >= 2 && cross(out[out.length - 2], out[out.length - 1], p) <= 0) out.pop();
      out.push(p);
    }
    out.pop();
    return out;
  };
  return [...half(ps), ...half([...ps].reverse())];
}

let pos = new Map();

function draw() {
  const g = $("graph");
  const names = state.nodes.map((n) => n.name);
  pos = layout(names);
  const colour = branches(state.nodes);
  const keep = g.querySelector("title");
  g.replaceChildren(keep);
  // Each side of a partition is shaded: its nodes' convex hull drawn with
  // a wide round stroke, so the cut reads at a glance.
  const sides = svg("g", { class: "groups" });
  for (const [i, grp] of (state.groups || []).entries()) {
    const hull = convexHull(grp.map((name) => pos.get(name)).filter(Boolean));
    if (!hull.length) continue;
    const d = hull.map((p, j) => (j ? "L" : "M") + p.x.toFixed(1) + " " + p.y.toFixed(1)).join(" ") + " Z";
    sides.append(svg("path", { class: "group", d, "data-group": String(i) },
      svg("title", {}, "partition side " + (i + 1) + ": " + grp.join(", "))));
  }
  g.append(sides);
  const links = svg("g", { class: "links" });
  for (const l of state.links) {
    const p = pos.get(l.a), q = pos.get(l.b);
    if (!p || !q) continue;
    const shaped = l.shape && shapeText(l.shape) !== "";
    const cls = "link" + (cut(l.a, l.b) ? " cut" : "") + (shaped ? " shaped" : "");
    const line = svg("line", { class: cls, x1: p.x, y1: p.y, x2: q.x, y2: q.y, "data-link": l.a + "-" + l.b });
    line.append(svg("title", {}, l.a + "–" + l.b + (cut(l.a, l.b) ? " (cut by the partition)" : "") + (shaped ? " " + shapeText(l.shape) : "")));
    links.append(line);
    if (shaped) {
      links.append(svg("text", { class: "linklabel", "data-link": l.a + "-" + l.b, x: (p.x + q.x) / 2 + 3, y: (p.y + q.y) / 2 - 3 }, shapeText(l.shape)));
    }
  }
  g.append(links);
  g.append(svg("g", { class: "spreads" }));
  const nodes = svg("g", { class: "nodes" });
  for (const n of state.nodes) {
    const p = pos.get(n.name);
    const ci = colour.get(n.name);
    const fill = ci === undefined ? "#fff" : PALETTE[ci];
    const grp = svg("g", {
      class: "node" + (n.running ? "" : " down"), "data-node": n.name,
      "data-branch": ci === undefined ? "" : String(ci), "data-tip": n.tip || "",
    });
    const label = n.name + ": " + (n.running ? "height " + n.height + ", tip " + short(n.tip) : "stopped");
    const body = svg("circle", { class: "body", cx: p.x, cy: p.y, r: 18, fill });
    const inner = [body,
      svg("text", { class: "name", x: p.x, y: p.y + 4 }, n.name),
      svg("text", { x: p.x, y: p.y + 32 }, n.running ? "#" + n.height : "stopped"),
      svg("title", {}, label)];
    if (n.api) {
      const a = svg("a", { href: n.api + "/", target: "_blank", rel: "noopener", "aria-label": label + " (open its explorer)" }, ...inner);
      grp.append(a);
    } else {
      grp.append(...inner);
    }
    nodes.append(grp);
  }
  g.append(nodes);
  const legend = $("legend");
  legend.replaceChildren();
  const reps = [...state.branchColour.entries()];
  legend.append(reps.length === 1 ? "One branch" : reps.length + " branches");
  for (const [rep, ci] of reps) {
    const sw = el("span", { class: "swatch" });
    sw.style.background = PALETTE[ci]; // through the CSSOM: CSP refuses style attributes
    legend.append(sw, short(rep));
  }
  if (state.groups) legend.append(" · partitioned: " + state.groups.map((x) => x.join(",")).join(" | "));
  g.dataset.branches = String(reps.length);
}

function drawTable() {
  const tb = $("nodes").tBodies[0];
  tb.replaceChildren();
  const sel = $("node");
  const chosen = sel.value;
  sel.replaceChildren();
  for (const n of state.nodes) {
    const link = n.api ? el("a", { href: n.api + "/", target: "_blank", rel: "noopener" }, "explorer") : "–";
    tb.append(el("tr", { "data-node": n.name },
      el("th", { scope: "row" }, n.name),
      el("td", {}, n.running ? (n.mining ? "mining" : "running") : "stopped"),
      el("td", {}, String(n.height)),
      el("td", { class: "hash" }, short(n.tip)),
      el("td", {}, String(n.peers)),
      el("td", {}, pct(n.share)),
      el("td", {}, link)));
    sel.append(el("option", { value: n.name }, n.name));
  }
  if (chosen && state.nodes.some((n) => n.name === chosen)) sel.value = chosen;
}

function drawReport(r) {
  const dl = $("report");
  dl.replaceChildren();
  const fact = (k, v) => dl.append(el("dt", {}, k), el("dd", {}, v));
  fact("Blocks found", String(r.blocks_found));
  fact("Main chain / stale", r.main_chain + " / " + r.stale + " (stale rate " + pct(r.stale_rate || 0) + ")");
  fact("Spread to 50%", "p50 " + dur(r.to_50.p50) + ", p90 " + dur(r.to_50.p90));
  fact("Spread to 90%", "p50 " + dur(r.to_90.p50) + ", p90 " + dur(r.to_90.p90));
  fact("Spread to all", "p50 " + dur(r.to_100.p50) + ", p90 " + dur(r.to_100.p90) + ", p99 " + dur(r.to_100.p99));
  fact("Mean delay", dur(r.mean_delay));
  fact("Reorgs", r.reorgs + (r.max_reorg ? " (deepest " + r.max_reorg + ")" : ""));
  fact("Mean block time", dur(r.mean_block_time));
  const tb = $("miners").tBodies[0];
  tb.replaceChildren();
  for (const m of r.miners || []) {
    tb.append(el("tr", {}, el("th", { scope: "row" }, m.node), el("td", {}, pct(m.hash_share)),
      el("td", {}, String(m.found)), el("td", {}, String(m.main_chain)), el("td", {}, pct(m.chain_share))));
  }
}

function logEvent(ev) {
  const li = el("li", {}, new Date(ev.t).toLocaleTimeString() + " " + ev.kind +
    (ev.node ? " " + ev.node : "") + (ev.height ? " #" + ev.height : "") +
    (ev.hash ? " " + short(ev.hash) : "") + (ev.depth ? " depth " + ev.depth : "") + (ev.detail ? " " + ev.detail : ""));
  const log = $("log");
  log.prepend(li);
  while (log.children.length > MAXLOG) log.lastElementChild.remove();
}

// spread animates block hash reaching node from the neighbour that had it
// first (or marks its finder).
function spread(ev) {
  const g = $("graph");
  const seen = state.seen.get(ev.hash) || new Map();
  state.seen.set(ev.hash, seen);
  const to = pos.get(ev.node);
  const grp = g.querySelector(`.node[data-node="${CSS.escape(ev.node || "")}"]`);
  if (grp) {
    grp.dataset.lastBlock = ev.hash;
    grp.classList.remove("flash");
    grp.classList.add("flash");
    setTimeout(() => grp.classList.remove("flash"), 400);
  }
  let from = null, best = Infinity;
  for (const [name, t] of seen) {
    if (name === ev.node) continue;
    const linked = state.links.some((l) => (l.a === name && l.b === ev.node) || (l.b === name && l.a === ev.node));
    if (linked && t < best) { best = t; from = name; }
  }
  if (!seen.has(ev.node)) seen.set(ev.node, Date.parse(ev.t));
  if (state.seen.size > 500) state.seen.delete(state.seen.keys().next().value);
  const p = from && pos.get(from);
  state.spreads++;
  g.dataset.spreads = String(state.spreads);
  if (!p || !to) return;
  const dot = svg("circle", { class: "spread", r: 6, cx: p.x, cy: p.y, "data-hash": ev.hash });
  g.querySelector(".spreads")?.append(dot);
  const t0 = performance.now(), span = 450;
  const step = (now) => {
    const f = Math.min(1, (now - t0) / span);
    dot.setAttribute("cx", String(p.x + (to.x - p.x) * f));
    dot.setAttribute("cy", String(p.y + (to.y - p.y) * f));
    if (f < 1) requestAnimationFrame(step); else dot.remove();
  };
  requestAnimationFrame(step);
}

function parseGroups(detail) {
  return (detail || "").split("|").map((g) => g.split(",").map((s) => s.trim()).filter(Boolean)).filter((g) => g.length);
}

// apply takes one event into the view; in a replay it also moves the
// nodes' tips, which the live view reads from /nodes.
function apply(ev) {
  if (ev.hash && ev.parent) {
    state.parents.set(ev.hash, { parent: ev.parent, height: ev.height });
    if (state.parents.size > MAXPARENTS) state.parents.delete(state.parents.keys().next().value);
  }
  switch (ev.kind) {
    case "partition": state.groups = parseGroups(ev.detail); break;
    case "heal": state.groups = null; break;
  }
  if (state.replaying) replayStep(ev);
  if (ev.kind === "found" || ev.kind === "block") spread(ev);
  else if (["partition", "heal", "shape", "stop", "crash", "start", "add", "hashrate", "reorg"].includes(ev.kind)) scheduleRefresh();
  if (ev.kind !== "block" && ev.kind !== "tx") logEvent(ev);
}

let refreshTimer = 0;
function scheduleRefresh() {
  if (!refreshTimer) refreshTimer = setTimeout(() => { refreshTimer = 0; state.replaying ? (draw(), drawTable()) : refresh(); }, 100);
}

async function refresh() {
  if (state.replaying) return;
  try {
    const [nodes, net] = await Promise.all([getJSON("/nodes"), getJSON("/network")]);
    if (state.replaying) return;
    state.nodes = nodes || [];
    state.links = (net.links || []).map((l) => ({ a: l.pair.a, b: l.pair.b, shape: l.shape || {} }));
    // The controller knows the partition in force, so a reloaded page
    // draws it before any event arrives.
    state.groups = Array.isArray(net.partition) && net.partition.length ? net.partition : null;
    $("replay-recorded").hidden = !net.recording;
    draw();
    drawTable();
    $("status").textContent = (net.name || "devnet") + " · " + (net.transport || "") + " · " + state.nodes.filter((n) => n.running).length + " of " + state.nodes.length + " nodes running";
    $("view").setAttribute("aria-busy", "false");
  } catch (e) {
    $("status").textContent = "Controller unreachable: " + e.message;
  }
}

async function refreshReport() {
  if (state.replaying) return;
  try { drawReport(await getJSON("/report")); } catch (e) { /* shown by refresh */ }
}

// follow reads the live event stream (JSON lines) until it ends, then
// reconnects.
let follower = null;
async function follow() {
  const ctrl = new AbortController();
  follower = ctrl;
  try {
    const r = await fetch(API + "/events", { signal: ctrl.signal });
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!line) continue;
        let ev;
        try { ev = JSON.parse(line); } catch { continue; }
        if (!state.replaying) apply(ev);
      }
    }
  } catch (e) {
    if (ctrl.signal.aborted) return;
  }
  if (follower === ctrl) setTimeout(follow, 1000);
}

// Replay: the recording's events are played at the chosen speed; the
// nodes come from the events, each starting at no tip.
let replayTimer = 0;
function replayStep(ev) {
  if (!ev.node) return;
  let n = state.nodes.find((x) => x.name === ev.node);
  if (!n) {
    n = { name: ev.node, running: true, height: 0, tip: "", peers: 0, share: 0, mining: false };
    state.nodes.push(n);
    const names = state.nodes.map((x) => x.name);
    state.links = [];
    for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) state.links.push({ a: names[i], b: names[j], shape: {} });
    draw(); drawTable();
  }
  switch (ev.kind) {
    case "found": case "block":
      if (ev.height >= n.height || ev.kind === "found") { n.height = ev.height; n.tip = ev.hash; }
      scheduleRefresh();
      break;
    case "stop": case "crash": n.running = false; scheduleRefresh(); break;
    case "start": case "add": n.running = true; scheduleRefresh(); break;
    case "hashrate": n.share = ev.share || 0; scheduleRefresh(); break;
  }
}

function play(events, speed) {
  clearTimeout(replayTimer);
  state.replaying = true;
  state.nodes = []; state.links = []; state.groups = null;
  state.parents.clear(); state.seen.clear(); state.branchColour.clear();
  $("log").replaceChildren();
  draw(); drawTable();
  $("status").textContent = "Replaying " + events.length + " events at " + speed + "×";
  const t0 = events.length ? Date.parse(events[0].t) : 0;
  const start = performance.now();
  let i = 0;
  const tick = () => {
    const now = t0 + (performance.now() - start) * speed;
    while (i < events.length && Date.parse(events[i].t) <= now) apply(events[i++]);
    if (i < events.length) replayTimer = setTimeout(tick, 30);
    else $("status").textContent = "Replay finished: " + events.length + " events";
  };
  tick();
}

function parseRecording(text) {
  const out = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    const ev = JSON.parse(line);
    if (typeof ev !== "object" || !ev || typeof ev.kind !== "string" || isNaN(Date.parse(ev.t))) throw new Error("line " + (i + 1) + ": not an event");
    out.push(ev);
  }
  return out;
}

function wire() {
  $("f-partition").addEventListener("submit", (e) => {
    e.preventDefault();
    control("/partition", { groups: parseGroups($("groups").value) });
  });
  $("heal").addEventListener("click", () => control("/heal"));
  $("f-shape").addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { link: $("link").value.trim() };
    for (const k of ["delay", "jitter", "loss", "bandwidth"]) if ($(k).value.trim()) body[k] = $(k).value.trim();
    control("/shape", body);
  });
  $("f-node").addEventListener("submit", (e) => e.preventDefault());
  for (const b of $("f-node").querySelectorAll("button[data-op]")) {
    b.addEventListener("click", () => {
      const name = $("node").value, op = b.dataset.op;
      if (!name) return;
      let body = {};
      if (op === "mine") body = { blocks: Number($("blocks").value) || 1 };
      if (op === "hashrate") body = { percent: Number($("percent").value) };
      control("/nodes/" + encodeURIComponent(name) + "/" + op, body);
    });
  }
  $("f-replay").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = $("file").files[0];
    const out = $("result");
    if (!f) { out.classList.add("error"); out.textContent = "Choose a recording first"; return; }
    try {
      play(parseRecording(await f.text()), Number($("speed").value) || 1);
      out.classList.remove("error");
      out.textContent = "Replaying " + f.name;
    } catch (err) {
      out.classList.add("error");
      out.textContent = "Not a recording: " + err.message;
    }
  });
  $("replay-recorded").addEventListener("click", async () => {
    const out = $("result");
    out.classList.remove("error");
    out.textContent = "Loading the devnet's recording…";
    try {
      const r = await fetch(API + "/recording");
      const text = await r.text();
      if (!r.ok) throw new Error((() => { try { return JSON.parse(text).error; } catch { return "HTTP " + r.status; } })());
      play(parseRecording(text), Number($("speed").value) || 1);
      out.textContent = "Replaying the devnet's recording";
    } catch (err) {
      out.classList.add("error");
      out.textContent = "Recording not replayed: " + err.message;
    }
  });
  $("live").addEventListener("click", () => {
    clearTimeout(replayTimer);
    state.replaying = false;
    state.parents.clear(); state.seen.clear(); state.branchColour.clear();
    $("log").replaceChildren();
    refresh(); refreshReport();
  });
}

wire();
refresh();
refreshReport();
follow();
setInterval(refresh, 1000);
setInterval(refreshReport, 2000);
