// Fork tree: every block the node knows in the last N heights, on every
// branch, drawn as a tree: the main chain on the first row, stale side
// branches and invalid blocks below, each box a link to its block. It
// redraws as blocks, side blocks and reorgs arrive.
import { h, clear, api, num, blockHref, hashLink, table, badge, throttle, treeStatus } from "../lib.js";
import { s } from "../svg.js";

export const title = "Fork tree";

const COL = 78, BOX_W = 56, BOX_H = 30, ROW = 46, PAD = 16;

// layout gives each block a lane: the main chain lane 0, a side block its
// parent's lane when it is the parent's first side child, else the lowest
// lane free from its parent's height on.
export function layout(blocks) {
  const byHash = new Map(blocks.map((b) => [b.hash, b]));
  const lane = new Map();
  const continued = new Set();
  const laneEnd = [Infinity]; // last height used per lane; lane 0 is the main chain's
  for (const b of blocks) {
    if (b.main_chain) { lane.set(b.hash, 0); continue; }
    const p = byHash.get(b.previous_hash);
    if (p && lane.get(p.hash) > 0 && !continued.has(p.hash)) {
      continued.add(p.hash);
      const l = lane.get(p.hash);
      lane.set(b.hash, l);
      laneEnd[l] = b.index;
      continue;
    }
    if (p) continued.add(p.hash);
    const start = p ? p.index : b.index - 1;
    let l = 1;
    while (l < laneEnd.length && laneEnd[l] >= start) l++;
    laneEnd[l] = b.index;
    lane.set(b.hash, l);
  }
  return lane;
}

function draw(tree, tipHashes) {
  const blocks = tree.blocks;
  const lane = layout(blocks);
  const lanes = Math.max(1, ...[...lane.values()].map((l) => l + 1));
  const heights = tree.to - tree.from + 1;
  const W = PAD * 2 + heights * COL, H = PAD * 2 + lanes * ROW;
  const x = (b) => PAD + (b.index - tree.from) * COL;
  const y = (b) => PAD + lane.get(b.hash) * ROW;
  const byHash = new Map(blocks.map((b) => [b.hash, b]));
  const svg = s("svg", { class: "tree", viewBox: `0 0 ${W} ${H}`, width: W, role: "group", "aria-label": "Block tree from height " + tree.from + " to " + tree.to });
  for (const b of blocks) {
    const p = byHash.get(b.previous_hash);
    if (!p && b.index === 0) continue; // genesis has no parent
    const x2 = x(b), y2 = y(b) + BOX_H / 2;
    const x1 = p ? x(p) + BOX_W : x2 - (COL - BOX_W), y1 = p ? y(p) + BOX_H / 2 : y2;
    svg.append(s("path", { class: "edge", d: `M${x1},${y1} C${x1 + 10},${y1} ${x2 - 10},${y2} ${x2},${y2}` }));
  }
  for (const b of blocks) {
    const st = treeStatus(b);
    const label = `height ${b.index}, ${st === "main" ? "main chain" : st}${tipHashes.has(b.hash) ? ", branch tip" : ""}, ${b.hash}`;
    svg.append(s("a", { href: blockHref(b.hash), class: st + (tipHashes.has(b.hash) ? " tip" : ""), "data-hash": b.hash, "data-status": st, "aria-label": label },
      s("title", {}, label),
      s("rect", { x: x(b), y: y(b), width: BOX_W, height: BOX_H }),
      s("text", { class: "label", x: x(b) + BOX_W / 2, y: y(b) + BOX_H / 2 + 4.5, "text-anchor": "middle" }, String(b.index))));
  }
  return svg;
}

export async function render(main, { query }, app) {
  let heights = Number(query.get("heights")) || 20;
  heights = Math.min(Math.max(Math.round(heights), 2), 200);
  const pick = h("select", { id: "heights" }, [10, 20, 50, 100, 200].map((n) => h("option", { value: n, selected: n === heights }, String(n))));
  pick.addEventListener("change", () => app.go("#/forks?heights=" + pick.value));
  const body = h("div", {});
  clear(main, h("h1", {}, "Fork tree"),
    h("div", { class: "controls" }, h("label", { for: "heights" }, "Heights shown "), pick),
    h("p", { class: "legend" }, h("span", { class: "main" }, "main chain"), h("span", { class: "stale" }, "stale (valid, not on the main chain)"),
      h("span", { class: "invalid" }, "invalid")),
    body);
  async function load() {
    const [tree, tips] = await Promise.all([api("tree?heights=" + heights), api("chaintips?limit=100")]);
    const tipHashes = new Set(tips.tips.map((t) => t.hash));
    const inWindow = tips.tips.filter((t) => t.height >= tree.from);
    const branches = new Set(inWindow.map((t) => t.hash)).size;
    clear(body,
      h("p", { "data-field": "summary" }, num(tree.blocks.length), " blocks at heights ", num(tree.from), "–", num(tree.to), " on ", num(branches),
        " branch", branches === 1 ? "" : "es", tree.truncated ? " (truncated)" : "", "."),
      h("div", { class: "table-wrap" }, draw(tree, tipHashes)),
      h("h2", {}, "Branch tips"),
      table("Branch tips", [["Status"], ["Height", "num"], ["Branch length", "num"], ["Fork height", "num"], ["Tip"]],
        tips.tips.map((t) => [badge(t.status), num(t.height), num(t.branchlen), num(t.fork_height), hashLink(blockHref(t.hash), t.hash)])));
  }
  await load();
  const refresh = throttle(() => load().catch((err) => clear(body, app.errorBox(err))), 300);
  return { onEvent: (type) => { if (type !== "tx" && type !== "peer") refresh(); } };
}
