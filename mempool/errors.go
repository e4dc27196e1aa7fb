package mempool

import "github.com/chaind/chaind/consensus"

// poolError is a refusal sentinel. When the refusal means the same as a
// consensus rule, rule is that rule's sentinel and errors.Is matches both.
type poolError struct {
	msg  string
	rule error
}

func (e *poolError) Error() string { return e.msg }

// Unwrap returns the consensus rule with the same meaning, or nil.
func (e *poolError) Unwrap() error { return e.rule }

// Refusals. Each error returned by Add, AddBatch or re-admission wraps one
// of these or a *consensus.RuleError from consensus.CheckTxSanity.
var (
	// ErrNilTx is returned for a nil transaction.
	ErrNilTx = &poolError{msg: "nil transaction", rule: consensus.ErrMalformed}
	// ErrDuplicate is returned when the pool already holds the transaction.
	ErrDuplicate = &poolError{msg: "already in the pool"}
	// ErrBadSignature is returned when the signature does not verify for
	// this network (a transaction signed for another network lands here).
	ErrBadSignature = &poolError{msg: "bad signature", rule: consensus.ErrBadSignature}
	// ErrNonceTooLow is returned when the nonce is below the sender's
	// account nonce: it was used already.
	ErrNonceTooLow = &poolError{msg: "nonce too low", rule: consensus.ErrBadNonce}
	// ErrNonceGap is returned when the nonce is more than MaxNonceGap above
	// the sender's next executable nonce.
	ErrNonceGap = &poolError{msg: "nonce too far ahead", rule: consensus.ErrBadNonce}
	// ErrInsufficientFunds is returned when the sender cannot pay the
	// transaction together with its other pooled transactions.
	ErrInsufficientFunds = &poolError{msg: "insufficient funds", rule: consensus.ErrInsufficientFunds}
	// ErrUnfunded is returned, always together with ErrInsufficientFunds,
	// when the sender's balance at the tip cannot pay the transaction's
	// amount and fee even alone: its sender is on another branch, or is
	// spending what it does not have. It is found before the signature is
	// verified, so such a transaction costs its receiver no verification;
	// the network may charge the peer that relayed it (proportionately:
	// an honest peer on another branch after a reorg sends some).
	ErrUnfunded = &poolError{msg: "sender cannot pay this transaction"}
	// ErrReplacementFee is returned when a transaction with a pooled
	// sender and nonce does not raise the fee by MinReplaceFeeBump percent.
	ErrReplacementFee = &poolError{msg: "replacement fee too low"}
	// ErrSenderLimit is returned when the sender already has
	// MaxTxsPerSender pooled transactions.
	ErrSenderLimit = &poolError{msg: "too many pending transactions from sender"}
	// ErrPoolFull is returned when the pool is full and the transaction's
	// effective fee does not beat the lowest fee in the pool.
	ErrPoolFull = &poolError{msg: "pool full"}
)
