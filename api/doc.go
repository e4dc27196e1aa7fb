// Package api is chaind's HTTP JSON API: the native, versioned routes under
// /api/v1, the request and response shapes of the two tutorials chaind grew
// from, a Server-Sent Events stream of chain events, /healthz and
// /metrics. It uses net/http's ServeMux patterns and nothing else.
//
// # Routes
//
// Native (amounts are integers in base units; 1 coin = 10^8):
//
//	GET  /api/v1/status            network, genesis, height, tip, total work, difficulty, peers, mempool size, hash rate
//	GET  /api/v1/blocks            a page of block summaries (see Paging)
//	GET  /api/v1/blocks/{id}       one block by height (decimal) or hash (64 hex), with confirmations and main-chain flag
//	GET  /api/v1/txs/{id}          a transaction: its block, height and confirmations, or status "pending"
//	POST /api/v1/txs               one signed transaction (a JSON object) or a batch (a JSON array)
//	GET  /api/v1/accounts/{addr}   balance, nonce, pending count and spend, next nonce
//	GET  /api/v1/mempool           size and the pooled transactions (at most ?limit=, MaxMempoolList)
//	GET  /api/v1/node              network, version, peer id, listen addresses, the node's wallet addresses
//	GET  /api/v1/events            Server-Sent Events: block, block-accepted, tx, reorg, block-disconnected, peer
//	GET  /api/v1/tree              every known block (all branches) in a window of heights: parent, status, main-chain flag
//	GET  /api/v1/addresses/{addr}/txs  the address's main-chain transactions, newest first (?limit=, ?before= cursor)
//	GET  /api/v1/chaintips         the tip of every branch: height, branch length, fork height, status (as getchaintips)
//	GET  /api/v1/peers, POST /api/v1/peers
//	POST /api/v1/generate          mine N blocks now to an address (bitcoind's generatetoaddress)
//	POST /api/v1/faucet            pay from the development key (development networks only)
//	GET  /api/v1/openapi.json      the OpenAPI 3.1 description of every route
//	GET  /healthz, GET /metrics
//	GET  /, GET /explorer/...      the web explorer (package web), with a strict Content-Security-Policy
//
// The shapes of every answer are package apitypes'; package client is the
// Go client. openapi.json (embedded) describes every route, how a client
// signs a transaction, and a signing test vector; the tests validate every
// request they make and every answer they get against it.
//
// The tutorials' routes keep their shapes: GET /blocks (the chain as an
// array), POST /mineBlock {"data"}, GET /peers, POST /addPeer {"peer"}
// (naivechain); GET /mine, POST /transactions/new {"sender", "recipient",
// "amount"}, GET /chain ({"chain", "length"}), POST /nodes/register,
// GET /nodes/resolve (the Flask tutorial). /transactions/new speaks the
// tutorial's unit: {"amount": 5} moves 5 coins (the native routes count
// base units); the node's own keys are local to its mempool, so a lab can
// send thousands of transfers from them in a row. GET /blocks and GET /chain are
// written block by block with periodic flushes, so the whole chain is never
// held in memory; they cover the main chain from genesis to the tip as it
// was when the request arrived. /transactions/new signs with the node's
// own key for "sender" (node.Send); a sender the node has no key for is
// refused with 403, and a client that holds its own key signs the
// transaction itself and posts it to /api/v1/txs.
//
// # Paging
//
// GET /api/v1/blocks takes limit (1..MaxBlocksPage, default
// DefaultBlocksPage), from (a height at most the tip's) and order (asc or
// desc). With neither from nor order it lists the newest blocks first,
// starting at the tip. With from and no order it lists ascending from
// from. The answer carries "next": the from of the following page in the
// same order, absent at the end of the chain.
//
// # Transaction batches
//
// POST /api/v1/txs with a JSON array submits up to MaxTxBatch signed
// transactions at once through node.SubmitTxs, which verifies their
// signatures in parallel. The answer is 200 with one result per
// transaction, in order: its id and accepted, or an error (and the rule's
// code when a rule refused it). A malformed body refuses the whole batch;
// a transaction whose fields are well-typed but wrong (a bad address
// checksum, bad hex) is refused alone.
//
// # Errors
//
// Every error is a JSON object {"error": "what is wrong"} (plus "code"
// when a consensus or mempool rule refused something). Bad input is a 4xx:
// 400 for malformed or invalid requests, 401 without a needed token, 403
// for a sender the node holds no key for or a Host the node is not served as, 404 for unknown things and
// routes, 405 for a wrong method, 409 for conflicts with the pool or chain
// (duplicates, nonces, replacement fees), 413 for bodies or batches over
// their bounds, 415 for a body that is not application/json, 422 for
// transactions that break a rule (bad signature, insufficient funds),
// 503 when the pool is full, networking is off, too many event streams
// are open or the node is at a bound (see Limits); 429 for a client over
// its own limits. A 500 means a bug or a storage
// failure; handler panics are recovered, logged and answered 500.
//
// JSON bodies are decoded strictly: unknown fields, trailing data, wrong
// types, invalid UTF-8 and numbers that are negative, fractional or
// overflow 64 bits are refused, and amounts never pass through float64.
//
// # Authentication
//
// Every request's Host header is checked against the names the node is
// served as (geth's --http.vhosts): localhost, the bind address's host,
// Config.Hosts, and any IP literal; "*" turns the check off. A web page
// whose own name was rebound to the node's address sends its name and is
// refused with 403 on every route (DNS rebinding).
//
// When Config.RequireToken is set (the node serves the API beyond
// loopback, or runs a network other than devnet and regtest), the routes
// that mine, spend the node's coins or change its peers need
// "Authorization: Bearer <credential>", compared in constant time, where
// the credential is Config.Token (the data directory's api.token) or
// Config.Cookie (the .cookie file the node rewrites at each start, which
// the chaind command line reads by itself). Submitting an already-signed
// transaction spends nobody's coins but its signer's, so POST /api/v1/txs
// stays open (and rate limited per client). Cross-origin browser requests
// to state-changing routes are refused (http.CrossOriginProtection, and a
// Sec-Fetch-Site check for GET /mine), so a web page cannot make a local
// node mine or spend.
//
// # Limits
//
// No client can starve the others (see Limits; a client is a remote IP
// address). The listener caps connections per client and in all, the
// default total kept under the process's descriptor limit with room for
// peers and the store; at the cap the connection idle the longest is
// closed for the new one. Each client has a bound on requests in flight
// (429 beyond it, with Retry-After). The whole-chain routes (GET /blocks,
// GET /chain, GET /nodes/resolve) are bounded in concurrency per client
// and in all (503 when the node is at its bound) and share a byte-bounded
// cache of block encodings. Event streams are bounded per client (and in
// all by the node); a stream whose client stops reading fills a small
// send buffer, meets StreamWriteTimeout and is dropped. Transaction
// submissions are rate limited per client (a token bucket of
// transactions; a batch is refused before it is decoded when the client
// has no tokens left), and batches are bounded in concurrency per client
// and in all.
//
// # Metrics
//
// The server registers chaind_api_request_duration_seconds, a histogram by
// route pattern and status code, on the node's registry; unmatched
// requests are labelled "unmatched", so raw paths never become labels.
package api
