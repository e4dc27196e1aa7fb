package mempool

import (
	"fmt"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
)

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
	// ErrUnfunded (which wraps ErrInsufficientFunds, so errors.Is matches both) is returned
	// when the sender's balance at the tip cannot pay the transaction's
	// amount and fee even alone: its sender is on another branch, or is
	// spending what it does not have. It is found before the signature is
	// verified, so such a transaction costs its receiver no verification;
	// the network may charge the peer that relayed it (proportionately:
	// an honest peer on another branch after a reorg sends some).
	ErrUnfunded = &poolError{msg: "insufficient funds: the sender cannot pay this transaction", rule: ErrInsufficientFunds}
	// ErrReplacementFee is returned when a transaction with a pooled
	// sender and nonce does not raise the fee by MinReplaceFeeBump percent.
	ErrReplacementFee = &poolError{msg: "replacement fee too low"}
	// ErrSenderLimit is returned when the sender already has
	// MaxTxsPerSender pooled transactions.
	ErrSenderLimit = &poolError{msg: "too many pending transactions from sender"}
	// ErrLocalLimit is returned when the local accounts (Pool.SetLocal)
	// already have MaxLocalTxs pooled transactions.
	ErrLocalLimit = &poolError{msg: "too many pending transactions from the node's own keys"}
	// ErrPoolFull is returned when the pool is full and the transaction's
	// effective fee does not beat the lowest fee in the pool.
	ErrPoolFull = &poolError{msg: "pool full"}
)

// RefusalError is how Add, AddBatch and re-admission refuse a transaction:
// which one, why (one of the Err values above, or a *consensus.RuleError)
// and the figures behind it. errors.Is matches Reason (and, through it, the
// consensus rule of the same meaning).
type RefusalError struct {
	ID     chain.Hash // zero for a nil transaction
	Reason error
	Detail string // e.g. "nonce 3, account nonce 5"; may be empty
}

// refuse builds a *RefusalError; detail is formatted with args.
func refuse(id chain.Hash, reason error, detail string, args ...any) error {
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	return &RefusalError{ID: id, Reason: reason, Detail: detail}
}

// Error is Message with the package's prefix.
func (e *RefusalError) Error() string { return "mempool: " + e.Message() }

// Message says what was refused and why, for a user: "tx <id>: <reason>:
// <detail>".
func (e *RefusalError) Message() string {
	msg := e.Reason.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.ID.IsZero() {
		return msg
	}
	return "tx " + e.ID.String() + ": " + msg
}

// Unwrap returns Reason.
func (e *RefusalError) Unwrap() error { return e.Reason }
