package consensus_test

import (
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
)

// headerContext returns a devnet parent at height 10 on schedule from its
// anchor, its context with median time median, and a valid child header
// timestamped median+1, checked at the parent's time.
func headerContext(p *consensus.Params, median uint32) (*chain.Header, consensus.ParentContext, time.Time) {
	const parentTime = 1_800_000_000
	anchor := &chain.Header{Height: consensus.AnchorHeight, Timestamp: parentTime - 9, Bits: 0x1f00ffff}
	parent := &chain.Header{Height: 10, Timestamp: parentTime, Bits: 0x1f00ffff}
	pc := consensus.ParentContext{Parent: parent, Anchor: anchor, MedianTime: median, GrandparentTime: parentTime - 1}
	h := &chain.Header{
		Version:   consensus.BlockVersion,
		Height:    parent.Height + 1,
		PrevHash:  parent.Hash(),
		Timestamp: median + 1,
		Bits:      consensus.NextBits(p, pc),
	}
	return h, pc, time.Unix(parentTime, 0)
}

func TestCheckHeaderContext(t *testing.T) {
	p := consensus.Devnet()
	const median = 1_800_000_000 - 5
	h, pc, now := headerContext(p, median)
	if err := consensus.CheckHeaderContext(p, h, pc, now); err != nil {
		t.Fatalf("valid header refused: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(h *chain.Header, now *time.Time)
		want   error
	}{
		{"height repeats the parent's", func(h *chain.Header, _ *time.Time) { h.Height-- }, consensus.ErrBadHeight},
		{"height skips one", func(h *chain.Header, _ *time.Time) { h.Height++ }, consensus.ErrBadHeight},
		{"bits harder than the retarget", func(h *chain.Header, _ *time.Time) { h.Bits-- }, consensus.ErrBadBits},
		{"bits easier than the retarget", func(h *chain.Header, _ *time.Time) { h.Bits = 0x207fffff }, consensus.ErrBadBits},
		{"timestamp at the median", func(h *chain.Header, _ *time.Time) { h.Timestamp = median }, consensus.ErrTimeTooOld},
		{"timestamp before the median", func(h *chain.Header, _ *time.Time) { h.Timestamp = median - 100 }, consensus.ErrTimeTooOld},
		{"timestamp zero", func(h *chain.Header, _ *time.Time) { h.Timestamp = 0 }, consensus.ErrTimeTooOld},
		{"timestamp past the future limit", func(h *chain.Header, now *time.Time) {
			h.Timestamp = uint32(now.Unix() + p.MaxFutureTime + 1)
		}, consensus.ErrTimeTooNew},
		{"clock behind the median", func(h *chain.Header, now *time.Time) {
			*now = time.Unix(int64(median)-p.MaxFutureTime-1, 0)
		}, consensus.ErrTimeTooNew},
	}
	for _, tc := range cases {
		h, pc, now := headerContext(p, median)
		tc.mutate(h, &now)
		err := consensus.CheckHeaderContext(p, h, pc, now)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// The future limit itself is allowed.
	h, pc, now = headerContext(p, median)
	h.Timestamp = uint32(now.Unix() + p.MaxFutureTime)
	if err := consensus.CheckHeaderContext(p, h, pc, now); err != nil {
		t.Errorf("timestamp exactly MaxFutureTime ahead: %v", err)
	}
}

func TestCheckHeaderContextNoRetarget(t *testing.T) {
	p := consensus.Regtest()
	h, pc, now := headerContext(p, 1_800_000_000-5)
	if h.Bits != pc.Parent.Bits {
		t.Fatalf("regtest expects bits %08x, parent has %08x", h.Bits, pc.Parent.Bits)
	}
	if err := consensus.CheckHeaderContext(p, h, pc, now); err != nil {
		t.Fatal(err)
	}
	h.Bits = p.PowLimitBits
	if err := consensus.CheckHeaderContext(p, h, pc, now); !errors.Is(err, consensus.ErrBadBits) {
		t.Fatalf("regtest header with other bits than its parent's: %v", err)
	}
}

func TestMedianTime(t *testing.T) {
	cases := []struct {
		in   []uint32
		want uint32
	}{
		{nil, 0},
		{[]uint32{7}, 7},
		{[]uint32{5, 1}, 5},
		{[]uint32{3, 1, 2}, 2},
		{[]uint32{10, 20, 30, 40}, 30},
		{[]uint32{11, 3, 9, 1, 7, 5, 2, 10, 4, 8, 6}, 6},
		{[]uint32{100, 100, 100, 1, 1, 1, 100, 1, 100, 1, 1}, 1},
		{[]uint32{4294967295, 0, 4294967295}, 4294967295},
	}
	for _, tc := range cases {
		in := slices.Clone(tc.in)
		if got := consensus.MedianTime(in); got != tc.want {
			t.Errorf("MedianTime(%v) = %d, want %d", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("MedianTime reordered its input %v", tc.in)
		}
	}
}

// stateCodes are the rules that need the parent's account state, checked
// when a block is connected, after every stage this package runs.
var stateCodes = []string{
	consensus.CodeBadNonce.String(),
	consensus.CodeInsufficientFunds.String(),
	consensus.CodeBadCoinbaseAmount.String(),
}

// TestRuleVectorStages runs the committed rule vectors through the checks
// of this package in the order a node applies them (decode, sanity,
// header context, signatures) and checks that each vector is refused by
// the stage that owns its rule, with its code, and that the vectors left
// over are exactly the valid one and those whose rule needs account state.
func TestRuleVectorStages(t *testing.T) {
	p := chaintest.VectorParams()
	base, vectors, err := chaintest.LoadVectors()
	if err != nil {
		t.Fatal(err)
	}
	headers := []*chain.Header{&p.Genesis().Header}
	for _, b := range base {
		headers = append(headers, &b.Header)
	}
	tip := headers[len(headers)-1]
	var times []uint32
	for _, h := range headers[max(0, len(headers)-consensus.MedianTimeBlocks):] {
		times = append(times, h.Timestamp)
	}
	pc := consensus.ParentContext{Parent: tip, Anchor: headers[consensus.AnchorHeight], MedianTime: consensus.MedianTime(times)}
	now := time.Unix(int64(tip.Timestamp), 0)

	stage := func(v chaintest.Vector) (string, error) {
		raw, err := hex.DecodeString(v.Block)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		b, err := chain.DecodeBlock(raw)
		if err != nil {
			if !errors.Is(err, chain.ErrMalformed) {
				t.Fatalf("%s: decode error does not wrap ErrMalformed: %v", v.Name, err)
			}
			return "decode", consensus.ErrMalformed
		}
		if err := consensus.CheckBlockSanity(p, b); err != nil {
			return "sanity", err
		}
		if b.Header.PrevHash != tip.Hash() {
			return "parent lookup", consensus.ErrUnknownParent
		}
		if err := consensus.CheckHeaderContext(p, &b.Header, pc, now); err != nil {
			return "header context", err
		}
		if err := consensus.VerifySignatures(p, b.Txs); err != nil {
			return "signatures", err
		}
		return "state", nil
	}
	refusedAt := map[string]int{}
	for _, v := range vectors {
		where, err := stage(v)
		refusedAt[where]++
		if err != nil {
			if got := consensus.CodeOf(err); got.String() != v.Code {
				t.Errorf("%s: refused at %s with %v, want %s", v.Name, where, err, v.Code)
			}
			continue
		}
		if v.Code != "" && !slices.Contains(stateCodes, v.Code) {
			t.Errorf("%s: passed every stage of this package, but breaks %s", v.Name, v.Code)
		}
	}
	for _, where := range []string{"decode", "sanity", "parent lookup", "header context", "signatures", "state"} {
		if refusedAt[where] == 0 {
			t.Errorf("no vector reaches the %s stage", where)
		}
	}
	t.Logf("vectors per stage: %v", refusedAt)
}
