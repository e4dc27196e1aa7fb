// Transaction: pending or confirmed, its block, amount, fee, nonce, memo,
// sender and recipient.
import { h, clear, api, num, coins, blockHref, hashLink, addrLink, fields, badge, throttle } from "../lib.js";

export const title = "Transaction";

export async function render(main, { arg }, app) {
  const body = h("div", {});
  clear(main, h("h1", {}, "Transaction"), body);
  let status = "";
  async function load() {
    const d = await api("txs/" + encodeURIComponent(arg));
    const t = d.tx;
    status = d.status;
    clear(body,
      fields([
        ["Status", badge(d.status), "status"],
        ["Id", h("span", { class: "hash" }, t.id), "id"],
        ["Block", d.block ? [hashLink(blockHref(d.block), d.block, true)] : h("span", { class: "muted" }, "not yet in a block"), "block"],
        ["Height", d.height !== undefined ? h("a", { href: blockHref(d.height) }, num(d.height)) : "–", "height"],
        ["Position in block", d.index !== undefined ? String(d.index) : "–", "index"],
        ["Confirmations", num(d.confirmations), "confirmations"],
        ["From", t.sender === "0" ? h("span", { class: "muted" }, "coinbase (new coins and fees)") : addrLink(t.sender, true), "sender"],
        ["To", addrLink(t.recipient, true), "recipient"],
        ["Amount", coins(t.amount), "amount"],
        ["Fee", coins(t.fee), "fee"],
        ["Nonce", String(t.nonce), "nonce"],
        ["Memo", t.memo ? h("span", { class: "note" }, t.memo) : h("span", { class: "muted" }, "(none)"), "memo"],
        ["Public key", t.public_key ? h("span", { class: "hash" }, t.public_key) : "–", "public_key"],
        ["Signature", t.signature ? h("span", { class: "hash" }, t.signature) : "–", "signature"],
      ]));
  }
  await load();
  const refresh = throttle(() => load().catch((err) => clear(body, app.errorBox(err))), 300);
  return { onEvent: (type) => { if (type !== "tx" && type !== "peer") refresh(); } };
}
