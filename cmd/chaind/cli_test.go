package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/client"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
)

// cli runs the chaind binary with args and returns its stdout and stderr;
// a failed command fails the test.
func cli(t *testing.T, args ...string) (string, string) {
	t.Helper()
	out, errOut, err := cliErr(args...)
	if err != nil {
		t.Fatalf("chaind %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out, errOut
}

func cliErr(args ...string) (string, string, error) {
	cmd := exec.Command(chaindBin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// cliJSON runs a reading command with --json and decodes its output.
func cliJSON(t *testing.T, out any, args ...string) {
	t.Helper()
	stdout, _ := cli(t, append(args, "--json")...)
	if err := json.Unmarshal([]byte(stdout), out); err != nil {
		t.Fatalf("chaind %s --json: %v\n%s", strings.Join(args, " "), err, stdout)
	}
}

// TestCLIAgainstNode drives a regtest node through the CLI: generate 1,000
// blocks to an address, read them back with block, tx, account, status,
// mempool and peers (text and --json), pay from the faucet, and print the
// version and a completion script.
func TestCLIAgainstNode(t *testing.T) {
	n := startNode(t, "--network", "regtest", "--datadir", t.TempDir(), "--mine=false", "--p2p", "")
	api := []string{"--api", n.api}
	to := chain.FormatAddress("reg", chaintest.Key(1).Address())

	start := time.Now()
	out, _ := cli(t, append([]string{"generate", "1000", "--to", to}, api...)...)
	took := time.Since(start)
	t.Logf("chaind generate 1000 on regtest: %v", took)
	hashes := strings.Fields(out)
	if len(hashes) != 1000 {
		t.Fatalf("generate printed %d hashes", len(hashes))
	}
	if took > 30*time.Second {
		t.Fatalf("generate 1000 took %v", took)
	}

	var acct apitypes.Account
	cliJSON(t, &acct, append([]string{"account", to}, api...)...)
	if want := 1000 * consensus.Regtest().InitialReward; uint64(acct.Balance) != want || acct.Address != to {
		t.Fatalf("account %+v, want balance %d", acct, want)
	}
	text, _ := cli(t, append([]string{"account", to}, api...)...)
	if !strings.Contains(text, "balance     50000 coins") || !strings.Contains(text, "1000:0  "+hashesTx(t, n.api, 1000)+"  mined") {
		t.Fatalf("account text:\n%s", text)
	}
	// History, newest first, across the API's pages of 100.
	var hist struct {
		History []apitypes.HistoryItem `json:"history"`
		More    bool                   `json:"more_history"`
	}
	cliJSON(t, &hist, append([]string{"account", to, "--limit", "150"}, api...)...)
	if len(hist.History) != 150 || !hist.More || hist.History[0].Height != 1000 || hist.History[149].Height != 851 || !hist.History[0].Coinbase {
		t.Fatalf("history: %d items, more %v, first %+v", len(hist.History), hist.More, hist.History[0])
	}

	var b apitypes.BlockDetail
	cliJSON(t, &b, append([]string{"block", "1000"}, api...)...)
	if b.Hash.String() != hashes[999] || !b.MainChain || len(b.Transactions) != 1 {
		t.Fatalf("block 1000: %+v", b)
	}
	cliJSON(t, &b, append([]string{"block", hashes[0]}, api...)...)
	if b.Index != 1 || b.Confirmations != 1000 {
		t.Fatalf("block by hash: index %d, %d confirmations", b.Index, b.Confirmations)
	}
	var tx apitypes.TxDetail
	cliJSON(t, &tx, append([]string{"tx", b.Transactions[0].ID.String()}, api...)...)
	if tx.Status != apitypes.TxConfirmed || tx.Tx.Recipient != to || *tx.Height != 1 {
		t.Fatalf("tx: %+v", tx)
	}

	// The faucet pays from the node's development key; the payment shows
	// in the mempool, then in the account once mined.
	payee := chain.FormatAddress("reg", chaintest.Key(2).Address())
	out, _ = cli(t, append([]string{"generate", "1"}, api...)...)
	fid, _ := cli(t, append([]string{"faucet", payee, "2.5"}, api...)...)
	var mp apitypes.Mempool
	cliJSON(t, &mp, append([]string{"mempool"}, api...)...)
	if mp.Size != 1 || mp.Txs[0].ID.String() != strings.TrimSpace(fid) {
		t.Fatalf("mempool %+v, want the faucet's %s", mp, fid)
	}
	cli(t, append([]string{"generate", "1"}, api...)...)
	cliJSON(t, &acct, append([]string{"account", payee}, api...)...)
	if uint64(acct.Balance) != 250_000_000 {
		t.Fatalf("faucet payee balance %d", acct.Balance)
	}
	cliJSON(t, &hist, append([]string{"account", payee}, api...)...)
	if len(hist.History) != 1 || hist.More || !hist.History[0].Received || hist.History[0].ID.String() != strings.TrimSpace(fid) ||
		hist.History[0].Counterparty != nodeInfo(t, n).Faucet {
		t.Fatalf("payee history %+v", hist)
	}
	cliJSON(t, &tx, append([]string{"tx", strings.TrimSpace(fid)}, api...)...)
	if tx.Status != apitypes.TxConfirmed || tx.Tx.Memo != "faucet" {
		t.Fatalf("faucet tx: %+v", tx)
	}

	var st apitypes.Status
	cliJSON(t, &st, append([]string{"status"}, api...)...)
	if st.Height != 1002 || st.Network != "regtest" {
		t.Fatalf("status %+v", st)
	}
	var ps apitypes.Peers
	cliJSON(t, &ps, append([]string{"peers"}, api...)...)
	if ps.Count != 0 || ps.Peers == nil {
		t.Fatalf("peers %+v", ps)
	}

	// Errors carry the node's message.
	_, errOut, err := cliErr(append([]string{"block", "99999"}, api...)...)
	if err == nil || !strings.Contains(errOut, "no block at height 99999") {
		t.Fatalf("block 99999: %v %s", err, errOut)
	}
	_, errOut, err = cliErr(append([]string{"generate", "0"}, api...)...)
	if err == nil || !strings.Contains(errOut, "not a number of blocks") {
		t.Fatalf("generate 0: %v %s", err, errOut)
	}

	var v struct {
		Version, Commit, Go, Network, Genesis string
	}
	cliJSON(t, &v, "version", "--network", "regtest")
	if v.Genesis != consensus.Regtest().GenesisHash().String() || !strings.HasPrefix(v.Go, "go") || v.Version == "" {
		t.Fatalf("version %+v", v)
	}
	comp, _ := cli(t, "completion", "bash")
	if !strings.Contains(comp, "__start_chaind") {
		t.Fatalf("completion bash printed no completion function")
	}
}

// TestVersionStamped builds with -ldflags and sees the stamp in chaind
// version and in the node's /api/v1/node.
func TestVersionStamped(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "chaind")
	build := exec.Command("go", "build", "-o", bin, "-ldflags", "-X github.com/chaind/chaind/internal/version.Version=v9.8.7 -X github.com/chaind/chaind/internal/version.Commit=abcdef123456", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.Contains(string(out), "chaind v9.8.7 (commit abcdef123456)") {
		t.Fatalf("version: %v\n%s", err, out)
	}
}

// TestWalletTrap: "chaind wallet new" without --datadir writes into the
// default node's keystore; the next "chaind run" must start and mine as
// before (to the development key), with or without the passphrase, and
// the command says where the key went and what the node will do.
func TestWalletTrap(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("CHAIND_PASSPHRASE", "")
	os.Unsetenv("CHAIND_PASSPHRASE")
	n := startNode(t, "--network", "regtest", "--p2p", "")
	n.waitHeight(t, 3, 60*time.Second)
	devAddr := nodeInfo(t, n).MinerAddress
	n.cmd.Process.Kill()
	n.cmd.Wait()

	cmd := exec.Command(chaindBin, "wallet", "new", "--network", "regtest")
	cmd.Env = append(os.Environ(), "CHAIND_PASSPHRASE=correct horse")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("wallet new: %v\n%s", err, errOut.String())
	}
	newAddr := strings.TrimSpace(out.String())
	keystore := filepath.Join(home, ".chaind", "regtest", "keystore")
	for _, want := range []string{keystore, "default regtest node", "keeps mining to its development key " + devAddr, "--miner-address " + newAddr} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("wallet new does not say %q:\n%s", want, errOut.String())
		}
	}

	// Without the passphrase: starts, mines to the development key, and
	// /transactions/new still signs for it.
	n = startNode(t, "--network", "regtest", "--p2p", "")
	info := nodeInfo(t, n)
	if info.MinerAddress != devAddr {
		t.Fatalf("node mines to %s after wallet new, want the development key %s", info.MinerAddress, devAddr)
	}
	h, _ := n.status(t)
	n.waitHeight(t, h+3, 60*time.Second)
	c := client.New(n.api)
	if _, err := c.SendFromNode(context.Background(), devAddr, newAddr, "1", ""); err != nil {
		t.Fatalf("/transactions/new from the development key: %v", err)
	}
	n.cmd.Process.Kill()
	n.cmd.Wait()

	// With the passphrase: still the development key, and the new key
	// signs too.
	t.Setenv("CHAIND_PASSPHRASE", "correct horse")
	n = startNode(t, "--network", "regtest", "--p2p", "")
	info = nodeInfo(t, n)
	if info.MinerAddress != devAddr || len(info.WalletAddresses) != 2 {
		t.Fatalf("with the passphrase: miner %s, keys %v", info.MinerAddress, info.WalletAddresses)
	}
	h, _ = n.status(t)
	n.waitHeight(t, h+2, 60*time.Second)
	ctx := context.Background()
	c = client.New(n.api)
	if _, err := c.SendFromNode(ctx, devAddr, newAddr, "1", ""); err != nil {
		t.Fatalf("/transactions/new from the development key: %v", err)
	}
}

func nodeInfo(t *testing.T, p *proc) *apitypes.NodeInfo {
	t.Helper()
	info, err := client.New(p.api).Node(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// hashesTx returns the id of the coinbase of the block at height.
func hashesTx(t *testing.T, api string, height int) string {
	t.Helper()
	b, err := client.New(api).Block(context.Background(), fmt.Sprint(height))
	if err != nil {
		t.Fatal(err)
	}
	return b.Transactions[0].ID.String()
}
