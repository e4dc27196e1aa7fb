// Mempool: the pending transactions, highest fee first (the order a miner
// takes them).
import { h, clear, api, num, coins, txHref, hashLink, addrLink, table, throttle } from "../lib.js";

export const title = "Mempool";

export async function render(main, _params, app) {
  const body = h("div", {});
  clear(main, h("h1", {}, "Mempool"), body);
  async function load() {
    const m = await api("mempool?limit=200");
    clear(body,
      h("p", { "data-field": "size" }, num(m.size), " pending transaction", m.size === 1 ? "" : "s", ", highest fee first",
        m.truncated ? " (the first " + num(m.txs.length) + " shown)" : "", "."),
      table("Pending transactions", [["Fee", "num"], ["Id"], ["From"], ["To"], ["Amount", "num"], ["Nonce", "num hide-narrow"], ["Memo", "hide-narrow"]],
        m.txs.map((t) => [coins(t.fee), hashLink(txHref(t.id), t.id), addrLink(t.sender), addrLink(t.recipient), coins(t.amount), String(t.nonce),
          h("span", { class: "note" }, t.memo || "")])));
  }
  await load();
  const refresh = throttle(() => load().catch((err) => clear(body, app.errorBox(err))), 300);
  return { onEvent: (type) => { if (type === "tx" || type === "block" || type === "block-disconnected") refresh(); } };
}
