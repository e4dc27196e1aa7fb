// Blocks: the main chain, newest first, a page at a time; the first page
// follows new blocks as they arrive.
import { h, clear, api, num, ago, time, blockHref, hashLink, addrLink, table, throttle } from "../lib.js";

export const title = "Blocks";

const PAGE = 20;

export async function render(main, { query }, app) {
  const from = query.get("from");
  if (from !== null && !/^\d{1,10}$/.test(from)) throw new Error("from: want a height");
  const body = h("div", {});
  clear(main, h("h1", {}, "Blocks"), body);
  async function load() {
    const page = await api("blocks?order=desc&limit=" + PAGE + (from !== null ? "&from=" + from : ""));
    const top = page.blocks.length ? page.blocks[0].index : 0;
    clear(body,
      h("p", { class: "muted" }, "Main chain, newest first. Tip at height ", num(page.tip), "."),
      table("Blocks", [["Height", "num"], ["Hash"], ["Time"], ["Txs", "num"], ["Size", "num hide-narrow"], ["Miner", "hide-narrow"], ["Data", "hide-narrow"]],
        page.blocks.map((b) => [
          h("a", { href: blockHref(b.index) }, num(b.index)),
          hashLink(blockHref(b.hash), b.hash),
          h("span", { title: time(b.timestamp) }, ago(b.timestamp)),
          num(b.tx_count),
          num(b.size) + " B",
          b.miner ? addrLink(b.miner) : h("span", { class: "muted" }, "genesis"),
          h("span", { class: "note" }, b.data.length > 40 ? b.data.slice(0, 40) + "…" : b.data),
        ])),
      h("nav", { class: "pager", "aria-label": "Block pages" },
        from !== null ? h("a", { href: "#/blocks" }, "← Newest") : null,
        from !== null && top + PAGE <= page.tip ? h("a", { href: "#/blocks?from=" + (top + PAGE) }, "← Newer") : null,
        page.next !== undefined ? h("a", { href: "#/blocks?from=" + page.next }, "Older →") : null));
  }
  await load();
  const refresh = throttle(() => load().catch((err) => clear(body, app.errorBox(err))), 250);
  return {
    // Only the first page moves with the tip; older pages change on reorgs.
    onEvent: (type) => {
      if ((from === null && type === "block") || type === "reorg" || type === "block-disconnected") refresh();
    },
  };
}
