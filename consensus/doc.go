// Package consensus holds the rules every chaind node applies: one Params
// value per network (genesis, block time, proof-of-work limit, retarget,
// reward and halving, size limits, clock tolerance), compact targets and
// work, the ASERT difficulty retarget, transaction signatures, and block
// validation in two stages.
//
// CheckBlockSanity runs the context-free checks (encoding bounds, sizes,
// proof of work against the block's own target and the network limit, the
// data and merkle commitments, exactly one coinbase and it first). It is
// cheap and runs before a block is stored or relayed. CheckHeaderContext
// checks a header against its ancestors (height, expected target, median
// time, future limit). VerifySignatures checks a block's signatures; the
// parts of a body that need the parent's state (nonces, balances, the
// coinbase amount) are checked by package state while it applies the
// block.
//
// Every violation is a *RuleError carrying a Code, so callers can tell the
// rules apart (tests, and the network when it scores the peer that sent the
// block) with errors.Is(err, ErrBadPoW) and friends.
//
// # Signatures: ZIP-215
//
// Ed25519 implementations disagree on edge cases: non-canonical encodings
// of points, small-order keys, and whether the check is multiplied by the
// cofactor. A node that verifies one transaction with one rule set and a
// block with another could accept what its peers reject and split from
// the network. This package therefore verifies only with
// github.com/hdevalence/ed25519consensus, which implements ZIP-215 (as used
// by Zcash): the scalar s must be canonical, point encodings need not be,
// and the equation is checked with the cofactor, [8]([s]B - R - [k]A) = 0.
// Under these rules single and batch verification accept exactly the same
// signatures, which is what lets VerifyTxs batch a block's signatures and
// still name the first bad one. The standard library's verifier is never
// used (it is cofactorless and would disagree on crafted signatures).
// A consequence of ZIP-215: a public key of small order signs anything,
// so coins sent to such a key's address can be spent by anyone; no key
// made by package wallet is one.
//
// VerifyTx checks one signature. VerifyTxs spreads a list over
// runtime.GOMAXPROCS(0) goroutines (internal/parallel), each
// batch-verifying a contiguous chunk, and has joined them all when it
// returns; a failed chunk is re-checked one signature at a time. Coinbase
// transactions (zero sender) carry no signature and are skipped.
//
// SigCache remembers the ids of transactions whose signatures verified
// (the mempool adds what it admits), and VerifyTxsCached sends only the
// others to VerifyTxs. The id is SHA-256 of the whole encoding, signature
// and public key included, so it fixes everything the verifier reads for
// one network; a cache is made for one network and ignored for any other.
// It is bounded and evicts the oldest entry first.
package consensus
