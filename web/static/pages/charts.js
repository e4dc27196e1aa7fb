// Charts: block interval, difficulty and a hash-rate estimate over the
// last N main-chain blocks, with the target block time.
import { h, clear, api, fixed, rate, duration, throttle, mainBlocks } from "../lib.js";
import { lineChart } from "../svg.js";

export const title = "Charts";

// SMOOTH is how many blocks the hash-rate estimate averages over.
const SMOOTH = 10;

export async function render(main, { query }, app) {
  let n = Number(query.get("blocks")) || 100;
  n = Math.min(Math.max(Math.round(n), 10), 1000);
  const pick = h("select", { id: "nblocks" }, [50, 100, 200, 500, 1000].map((v) => h("option", { value: v, selected: v === n }, String(v))));
  pick.addEventListener("change", () => app.go("#/charts?blocks=" + pick.value));
  const body = h("div", {});
  clear(main, h("h1", {}, "Charts"), h("div", { class: "controls" }, h("label", { for: "nblocks" }, "Last blocks "), pick), body);
  async function load() {
    const tree = await api("tree?heights=" + (n + 1));
    const blocks = mainBlocks(tree.blocks);
    const intervals = [], diffs = [], rates = [];
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i];
      diffs.push({ x: b.index, y: b.difficulty });
      if (i === 0) continue;
      intervals.push({ x: b.index, y: b.timestamp - blocks[i - 1].timestamp });
      const j = Math.max(0, i - SMOOTH);
      const span = b.timestamp - blocks[j].timestamp;
      let work = 0;
      for (let k = j + 1; k <= i; k++) work += blocks[k].work;
      if (span > 0) rates.push({ x: b.index, y: work / span });
    }
    const mean = intervals.length ? intervals.reduce((s, p) => s + p.y, 0) / intervals.length : NaN;
    clear(body,
      h("p", {}, "Target block time ", h("strong", { "data-field": "target" }, duration(tree.target_spacing)), "; mean interval of these blocks ",
        h("strong", { "data-field": "mean" }, isFinite(mean) ? duration(mean) : "–"), "."),
      h("section", { "aria-labelledby": "c1" }, h("h2", { id: "c1" }, "Block interval (seconds)"),
        lineChart(intervals, { label: "Block interval in seconds by height, target " + tree.target_spacing + " s", target: tree.target_spacing, fmt: (v) => fixed(v) })),
      h("section", { "aria-labelledby": "c2" }, h("h2", { id: "c2" }, "Difficulty"),
        lineChart(diffs, { label: "Difficulty by height", fmt: fixed })),
      h("section", { "aria-labelledby": "c3" }, h("h2", { id: "c3" }, "Hash rate estimate (work of the last " + SMOOTH + " blocks over their time span)"),
        lineChart(rates, { label: "Estimated network hash rate by height", fmt: rate })));
  }
  await load();
  const refresh = throttle(() => load().catch((err) => clear(body, app.errorBox(err))), 1000);
  return { onEvent: (type) => { if (type === "block" || type === "reorg") refresh(); } };
}
