package blockchain_test

import (
	"encoding/hex"
	"testing"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
)

// TestRuleVectors offers each committed rule vector on top of the base chain
// and checks the exact rule it breaks.
func TestRuleVectors(t *testing.T) {
	base, vectors, err := chaintest.LoadVectors()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			bc := newChain(t, chaintest.VectorParams())
			mustProcess(t, bc, base...)
			tipBefore := bc.Tip()
			raw, err := hex.DecodeString(v.Block)
			if err != nil {
				t.Fatal(err)
			}
			var code consensus.Code
			b, err := chain.DecodeBlock(raw)
			if err != nil {
				code = consensus.CodeMalformed
			} else {
				var res blockchain.Result
				res, err = bc.ProcessBlock(b, blockchain.Requested)
				code = consensus.CodeOf(err)
				if err != nil && code == 0 {
					t.Fatalf("not a rule error: %v", err)
				}
				if res.Orphan {
					// An outcome, not an error; the vectors name it by its code.
					if err != nil {
						t.Fatalf("orphan with an error: %v", err)
					}
					code = consensus.CodeUnknownParent
				}
			}
			got := ""
			if code != 0 {
				got = code.String()
			}
			if got != v.Code {
				t.Fatalf("got %q (%v), want %q", got, err, v.Code)
			}
			if v.Code != "" && bc.Tip().Hash != tipBefore.Hash {
				t.Fatal("a rejected block moved the tip")
			}
		})
	}
}
