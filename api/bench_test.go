package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/chaind/chaind/apitypes"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/wallet"
)

// Benchmark shape.
const (
	benchKeys      = 1000 // funded senders; nonces cycle through them
	benchBatch     = 1000 // transactions per POST in BenchmarkSubmitTxBatch
	benchRound     = 8000 // transactions admitted before a block empties the pool
	benchClients   = 4    // concurrent clients of BenchmarkSubmitTxSingle
	benchSignerCPU = 2    // goroutines signing the next round (untimed)
)

// txFactory signs transfers from funded keys with consecutive nonces per
// key, round-robin over the keys, so any prefix of its output is valid in
// order.
type txFactory struct {
	p      *consensus.Params
	keys   []*wallet.Key
	nonces []uint64
	next   int
	to     chain.Address
}

func newTxFactory(n int) *txFactory {
	keys := chaintest.Keys(n)
	return &txFactory{
		p:      chaintest.Params(keys, 1000*consensus.Coin),
		keys:   keys,
		nonces: make([]uint64, n),
		to:     chaintest.Key(n + 1).Address(),
	}
}

// sign returns the next n transactions, signed on benchSignerCPU cores.
func (f *txFactory) sign(n int) []*chain.Tx {
	txs := make([]*chain.Tx, n)
	signer := make([]*wallet.Key, n)
	for i := range txs {
		k := f.next % len(f.keys)
		f.next++
		txs[i] = &chain.Tx{To: f.to, Amount: 1000, Fee: 10, Nonce: f.nonces[k]}
		signer[i] = f.keys[k]
		f.nonces[k]++
	}
	netID := f.p.GenesisHash()
	var wg sync.WaitGroup
	for w := 0; w < benchSignerCPU; w++ {
		wg.Go(func() {
			for i := w; i < n; i += benchSignerCPU {
				signer[i].SignTx(txs[i], netID)
			}
		})
	}
	wg.Wait()
	return txs
}

func (f *txFactory) views(txs []*chain.Tx) []apitypes.Tx {
	vs := make([]apitypes.Tx, len(txs))
	for i, tx := range txs {
		vs[i] = apitypes.TxOf(f.p.AddressPrefix, tx)
	}
	return vs
}

// benchPost sends body to POST /api/v1/txs over loopback and decodes
// the answer into out.
func benchPost(client *http.Client, url string, body []byte, out any) error {
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode %s: %w", raw, err)
	}
	return nil
}

// emptyPool mines blocks until the mempool is empty (untimed).
func emptyPool(e *testEnv) {
	for e.n.Pool.Len() > 0 {
		e.mine()
	}
}

// BenchmarkSubmitTxBatch measures signed transactions admitted per second
// through POST /api/v1/txs in batches of benchBatch over real loopback
// HTTP. One iteration is one batch. It also times consensus.VerifyTxs on the
// same transactions to report the share of the time that signature
// verification takes.
func BenchmarkSubmitTxBatch(b *testing.B) {
	f := newTxFactory(benchKeys)
	e := newEnv(b, f.p, Config{Limits: Limits{TxRatePerIP: -1}}) // measure the node, not the limiter
	client := &http.Client{Timeout: time.Minute}
	url := e.base + "/api/v1/txs"
	var verify time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if e.n.Pool.Len()+benchBatch > benchRound {
			emptyPool(e)
		}
		txs := f.sign(benchBatch)
		body, err := json.Marshal(f.views(txs))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, ok := consensus.VerifyTxs(txs, f.p.GenesisHash()); !ok {
			b.Fatal("factory signed a bad transaction")
		}
		verify += time.Since(start)
		b.StartTimer()

		var res apitypes.Batch
		if err := benchPost(client, url, body, &res); err != nil {
			b.Fatal(err)
		}
		if res.Accepted != benchBatch {
			b.StopTimer()
			for _, r := range res.Results {
				if !r.Accepted {
					b.Fatalf("%d of %d accepted; first refusal: %+v", res.Accepted, benchBatch, r)
				}
			}
		}
	}
	b.StopTimer()
	elapsed := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*benchBatch)/elapsed, "tx/s")
	b.ReportMetric(100*verify.Seconds()/elapsed, "%verify")
}

// BenchmarkSubmitTxSingle measures requests per second of POST
// /api/v1/txs with one transaction each, from benchClients concurrent
// clients over loopback. One iteration is one request.
func BenchmarkSubmitTxSingle(b *testing.B) {
	f := newTxFactory(benchKeys)
	e := newEnv(b, f.p, Config{Limits: Limits{TxRatePerIP: -1}}) // measure the node, not the limiter
	url := e.base + "/api/v1/txs"
	transport := &http.Transport{MaxIdleConnsPerHost: benchClients}
	client := &http.Client{Timeout: time.Minute, Transport: transport}
	defer transport.CloseIdleConnections()
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		emptyPool(e)
		n := min(b.N-done, benchRound)
		txs := f.sign(n)
		bodies := make([][]byte, n)
		for i, v := range f.views(txs) {
			var err error
			if bodies[i], err = json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
		// Client c sends transactions c, c+benchClients, ...: every key's
		// transactions go through one client (benchKeys is a multiple of
		// benchClients), so each arrives after its lower nonces.
		b.StartTimer()
		var wg sync.WaitGroup
		for c := 0; c < benchClients; c++ {
			wg.Go(func() {
				for i := c; i < n; i += benchClients {
					var res apitypes.TxResult
					if err := benchPost(client, url, bodies[i], &res); err != nil {
						b.Error(err)
						return
					}
					if !res.Accepted {
						b.Errorf("transaction %d refused: %+v", i, res)
						return
					}
				}
			})
		}
		wg.Wait()
		if b.Failed() {
			b.FailNow()
		}
		done += n
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
