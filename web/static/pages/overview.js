// The overview: where the chain is, how fast it grows, how the node is doing.
import { h, clear, api, num, fixed, rate, duration, ago, time, blockHref, hashLink, addrLink, table, throttle, mainStats } from "../lib.js";

export const title = "Overview";

// STATS_HEIGHTS is how many recent heights the interval and hash-rate
// estimates average over.
const STATS_HEIGHTS = 30;

export async function render(main, _params, app) {
  const body = h("div", {});
  clear(main, h("h1", {}, "Overview"), body);
  async function load() {
    const [st, tree, recent] = await Promise.all([
      api("status"),
      api("tree?heights=" + STATS_HEIGHTS),
      api("blocks?limit=8"),
    ]);
    const stats = mainStats(tree.blocks);
    const sync = st.sync || {};
    const behind = Math.max(0, (sync.target_height || 0) - st.height);
    const syncText = behind > 0
      ? `${num(st.height)} of ${num(sync.target_height)} (${(100 * st.height / sync.target_height).toFixed(1)}%)` +
        (sync.eta > 0 ? ", ETA " + duration(sync.eta / 1e9) : "")
      : "in step with peers";
    const card = (term, value, key) => h("div", {}, h("dt", {}, term), h("dd", { "data-field": key }, value));
    clear(body,
      h("dl", { class: "cards" },
        card("Height", h("a", { href: blockHref(st.height) }, num(st.height)), "height"),
        card("Tip", hashLink(blockHref(st.tip), st.tip), "tip"),
        card("Tip time", ago(st.tip_time), "tip-age"),
        card("Difficulty", fixed(st.difficulty), "difficulty"),
        card("Hash rate (estimate)", rate(stats.hashrate), "hashrate"),
        card("Block interval (last " + stats.count + ")", isFinite(stats.interval) ? duration(stats.interval) : "–", "interval"),
        card("Target interval", duration(tree.target_spacing), "target"),
        card("Peers", h("a", { href: "#/peers" }, num(st.peers)), "peers"),
        card("Mempool", h("a", { href: "#/mempool" }, num(st.mempool_size) + " tx"), "mempool"),
        card("Sync", syncText, "sync"),
        card("Mining", st.mining ? "yes, " + rate(st.hashrate) : "no", "mining"),
        card("Network", st.network, "network")),
      behind > 0 ? h("progress", { class: "progress", max: sync.target_height, value: st.height, "aria-label": "sync progress" }) : null,
      h("h2", {}, "Latest blocks"),
      table("Latest blocks", [["Height", "num"], ["Hash"], ["Time"], ["Txs", "num"], ["Miner", "hide-narrow"]],
        recent.blocks.map((b) => [
          h("a", { href: blockHref(b.index) }, num(b.index)),
          hashLink(blockHref(b.hash), b.hash),
          h("span", { title: time(b.timestamp) }, ago(b.timestamp)),
          num(b.tx_count),
          b.miner ? addrLink(b.miner) : h("span", { class: "muted" }, "genesis"),
        ])),
      h("p", {}, h("a", { href: "#/blocks" }, "All blocks →")));
  }
  await load();
  const refresh = throttle(() => load().catch((err) => clear(body, app.errorBox(err))), 300);
  const timer = setInterval(refresh, 5000); // sync progress and tip age move without events
  return {
    onEvent: refresh,
    stop: () => clearInterval(timer),
  };
}
