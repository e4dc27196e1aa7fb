// search.js: what the search box's text names. A height, a block hash or
// a transaction id (both 64 hex digits: asked of the node in that order),
// or an address (the node checks its checksum).
import { api, ApiError, blockHref, txHref, addrHref } from "./lib.js";

// search returns {hash} (the page to go to) or {error}.
export async function search(q) {
  try {
    if (/^\d{1,10}$/.test(q)) {
      await api("blocks/" + q);
      return { hash: blockHref(q) };
    }
    if (/^[0-9a-fA-F]{64}$/.test(q)) {
      const id = q.toLowerCase();
      if (await exists("blocks/" + id)) return { hash: blockHref(id) };
      if (await exists("txs/" + id)) return { hash: txHref(id) };
      return { error: "No block or transaction " + id + " on this node (a pending transaction that left the mempool is gone)." };
    }
    await api("accounts/" + encodeURIComponent(q));
    return { hash: addrHref(q) };
  } catch (err) {
    if (err instanceof ApiError) return { error: "Not a height, block hash, transaction id or address of this network: " + err.message };
    return { error: "Could not reach the node: " + err.message };
  }
}

async function exists(path) {
  try {
    await api(path);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return false;
    throw err;
  }
}
