// Package mempool holds the signed transactions that wait for a block.
//
// # Model
//
// Accounts, not coins: a transaction spends from its sender's balance and
// carries the sender's count of earlier transactions as its nonce, so the
// transactions of one sender can only be mined in nonce order with no gap.
// The pool keeps, per sender, a list ordered by nonce, plus a map by id.
// Every pooled nonce is at least the account's nonce in the chain state;
// the run of nonces that starts exactly at the account's nonce is
// executable, anything after a gap waits for the gap to be filled.
//
// # Admission
//
// Cheap checks come first, so what cannot be admitted costs no signature
// verification: consensus.CheckTxSanity, then the duplicate check, then
// the checks against the sender's account that no other transaction can
// change (a nonce already used, ErrNonceTooLow; an amount and fee the
// balance cannot pay even alone, ErrUnfunded with ErrInsufficientFunds),
// then the signature for this network (ZIP-215, the id being the genesis
// hash). Add verifies one signature; AddBatch verifies the signatures of
// a whole batch's candidates with consensus.VerifyTxs on all cores and
// then admits in order. With Config.SigCache (the chain's), a transaction
// whose id is cached is not verified again, and the ids of admitted
// transactions are added, so the block that carries them later is
// validated without their signatures. A flood from unfunded keys is thus refused at the
// cost of a balance lookup each, and ErrUnfunded lets the network charge
// whoever relayed it. Against the sender's account (read from the chain on
// every admission):
//
//   - the nonce must not be below the account's nonce (ErrNonceTooLow) and
//     at most MaxNonceGap above the sender's next executable nonce
//     (ErrNonceGap);
//   - the sender must be able to pay every pooled transaction of its own
//     plus the new one (ErrInsufficientFunds). Counting all pending sends,
//     not only those with lower nonces, keeps the invariant "every prefix of
//     a sender's list is affordable" true whatever order transactions arrive
//     in, so filling a gap can never make a later transaction unpayable, and
//     a double spend between two pending transactions is refused;
//   - a transaction with the nonce of a pooled one replaces it only if its
//     fee is at least MinReplaceFeeBump percent higher (ErrReplacementFee);
//   - a sender holds at most MaxTxsPerSender transactions (ErrSenderLimit).
//
// # Bounds and eviction
//
// The pool holds at most MaxTxs transactions. When it is full, a new
// transaction may evict one other, and only ever the last transaction of a
// sender's list, so eviction never opens a gap. The victim is the last
// transaction of the sender that holds the lowest fee in the pool. That is
// the pool's lowest-fee transaction itself when it ends its sender's list;
// when it sits in the middle, the sender's last transaction goes instead:
// it cannot be mined before the cheap one, so a block builder reaches it at
// the cheap one's priority anyway. The newcomer is measured the same way:
// its effective fee is the lowest of its own fee and the fees of its
// sender's pooled transactions before it, and it evicts only when that is
// strictly higher than the lowest fee in the pool (otherwise ErrPoolFull).
// A sender's next transaction behind its own cheap one therefore cannot
// push that cheap one out.
//
// # Local accounts
//
// The node's own keys are local accounts (SetLocal), as in geth: their
// transactions are exempt from MaxTxsPerSender and never evicted, and a
// local transaction in a full pool evicts a stranger's whatever the fees.
// MaxLocalTxs bounds all local transactions together, so a lab that sends
// thousands of transfers from the node's key is served while strangers
// keep their per-sender bound.
//
// # Block templates
//
// Template orders by fee like geth's price-and-nonce ordering: a heap holds
// each sender's first executable transaction; the highest fee is taken, and
// that sender's next nonce, if pooled, takes its place in the heap. A
// transaction too large for the remaining bytes ends its sender's run (its
// successors cannot go without it) while other senders continue.
//
// # Following the chain
//
// The owner calls BlockConnected and BlockDisconnected for the chain's
// notifications, in order. BlockConnected drops the block's transactions
// and re-checks every touched account: nonces now used and transactions
// no longer affordable leave the pool (the unaffordable ones from the end
// of the sender's list). BlockDisconnected takes the block's transactions
// back, against the chain state at that moment, without checking their
// signatures again (the chain verified them when it connected the block)
// and without the nonce-gap and per-account bounds (MaxTxsPerSender,
// MaxLocalTxs): a reorg announces the tip block's disconnection first, so
// a sender's later nonces arrive before its earlier ones, and a bound
// would keep the later ones and lose the executable ones (a deep reorg
// returns more of one sender's transactions than MaxTxsPerSender). They
// were in blocks of the main chain, paid for in work; MaxTxs still
// bounds the pool. Other failures are ignored. Any admission also re-reads the sender's account,
// so the pool corrects itself even when a notification is still on its
// way.
//
// # Errors and peers
//
// Every refusal is an error that errors.Is can match against the sentinels
// of this package. Where the meaning is a consensus rule's, the sentinel
// also matches it (ErrBadSignature is consensus.ErrBadSignature,
// ErrNonceTooLow and ErrNonceGap are consensus.ErrBadNonce,
// ErrInsufficientFunds is consensus.ErrInsufficientFunds), and sanity
// failures are the consensus.RuleError itself, so consensus.CodeOf works on
// every refusal. A bad signature or a sanity failure proves the sender of
// the message misbehaved. Nonce and balance refusals do not: an honest
// relay whose view of the chain is a block behind or ahead sends them too,
// as it does duplicates, so the network should weigh those lightly.
//
// # Concurrency
//
// A Pool is safe for concurrent use. Signature verification runs without
// the pool's lock; admission, removal and template building hold it
// briefly. Subscribers are called after the lock is released, in
// admission order per call, and may call back into the pool.
package mempool
