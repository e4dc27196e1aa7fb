package state_test

import (
	"errors"
	"math"
	"math/rand"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/state"
)

func snapshot(s *state.State) *state.State {
	c := state.New()
	s.ForEach(func(a chain.Address, acct state.Account) { c.Set(a, acct) })
	return c
}

func TestApplyUndoIsExact(t *testing.T) {
	keys := chaintest.Keys(5)
	p := chaintest.Params(keys, 1_000_000)
	br := chaintest.NewBranch(p, keys)
	rng := rand.New(rand.NewSource(1))
	s := snapshot(br.State)
	var undos []*state.Undo
	var snaps []*state.State
	for i := 0; i < 20; i++ {
		b := br.Next(br.RandomTxs(rng, 1+rng.Intn(10)), chaintest.Spec{})
		snaps = append(snaps, snapshot(s))
		u, err := s.ApplyBlock(b, p.Reward(b.Header.Height))
		if err != nil {
			t.Fatal(err)
		}
		undos = append(undos, u)
	}
	if ok, diff := s.Equal(br.State); !ok {
		t.Fatal(diff)
	}
	for i := len(undos) - 1; i >= 0; i-- {
		s.UndoBlock(undos[i])
		if ok, diff := s.Equal(snaps[i]); !ok {
			t.Fatalf("undo of block %d: %s", i+1, diff)
		}
	}
}

func TestFailedBlockChangesNothing(t *testing.T) {
	keys := chaintest.Keys(3)
	p := chaintest.Params(keys, 1_000)
	g := p.Genesis()
	k0, k1, k2 := keys[0], keys[1], keys[2]
	for _, tc := range []struct {
		name string
		txs  []*chain.Tx
		cb   uint64 // coinbase amount beyond reward + fees
		want error
	}{
		{"bad nonce", []*chain.Tx{chaintest.Tx(p, k0, k1.Address(), 10, 0, 1)}, 0, consensus.ErrBadNonce},
		{"second tx overspends", []*chain.Tx{
			chaintest.Tx(p, k0, k1.Address(), 600, 0, 0),
			chaintest.Tx(p, k0, k2.Address(), 600, 0, 1)}, 0, consensus.ErrInsufficientFunds},
		{"fee makes it unaffordable", []*chain.Tx{chaintest.Tx(p, k0, k1.Address(), 1000, 1, 0)}, 0, consensus.ErrInsufficientFunds},
		{"amount overflows", []*chain.Tx{chaintest.Tx(p, k0, k1.Address(), math.MaxUint64, 1, 0)}, 0, consensus.ErrOverflow},
		{"coinbase too big", []*chain.Tx{chaintest.Tx(p, k0, k1.Address(), 10, 3, 0)}, 1, consensus.ErrBadCoinbaseAmount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := state.New()
			if _, err := s.ApplyGenesis(g); err != nil {
				t.Fatal(err)
			}
			before := snapshot(s)
			b := chaintest.Unsolved(chaintest.Spec{Parent: &g.Header, Miner: k2.Address(), Txs: tc.txs, Reward: p.Reward(1)})
			b.Txs[0].Amount += tc.cb
			_, err := s.ApplyBlock(b, p.Reward(1))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if ok, diff := s.Equal(before); !ok {
				t.Fatalf("a refused block changed the state: %s", diff)
			}
		})
	}
}

func TestRecipientBalanceOverflow(t *testing.T) {
	keys := chaintest.Keys(2)
	p := chaintest.Params(nil, 0)
	p.Allocations = []consensus.Allocation{{Address: keys[0].Address(), Amount: 100}, {Address: keys[1].Address(), Amount: math.MaxUint64 - 5}}
	g := p.Genesis()
	s := state.New()
	if _, err := s.ApplyGenesis(g); err != nil {
		t.Fatal(err)
	}
	b := chaintest.Unsolved(chaintest.Spec{Parent: &g.Header, Miner: keys[0].Address(), Reward: 0,
		Txs: []*chain.Tx{chaintest.Tx(p, keys[0], keys[1].Address(), 10, 0, 0)}})
	if _, err := s.ApplyBlock(b, 0); !errors.Is(err, consensus.ErrOverflow) {
		t.Fatalf("got %v, want overflow", err)
	}
}

func TestUndoEncoding(t *testing.T) {
	u := &state.Undo{Prior: []state.Change{
		{Address: chain.Address{1}, Account: state.Account{Balance: 5, Nonce: 2}},
		{Address: chain.Address{2}},
	}}
	got, err := state.DecodeUndo(u.Encode())
	if err != nil || len(got.Prior) != 2 || got.Prior[0] != u.Prior[0] || got.Prior[1] != u.Prior[1] {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	enc := u.Encode()
	for _, bad := range [][]byte{nil, enc[:3], enc[:len(enc)-1], append(enc, 0)} {
		if _, err := state.DecodeUndo(bad); err == nil {
			t.Errorf("DecodeUndo accepted %d bytes", len(bad))
		}
	}
	if _, err := state.DecodeAccount(make([]byte, 15)); err == nil {
		t.Error("DecodeAccount accepted 15 bytes")
	}
}

func FuzzDecodeUndo(f *testing.F) {
	f.Add((&state.Undo{Prior: []state.Change{{Address: chain.Address{9}, Account: state.Account{Balance: 1}}}}).Encode())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := state.DecodeUndo(b)
		if err != nil {
			return
		}
		if string(u.Encode()) != string(b) {
			t.Fatal("decoded undo does not re-encode to its input")
		}
	})
}
