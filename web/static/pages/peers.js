// Peers: the connected peers with their direction, penalty score and the
// best height each announced.
import { h, clear, api, num, ago, table, throttle } from "../lib.js";

export const title = "Peers";

export async function render(main, _params, app) {
  const body = h("div", {});
  clear(main, h("h1", {}, "Peers"), body);
  async function load() {
    const [p, n] = await Promise.all([api("peers"), api("node")]);
    clear(body,
      h("p", { "data-field": "count" }, num(p.count), " connected peer", p.count === 1 ? "" : "s", "."),
      n.peer_id ? h("p", { class: "muted" }, "This node: ", h("span", { class: "hash" }, n.peer_id)) : h("p", { class: "muted" }, "Networking is off on this node."),
      p.count
        ? table("Peers", [["Id"], ["Address"], ["Direction"], ["Penalty", "num"], ["Best height", "num"], ["Blocks fetched", "num hide-narrow"], ["Connected", "hide-narrow"]],
          p.peers.map((x) => [h("span", { class: "hash" }, x.id), h("span", { class: "mono" }, x.remote), String(x.direction), num(x.penalty),
            num(x.best_height), num(x.blocks_fetched), x.connected_at ? ago(Date.parse(x.connected_at) / 1000) : "–"]))
        : h("p", { class: "muted" }, "No peers. Add one with: chaind run --peer <another node's API URL or multiaddr>"));
  }
  await load();
  const refresh = throttle(() => load().catch((err) => clear(body, app.errorBox(err))), 500);
  const timer = setInterval(refresh, 5000); // best heights and scores change without events
  return { onEvent: (type) => { if (type === "peer") refresh(); }, stop: () => clearInterval(timer) };
}
