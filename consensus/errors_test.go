package consensus_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/chaind/chaind/consensus"
)

// allSentinels lists every exported sentinel with its code.
var allSentinels = map[consensus.Code]error{
	consensus.CodeMalformed:         consensus.ErrMalformed,
	consensus.CodeBlockTooBig:       consensus.ErrBlockTooBig,
	consensus.CodeTooManyTxs:        consensus.ErrTooManyTxs,
	consensus.CodeNoCoinbase:        consensus.ErrNoCoinbase,
	consensus.CodeExtraCoinbase:     consensus.ErrExtraCoinbase,
	consensus.CodeBadCoinbase:       consensus.ErrBadCoinbase,
	consensus.CodeBadCoinbaseAmount: consensus.ErrBadCoinbaseAmount,
	consensus.CodeBadMerkleRoot:     consensus.ErrBadMerkleRoot,
	consensus.CodeBadDataHash:       consensus.ErrBadDataHash,
	consensus.CodeBadEncoding:       consensus.ErrBadEncoding,
	consensus.CodeBadVersion:        consensus.ErrBadVersion,
	consensus.CodeBadBits:           consensus.ErrBadBits,
	consensus.CodeBadPoW:            consensus.ErrBadPoW,
	consensus.CodeBadHeight:         consensus.ErrBadHeight,
	consensus.CodeTimeTooOld:        consensus.ErrTimeTooOld,
	consensus.CodeTimeTooNew:        consensus.ErrTimeTooNew,
	consensus.CodeBadSignature:      consensus.ErrBadSignature,
	consensus.CodeBadNonce:          consensus.ErrBadNonce,
	consensus.CodeInsufficientFunds: consensus.ErrInsufficientFunds,
	consensus.CodeOverflow:          consensus.ErrOverflow,
	consensus.CodeZeroAmount:        consensus.ErrZeroAmount,
	consensus.CodeDuplicateTx:       consensus.ErrDuplicateTx,
	consensus.CodeUnknownParent:     consensus.ErrUnknownParent,
	consensus.CodeInvalidAncestor:   consensus.ErrInvalidAncestor,
	consensus.CodeDuplicateBlock:    consensus.ErrDuplicateBlock,
}

func TestRuleErrorIs(t *testing.T) {
	names := map[string]consensus.Code{}
	for code, sentinel := range allSentinels {
		err := &consensus.RuleError{Code: code, Detail: "block 7 says so"}
		wrapped := fmt.Errorf("connect block 7: %w", err)
		if !errors.Is(wrapped, sentinel) {
			t.Errorf("%s: wrapped error does not match its sentinel", code)
		}
		if consensus.CodeOf(wrapped) != code {
			t.Errorf("%s: CodeOf = %s", code, consensus.CodeOf(wrapped))
		}
		for other, s := range allSentinels {
			if other != code && errors.Is(wrapped, s) {
				t.Errorf("%s matches the sentinel of %s", code, other)
			}
		}
		// A detailed error is not a sentinel another error can match.
		if errors.Is(sentinel, err) {
			t.Errorf("%s: the sentinel matches a detailed error", code)
		}
		if got := err.Error(); got != code.String()+": block 7 says so" {
			t.Errorf("Error() = %q", got)
		}
		if prev, dup := names[code.String()]; dup {
			t.Errorf("%s and %s share the name %q", prev, code, code.String())
		}
		names[code.String()] = code
	}
	if len(allSentinels) != int(consensus.CodeDuplicateBlock) {
		t.Errorf("%d sentinels for %d codes", len(allSentinels), consensus.CodeDuplicateBlock)
	}
	if got := consensus.Code(999).String(); got != "rule-999" {
		t.Errorf("unknown code prints %q", got)
	}
}

func TestCodeOfNonRuleErrors(t *testing.T) {
	for _, err := range []error{nil, io.EOF, fmt.Errorf("disk: %w", io.ErrUnexpectedEOF)} {
		if c := consensus.CodeOf(err); c != 0 {
			t.Errorf("CodeOf(%v) = %s, want 0", err, c)
		}
	}
}

func TestPenalty(t *testing.T) {
	// An honest peer can send these: a block whose parent we lack, one we
	// already have, or one ahead of our clock.
	honest := map[consensus.Code]bool{
		consensus.CodeUnknownParent:  true,
		consensus.CodeDuplicateBlock: true,
		consensus.CodeTimeTooNew:     true,
	}
	for code := range allSentinels {
		if got := code.Penalty(); got == honest[code] {
			t.Errorf("%s: Penalty() = %v", code, got)
		}
	}
}
