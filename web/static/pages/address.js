// Address: balance, spendable, nonce, what is pending in the mempool, and
// the full history of what it sent and received, newest first, a page at
// a time (from the node's address index).
import { h, clear, api, num, coins, time, ago, blockHref, txHref, hashLink, addrLink, fields, table, badge, throttle } from "../lib.js";

export const title = "Address";

const PAGE = 25;

export async function render(main, { arg, query }, app) {
  const before = query.get("before");
  const body = h("div", {});
  clear(main, h("h1", {}, "Address"), body);
  async function load() {
    const [acct, hist, pool] = await Promise.all([
      api("accounts/" + encodeURIComponent(arg)),
      api("addresses/" + encodeURIComponent(arg) + "/txs?limit=" + PAGE + (before ? "&before=" + encodeURIComponent(before) : "")),
      api("mempool?limit=1000"),
    ]);
    const pending = pool.txs.filter((t) => t.sender === acct.address || t.recipient === acct.address);
    const direction = (e) => (e.sent && e.received ? "self" : e.sent ? "out" : "in");
    clear(body,
      h("p", { class: "hash", "data-field": "address" }, acct.address),
      fields([
        ["Balance", coins(acct.balance), "balance"],
        ["Spendable", coins(acct.spendable), "spendable"],
        ["Nonce", String(acct.nonce), "nonce"],
        ["Pending sends", num(acct.pending_count) + (acct.pending_count ? " (" + coins(acct.pending_spend) + ")" : ""), "pending"],
        ["Next nonce", String(acct.next_nonce), "next_nonce"],
      ]),
      h("h2", {}, "Pending in the mempool"),
      pending.length
        ? table("Pending transactions", [["Id"], ["Direction"], ["Counterparty"], ["Amount", "num"], ["Fee", "num"]],
          pending.map((t) => {
            const out = t.sender === acct.address;
            return [hashLink(txHref(t.id), t.id), badge(out ? "out" : "in", "pending"), addrLink(out ? t.recipient : t.sender), coins(t.amount), coins(t.fee)];
          }))
        : h("p", { class: "muted", "data-field": "no-pending" }, "Nothing pending."),
      h("h2", {}, "History"),
      hist.txs.length
        ? table("History", [["Height", "num"], ["Time", "hide-narrow"], ["Id"], ["Direction"], ["Counterparty"], ["Amount", "num"], ["Fee", "num hide-narrow"]],
          hist.txs.map((e) => [
            h("a", { href: blockHref(e.block) }, num(e.height)),
            h("span", { title: time(e.timestamp) }, ago(e.timestamp)),
            hashLink(txHref(e.id), e.id),
            badge(e.coinbase ? "mined" : direction(e), e.sent ? "side" : "main"),
            e.coinbase ? h("span", { class: "muted" }, "coinbase") : addrLink(e.counterparty),
            (e.sent && !e.received ? "−" : "+") + coins(e.amount),
            e.sent ? coins(e.fee) : "–",
          ]), "history")
        : h("p", { class: "muted", "data-field": "no-history" }, before ? "No older transactions." : "No transactions in the main chain yet."),
      h("nav", { class: "pager", "aria-label": "History pages" },
        before ? h("a", { href: "#/address/" + encodeURIComponent(arg) }, "← Newest") : null,
        hist.next ? h("a", { href: "#/address/" + encodeURIComponent(arg) + "?before=" + encodeURIComponent(hist.next) }, "Older →") : null));
  }
  await load();
  const refresh = throttle(() => load().catch((err) => clear(body, app.errorBox(err))), 300);
  return { onEvent: (type) => { if (type !== "peer" && type !== "block-accepted") refresh(); } };
}
