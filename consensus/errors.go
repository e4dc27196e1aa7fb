package consensus

import (
	"errors"
	"fmt"
)

// Code names one consensus rule.
type Code int

// The rules. Each RuleError carries one of these; the Err* values below
// match with errors.Is.
const (
	CodeMalformed         Code = iota + 1 // the bytes are not a canonical encoding
	CodeBlockTooBig                       // encoded block larger than Params.MaxBlockSize
	CodeTooManyTxs                        // more transactions than Params.MaxBlockTxs
	CodeNoCoinbase                        // first transaction is not a coinbase, or no transactions
	CodeExtraCoinbase                     // a coinbase after the first transaction
	CodeBadCoinbase                       // coinbase fields wrong (nonce is not the height, fee or signature set)
	CodeBadCoinbaseAmount                 // coinbase pays other than reward + fees
	CodeBadMerkleRoot                     // header merkle root does not match the transactions
	CodeBadDataHash                       // header data hash does not match the data note
	CodeBadEncoding                       // data note or memo is not valid UTF-8
	CodeBadVersion                        // unknown header version
	CodeBadBits                           // target bits malformed, above the limit, or not the expected retarget
	CodeBadPoW                            // block hash above its target
	CodeBadHeight                         // height is not parent height + 1
	CodeTimeTooOld                        // timestamp not after the median of the last blocks
	CodeTimeTooNew                        // timestamp too far ahead of the local clock
	CodeBadSignature                      // a transaction signature does not verify
	CodeBadNonce                          // a transaction nonce is not the sender's next nonce
	CodeInsufficientFunds                 // sender cannot pay amount + fee
	CodeOverflow                          // an amount, fee or balance overflows
	CodeZeroAmount                        // a transfer of zero
	CodeDuplicateTx                       // the same transaction twice in one block
	CodeUnknownParent                     // parent block not known (an outcome, not a violation: blockchain reports Result.Orphan)
	CodeInvalidAncestor                   // builds on a block known to be invalid
	CodeDuplicateBlock                    // block already known (an outcome: blockchain reports Result.Duplicate)
)

var codeNames = map[Code]string{
	CodeMalformed:         "malformed",
	CodeBlockTooBig:       "block-too-big",
	CodeTooManyTxs:        "too-many-txs",
	CodeNoCoinbase:        "no-coinbase",
	CodeExtraCoinbase:     "extra-coinbase",
	CodeBadCoinbase:       "bad-coinbase",
	CodeBadCoinbaseAmount: "bad-coinbase-amount",
	CodeBadMerkleRoot:     "bad-merkle-root",
	CodeBadDataHash:       "bad-data-hash",
	CodeBadEncoding:       "bad-encoding",
	CodeBadVersion:        "bad-version",
	CodeBadBits:           "bad-bits",
	CodeBadPoW:            "bad-pow",
	CodeBadHeight:         "bad-height",
	CodeTimeTooOld:        "time-too-old",
	CodeTimeTooNew:        "time-too-new",
	CodeBadSignature:      "bad-signature",
	CodeBadNonce:          "bad-nonce",
	CodeInsufficientFunds: "insufficient-funds",
	CodeOverflow:          "overflow",
	CodeZeroAmount:        "zero-amount",
	CodeDuplicateTx:       "duplicate-tx",
	CodeUnknownParent:     "unknown-parent",
	CodeInvalidAncestor:   "invalid-ancestor",
	CodeDuplicateBlock:    "duplicate-block",
}

// String returns the rule's short name, e.g. "bad-pow".
func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("rule-%d", int(c))
}

// RuleError is a violation of a consensus rule.
type RuleError struct {
	Code   Code
	Detail string
}

func (e *RuleError) Error() string { return e.Code.String() + ": " + e.Detail }

// Is matches any RuleError with the same code, so errors.Is(err, ErrBadPoW)
// works through wrapping.
func (e *RuleError) Is(target error) bool {
	t, ok := target.(*RuleError)
	return ok && t.Code == e.Code && t.Detail == ""
}

// Penalty reports whether the rule proves the sender misbehaved, as opposed
// to a block that is merely early (unknown parent), already known, or
// ahead of our clock, which an honest peer can send.
func (c Code) Penalty() bool {
	switch c {
	case CodeUnknownParent, CodeDuplicateBlock, CodeTimeTooNew:
		return false
	}
	return true
}

func ruleErr(c Code, format string, args ...any) error {
	return &RuleError{Code: c, Detail: fmt.Sprintf(format, args...)}
}

// Sentinels for errors.Is; each matches every RuleError with its code.
var (
	ErrMalformed         = &RuleError{Code: CodeMalformed}
	ErrBlockTooBig       = &RuleError{Code: CodeBlockTooBig}
	ErrTooManyTxs        = &RuleError{Code: CodeTooManyTxs}
	ErrNoCoinbase        = &RuleError{Code: CodeNoCoinbase}
	ErrExtraCoinbase     = &RuleError{Code: CodeExtraCoinbase}
	ErrBadCoinbase       = &RuleError{Code: CodeBadCoinbase}
	ErrBadCoinbaseAmount = &RuleError{Code: CodeBadCoinbaseAmount}
	ErrBadMerkleRoot     = &RuleError{Code: CodeBadMerkleRoot}
	ErrBadDataHash       = &RuleError{Code: CodeBadDataHash}
	ErrBadEncoding       = &RuleError{Code: CodeBadEncoding}
	ErrBadVersion        = &RuleError{Code: CodeBadVersion}
	ErrBadBits           = &RuleError{Code: CodeBadBits}
	ErrBadPoW            = &RuleError{Code: CodeBadPoW}
	ErrBadHeight         = &RuleError{Code: CodeBadHeight}
	ErrTimeTooOld        = &RuleError{Code: CodeTimeTooOld}
	ErrTimeTooNew        = &RuleError{Code: CodeTimeTooNew}
	ErrBadSignature      = &RuleError{Code: CodeBadSignature}
	ErrBadNonce          = &RuleError{Code: CodeBadNonce}
	ErrInsufficientFunds = &RuleError{Code: CodeInsufficientFunds}
	ErrOverflow          = &RuleError{Code: CodeOverflow}
	ErrZeroAmount        = &RuleError{Code: CodeZeroAmount}
	ErrDuplicateTx       = &RuleError{Code: CodeDuplicateTx}
	ErrUnknownParent     = &RuleError{Code: CodeUnknownParent}
	ErrInvalidAncestor   = &RuleError{Code: CodeInvalidAncestor}
	ErrDuplicateBlock    = &RuleError{Code: CodeDuplicateBlock}
)

// CodeOf returns the rule code of err, or 0 when err is not a RuleError.
func CodeOf(err error) Code {
	var re *RuleError
	if errors.As(err, &re) {
		return re.Code
	}
	return 0
}

// withDetailPrefix returns a RuleError like err (which must be one) with a
// prefix on its detail, e.g. the index of the offending transaction.
func withDetailPrefix(err error, format string, args ...any) error {
	var re *RuleError
	if !errors.As(err, &re) {
		return err
	}
	return &RuleError{Code: re.Code, Detail: fmt.Sprintf(format, args...) + re.Detail}
}
