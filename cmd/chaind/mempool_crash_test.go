package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand"
	"net/http"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/client"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
)

// Kills of the mempool crash test.
const (
	mempoolKillsShort = 5
	mempoolKillsLong  = 100 // with CHAIND_LONG=1
)

// postTx asks the node to sign and pool a transfer (the tutorial's route)
// and returns the id when the node answered 201.
func postTx(client *http.Client, api, from, to string) (string, bool) {
	body, _ := json.Marshal(map[string]any{"sender": from, "recipient": to, "amount": json.Number("0.00000001")}) // one base unit: the route takes coins
	resp, err := client.Post(api+"/transactions/new", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	var v struct {
		ID string `json:"id"`
	}
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&v) != nil {
		return "", false
	}
	return v.ID, true
}

// txStatus returns the transaction's status: "mined", "pending", or
// "unknown" when the node does not know it.
func txStatus(t *testing.T, api, id string) string {
	t.Helper()
	resp, err := http.Get(api + "/api/v1/txs/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "unknown"
	}
	var v struct {
		Status string `json:"status"`
		Height *int   `json:"height"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	if v.Status == "pending" {
		return "pending"
	}
	if v.Height != nil {
		return "mined"
	}
	return v.Status
}

func minerAddress(t *testing.T, n *proc) string {
	t.Helper()
	info, err := client.New(n.api).Node(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.MinerAddress
}

// TestMempoolSurvivesSIGKILL kills a mining node with SIGKILL at random
// moments while one client submits transactions as fast as the node takes
// them (5 kills; 100 with CHAIND_LONG=1). Every transaction acknowledged
// with 201 must be mined in the end: none is lost with the mempool. Then a
// clean stop and start of a node that does not mine keeps its mempool.
func TestMempoolSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts many node processes")
	}
	kills := mempoolKillsShort
	if os.Getenv("CHAIND_LONG") == "1" {
		kills = mempoolKillsLong
	}
	datadir := t.TempDir()
	to := chain.FormatAddress(consensus.Devnet().AddressPrefix, chaintest.Key(7).Address())
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	args := []string{"--datadir", datadir, "--p2p", "", "--threads", "1"}

	var acked []string
	n := startNode(t, args...)
	from := minerAddress(t, n)
	n.waitHeight(t, 2, 60*time.Second) // the miner has coins to send
	for k := 0; k < kills; k++ {
		if k > 0 {
			n = startNode(t, args...)
		}
		var mu sync.Mutex
		var got []string
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				if id, ok := postTx(client, n.api, from, to); ok {
					mu.Lock()
					got = append(got, id)
					mu.Unlock()
				} else {
					time.Sleep(time.Millisecond) // refused (sender limit) or killed
				}
			}
		}()
		time.Sleep(time.Duration(100+rng.Intn(700)) * time.Millisecond)
		if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		n.cmd.Wait()
		close(stop)
		wg.Wait()
		acked = append(acked, got...)
	}
	if len(acked) == 0 {
		t.Fatal("no transaction was acknowledged; the test exercised nothing")
	}

	// A last run mines until every acknowledged transaction is in a block.
	n = startNode(t, args...)
	deadline := time.Now().Add(90 * time.Second)
	for i := 0; i < len(acked); {
		switch st := txStatus(t, n.api, acked[i]); st {
		case "mined":
			i++
		case "unknown":
			t.Fatalf("transaction %s was acknowledged with 201 and is lost (%d of %d checked)", acked[i], i, len(acked))
		default:
			if time.Now().After(deadline) {
				t.Fatalf("transaction %s still %s after 90 s", acked[i], st)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	t.Logf("%d kills, %d transactions acknowledged, all mined", kills, len(acked))
	n.cmd.Process.Signal(syscall.SIGKILL)
	n.cmd.Wait()

	// A clean restart keeps the mempool.
	quiet := append(args, "--mine=false")
	n = startNode(t, quiet...)
	var pending []string
	client := &http.Client{Timeout: 5 * time.Second}
	for len(pending) < 10 {
		id, ok := postTx(client, n.api, from, to)
		if !ok {
			t.Fatal("a transaction was refused on an idle node")
		}
		pending = append(pending, id)
	}
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	n = startNode(t, quiet...)
	for _, id := range pending {
		if st := txStatus(t, n.api, id); st != "pending" {
			t.Fatalf("after a clean restart transaction %s is %s, want pending", id, st)
		}
	}

}
