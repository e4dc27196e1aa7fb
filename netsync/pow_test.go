package netsync

import (
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
)

// TestPowCheckerAgreesWithConsensus: the header sync's cached proof-of-work
// check accepts and refuses exactly what consensus.CheckProofOfWork does,
// and counts the same work, as bits change from header to header.
func TestPowCheckerAgreesWithConsensus(t *testing.T) {
	p := chaintest.Params(chaintest.Keys(1), 1_000_000_000)
	limitBits := p.PowLimitBits
	bitsList := []uint32{limitBits, limitBits, 0x1d00ffff, limitBits, 0x03000000, 0x2100ffff, 0x1f00ffff, 0x1f00ffff, limitBits - 1}
	var c powChecker
	for i, bits := range bitsList {
		for nonce := uint64(0); nonce < 40; nonce++ {
			h := chain.Header{Version: consensus.BlockVersion, Height: uint32(i + 1), Bits: bits, Nonce: nonce, Timestamp: 1}
			work, err := c.check(&h, h.Hash(), p.PowLimit)
			want := consensus.CheckProofOfWork(&h, p.PowLimit)
			if (err == nil) != (want == nil) {
				t.Fatalf("bits %08x nonce %d: checker says %v, consensus %v", bits, nonce, err, want)
			}
			if err == nil && work.Cmp(consensus.WorkFromBits(bits)) != 0 {
				t.Fatalf("bits %08x: work %s, consensus %s", bits, work, consensus.WorkFromBits(bits))
			}
		}
	}
}
