package api

import (
	"bufio"
	"context"
	"encoding/json"
	"github.com/chaind/chaind/apitypes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/node"
)

// newNetEnv starts a regtest node with peer-to-peer networking on a
// loopback port, connected to peers (other nodes' API URLs).
func newNetEnv(t *testing.T, peers ...string) *testEnv {
	t.Helper()
	nc := node.Config{Params: consensus.Regtest(), DataDir: t.TempDir(), Threads: 1, P2PListen: "127.0.0.1:0", Peers: peers}
	return startEnv(t, nc, Config{})
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

func (e *testEnv) lastBlock() apitypes.Block {
	e.t.Helper()
	var blocks []apitypes.Block
	e.call("GET", "/blocks", nil, http.StatusOK, &blocks)
	return blocks[len(blocks)-1]
}

// TestNaivechainWalkthrough: node2 starts with node1 as its peer, node3
// with node2; /peers on node2 lists two peers; a block mined at node2 with
// /mineBlock is in /blocks of all three within a second; a transaction
// sent at node3 is mined at node1.
func TestNaivechainWalkthroughThreeNodes(t *testing.T) {
	n1 := newNetEnv(t)
	n2 := newNetEnv(t, n1.base)
	n3 := newNetEnv(t, n2.base)

	waitUntil(t, 10*time.Second, "node2 has two peers", func() bool {
		var peers []string
		n2.call("GET", "/peers", nil, http.StatusOK, &peers)
		return len(peers) == 2
	})
	var peers []string
	n2.call("GET", "/peers", nil, http.StatusOK, &peers)
	for _, p := range peers {
		if !strings.HasPrefix(p, "127.0.0.1:") {
			t.Fatalf("/peers should list host:port strings, got %q", peers)
		}
	}

	var mined apitypes.Block
	n2.call("POST", "/mineBlock", map[string]string{"data": "Some data to the first block"}, http.StatusOK, &mined)
	took := waitUntil(t, time.Second, "the block is in /blocks of all three", func() bool {
		for _, n := range []*testEnv{n1, n2, n3} {
			if n.lastBlock().Hash != mined.Hash {
				return false
			}
		}
		return true
	})
	t.Logf("block mined at node2 seen by all three in %v", took)
	if last := n1.lastBlock(); last.Data != "Some data to the first block" {
		t.Fatalf("node1's last block has data %q", last.Data)
	}

	// node3 earns coins, then sends some; node1 mines the transaction.
	n3.call("GET", "/mine", nil, http.StatusOK, nil)
	sender := n3.devAddress()
	var nd apitypes.NodeInfo
	n1.call("GET", "/api/v1/node", nil, http.StatusOK, &nd)
	recipient := nd.WalletAddresses[0]
	waitUntil(t, 5*time.Second, "node1 has node3's block", func() bool {
		var acct apitypes.Account
		n1.call("GET", "/api/v1/accounts/"+sender, nil, http.StatusOK, &acct)
		return acct.Balance > 0
	})
	var sent apitypes.NewTxAnswer
	n3.call("POST", "/transactions/new", map[string]any{"sender": sender, "recipient": recipient, "amount": 1.2345}, http.StatusCreated, &sent)
	waitUntil(t, 5*time.Second, "the transaction reaches node1's mempool", func() bool {
		return n1.n.Pool.Has(sent.ID)
	})
	var forged apitypes.MineAnswer
	n1.call("GET", "/mine", nil, http.StatusOK, &forged)
	found := false
	for _, tx := range forged.Transactions {
		found = found || tx.ID == sent.ID
	}
	if !found {
		t.Fatalf("node1 mined a block without node3's transaction %s", sent.ID)
	}
	waitUntil(t, 5*time.Second, "node3 sees its transaction confirmed", func() bool {
		status, _, raw := n3.request("GET", "/api/v1/txs/"+sent.ID.String(), nil)
		return status == http.StatusOK && strings.Contains(string(raw), `"confirmations"`) && !strings.Contains(string(raw), `"pending":true`)
	})
}

// TestFlaskWalkthroughTwoNodes: two nodes, /nodes/register, blocks mined on one,
// /nodes/resolve on the other ends with equal chains.
func TestFlaskWalkthroughTwoNodes(t *testing.T) {
	a := newNetEnv(t)
	b := newNetEnv(t)
	for i := 0; i < 3; i++ {
		a.call("GET", "/mine", nil, http.StatusOK, nil)
	}
	b.call("GET", "/mine", nil, http.StatusOK, nil)

	var reg apitypes.RegisterAnswer
	b.call("POST", "/nodes/register", map[string]any{"nodes": []string{a.base}}, http.StatusCreated, &reg)
	if reg.Message != "New nodes have been added" || len(reg.TotalNodes) != 1 {
		t.Fatalf("register: %+v", reg)
	}
	var errBody apitypes.Error
	b.call("POST", "/nodes/register", map[string]any{}, http.StatusBadRequest, &errBody)

	var resolved apitypes.ChainAnswer
	b.call("GET", "/nodes/resolve", nil, http.StatusOK, &resolved)
	t.Logf("resolve on b: %s", resolved.Message)
	var chainA, chainB apitypes.ChainAnswer
	a.call("GET", "/chain", nil, http.StatusOK, &chainA)
	b.call("GET", "/chain", nil, http.StatusOK, &chainB)
	if chainA.Length != 4 || chainB.Length != 4 {
		t.Fatalf("chain lengths %d and %d, want 4 (the heavier chain)", chainA.Length, chainB.Length)
	}
	ja, _ := json.Marshal(chainA.Chain)
	jb, _ := json.Marshal(chainB.Chain)
	if string(ja) != string(jb) {
		t.Fatal("the chains differ after /nodes/resolve")
	}
	got := resolved.NewChain
	if resolved.Message == "Our chain is authoritative" {
		got = resolved.Chain // the connect-time sync got there first
	} else if resolved.Message != "Our chain was replaced" {
		t.Fatalf("resolve message %q", resolved.Message)
	}
	if len(got) != 4 || got[3].Hash != chainA.Chain[3].Hash {
		t.Fatalf("resolve answered a chain of %d blocks", len(got))
	}
	a.call("GET", "/nodes/resolve", nil, http.StatusOK, &resolved)
	if resolved.Message != "Our chain is authoritative" {
		t.Fatalf("resolve on the node with the heavier chain: %q", resolved.Message)
	}
}

// TestPeerEvents: a node's event stream reports a peer connecting.
func TestPeerEvents(t *testing.T) {
	n1 := newNetEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", n1.base+"/api/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	if line, err := rd.ReadString('\n'); err != nil || line != ": subscribed\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	n2 := newNetEnv(t, n1.base)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("no peer event: %v", err)
		}
		if line != "event: peer\n" {
			continue
		}
		data, _ := rd.ReadString('\n')
		var ev apitypes.PeerEvent
		if err := json.Unmarshal([]byte(strings.TrimPrefix(data, "data: ")), &ev); err != nil {
			t.Fatalf("peer event data %q: %v", data, err)
		}
		if string(ev.Peer) != n2.n.PeerID() || !ev.Connected {
			t.Fatalf("peer event %+v, want node2 (%s) connected", ev, n2.n.PeerID())
		}
		return
	}
}
