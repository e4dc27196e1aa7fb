// Package apitypes is the presentation of chaind's HTTP API: the JSON
// views of blocks and transactions, the answers of every route, the event
// stream's names and payloads, and the error body. The API server writes
// these values, the Go client (package client) reads them, and the node's
// peer-by-URL resolver reads NodeInfo, so a change to a shape is one change
// seen by all three.
//
// The views keep the tutorials' field names where they fit: index, hash,
// previous_hash, timestamp, data, proof (the nonce), transactions, sender,
// recipient, amount. Amounts are integers in base units (1 coin = 10^8).
//
// # Numbers and JavaScript
//
// Every 64-bit integer of an answer (amounts, fees, nonces, balances,
// proofs) is a Uint64: written as a JSON number while it is at most
// MaxSafeInteger (2^53-1, the largest integer a JavaScript number holds
// exactly) and as a decimal string above it, so no client that parses JSON
// into doubles ever sees a changed value. Uint64 reads both forms.
//
// This package depends only on chain: it is light enough for any client.
package apitypes
