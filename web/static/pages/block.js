// Block: every header field, the data note, where the block stands (main
// chain, side branch, invalid) and its transactions.
import { h, clear, api, num, time, ago, coins, blockHref, txHref, hashLink, addrLink, fields, table, badge, throttle } from "../lib.js";

export const title = "Block";

export async function render(main, { arg }, app) {
  const body = h("div", {});
  clear(main, h("h1", {}, "Block"), body);
  async function load() {
    const b = await api("blocks/" + encodeURIComponent(arg));
    const status = b.status || (b.invalid ? "invalid" : b.main_chain ? "main" : "side");
    const statusText = { main: "main chain", side: "side branch (stale)", invalid: "invalid" }[status];
    const h1 = main.querySelector("h1");
    h1.textContent = "Block " + num(b.index);
    clear(body,
      fields([
        ["Status", badge(statusText, status), "status"],
        ["Height", num(b.index), "height"],
        ["Hash", h("span", { class: "hash" }, b.hash), "hash"],
        ["Previous block", b.index > 0 ? hashLink(blockHref(b.previous_hash), b.previous_hash, true) : h("span", { class: "hash" }, b.previous_hash), "previous_hash"],
        ["Confirmations", num(b.confirmations), "confirmations"],
        ["Time", [time(b.timestamp), h("span", { class: "muted" }, " (" + ago(b.timestamp) + ")")], "timestamp"],
        ["Version", String(b.version), "version"],
        ["Merkle root", h("span", { class: "hash" }, b.merkle_root), "merkle_root"],
        ["Target bits", h("span", { class: "mono" }, b.bits), "bits"],
        ["Proof (nonce)", String(b.proof), "proof"],
        ["Data hash", b.data_hash ? h("span", { class: "hash" }, b.data_hash) : "–", "data_hash"],
        ["Data note", b.data ? h("span", { class: "note" }, b.data) : h("span", { class: "muted" }, "(none)"), "data"],
        ["Size", num(b.size) + " bytes", "size"],
        ["Transactions", num(b.transactions.length), "tx_count"],
      ]),
      h("nav", { class: "pager", "aria-label": "Neighbouring blocks" },
        b.index > 0 ? h("a", { href: blockHref(b.previous_hash) }, "← Previous") : null,
        status === "main" && b.confirmations > 1 ? h("a", { href: blockHref(b.index + 1) }, "Next →") : null),
      h("h2", {}, "Transactions"),
      table("Transactions of the block", [["#", "num"], ["Id"], ["From"], ["To"], ["Amount", "num"], ["Fee", "num"], ["Memo", "hide-narrow"]],
        b.transactions.map((t, i) => [
          String(i),
          hashLink(txHref(t.id), t.id),
          addrLink(t.sender),
          addrLink(t.recipient),
          coins(t.amount),
          coins(t.fee),
          h("span", { class: "note" }, t.memo || ""),
        ])));
  }
  await load();
  const refresh = throttle(() => load().catch((err) => clear(body, app.errorBox(err))), 300);
  return { onEvent: (type) => { if (type !== "tx" && type !== "peer") refresh(); } };
}
