package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	chaindclient "github.com/chaind/chaind/client"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
)

// TestGenerateThousand: POST /api/v1/generate mines 1,000 regtest blocks
// to a given address in one call, in a few seconds (bitcoind's
// generatetoaddress 1000).
func TestGenerateThousand(t *testing.T) {
	e := newEnv(t, consensus.Regtest(), Config{})
	c := e.apiClient()
	to := e.addr(chaintest.Key(3).Address())
	start := time.Now()
	res, err := c.Generate(context.Background(), 1000, to)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("generate 1000 regtest blocks: %v", took)
	if len(res.Hashes) != 1000 || res.Height != 1000 {
		t.Fatalf("generated %d blocks, height %d", len(res.Hashes), res.Height)
	}
	if took > 30*time.Second {
		t.Fatalf("1,000 blocks took %v", took)
	}
	acct, err := c.Account(context.Background(), to)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1000 * consensus.Regtest().InitialReward; uint64(acct.Balance) != want {
		t.Fatalf("balance %d, want %d", acct.Balance, want)
	}
	last, err := c.Block(context.Background(), "1000")
	if err != nil || last.Hash != res.Hashes[999] {
		t.Fatalf("block 1000: %v", err)
	}
	// Out of range and bad addresses are refused with 400.
	for _, tc := range []struct {
		n  int
		to string
	}{{0, ""}, {10_001, ""}, {1, "reg1notanaddress"}} {
		_, err := c.Generate(context.Background(), tc.n, tc.to)
		if chaindclient.StatusOf(err) != http.StatusBadRequest {
			t.Errorf("generate %d to %q: %v, want 400", tc.n, tc.to, err)
		}
	}
}

// TestFaucet pays from the development key on regtest and is refused on a
// network without one.
func TestFaucet(t *testing.T) {
	e := newEnv(t, consensus.Regtest(), Config{})
	c := e.apiClient()
	ctx := context.Background()
	if _, err := c.Generate(ctx, 1, ""); err != nil {
		t.Fatal(err)
	}
	to := e.addr(chaintest.Key(4).Address())
	paid, err := c.Faucet(ctx, to, 3*consensus.Coin)
	if err != nil {
		t.Fatal(err)
	}
	if paid.From != e.devAddress() || paid.Address != to || uint64(paid.Amount) != 3*consensus.Coin {
		t.Fatalf("faucet answer %+v", paid)
	}
	info, err := c.Node(ctx)
	if err != nil || info.Faucet != e.devAddress() {
		t.Fatalf("node info faucet %q, %v", info.Faucet, err)
	}
	if _, err := c.Generate(ctx, 1, ""); err != nil {
		t.Fatal(err)
	}
	acct, err := c.Account(ctx, to)
	if err != nil || uint64(acct.Balance) != 3*consensus.Coin {
		t.Fatalf("recipient: %+v %v", acct, err)
	}
	for _, amount := range []uint64{0, 1 << 62} {
		_, err := c.Faucet(ctx, to, amount)
		var ce *chaindclient.Error
		if !errors.As(err, &ce) || ce.Status/100 != 4 {
			t.Errorf("faucet %d: %v, want a 4xx", amount, err)
		}
	}

	m := newEnv(t, consensus.Mainnet(), Config{})
	_, err = m.apiClient().Faucet(ctx, m.addr(chaintest.Key(1).Address()), 1)
	if chaindclient.StatusOf(err) != http.StatusNotFound {
		t.Fatalf("faucet on a network without one: %v, want 404", err)
	}
}

// TestManyLocalSends: a lab sends 2,000 transfers from the node's own key
// through /transactions/new one after another; all are accepted (the
// node's keys are local to its pool) and then mined.
func TestManyLocalSends(t *testing.T) {
	e := newEnv(t, consensus.Regtest(), Config{})
	c := e.apiClient()
	ctx := context.Background()
	if _, err := c.Generate(ctx, 1, ""); err != nil {
		t.Fatal(err)
	}
	dev, to := e.devAddress(), e.addr(chaintest.Key(5).Address())
	const sends = 2000
	for i := range sends {
		if _, err := c.SendFromNode(ctx, dev, to, "0.001", ""); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	mp, err := c.Mempool(ctx, 1)
	if err != nil || mp.Size != sends {
		t.Fatalf("mempool size %d, %v; want %d", mp.Size, err, sends)
	}
	if _, err := c.Generate(ctx, 1, ""); err != nil {
		t.Fatal(err)
	}
	acct, err := c.Account(ctx, to)
	if err != nil || uint64(acct.Balance) != sends*consensus.Coin/1000 {
		t.Fatalf("recipient %+v %v", acct, err)
	}
}

// TestBigProofThroughTheAPI: a block whose proof is above 2^53 (another
// miner's, say) reaches every route exactly: as a string in the native
// and tutorial views, which keep their shapes; the spec check of every
// answer (jsSafe) finds no integer a JavaScript client would change.
func TestBigProofThroughTheAPI(t *testing.T) {
	e := newEnv(t, consensus.Regtest(), Config{})
	tip := e.n.Chain.Tip()
	p := e.n.Params()
	b := chaintest.Unsolved(chaintest.Spec{Parent: &tip.Header, Miner: chaintest.Key(1).Address(), Reward: p.Reward(1),
		Time: tip.Header.Timestamp + 1})
	target, _ := consensus.CompactToBig(b.Header.Bits)
	for b.Header.Nonce = 9223372036854776176; consensus.HashToBig(b.Hash()).Cmp(target) > 0; b.Header.Nonce++ {
	}
	if _, err := e.n.Chain.ProcessBlock(b, blockchain.Requested); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`"proof":"%d"`, b.Header.Nonce)
	for _, path := range []string{"/api/v1/blocks/1", "/blocks", "/chain"} {
		status, _, raw := e.request("GET", path, nil)
		if status != http.StatusOK || !strings.Contains(string(raw), want) {
			t.Fatalf("GET %s: %d, no %s in %.300s", path, status, want, raw)
		}
	}
	got, err := e.apiClient().Block(context.Background(), "1")
	if err != nil || uint64(got.Proof) != b.Header.Nonce {
		t.Fatalf("the Go client reads proof %d, %v; want %d", got.Proof, err, b.Header.Nonce)
	}
}
