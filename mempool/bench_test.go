package mempool

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/state"
)

// benchTxs returns 1,000 signed transactions (250 senders, 4 nonces each)
// and a real chain that funds their senders.
func benchTxs(b *testing.B) (*blockchain.Blockchain, chain.Hash, []*chain.Tx) {
	const senders, nonces = 250, 4
	bc, _, p, keys := realChain(b, senders, Config{})
	to := keys[0].Address()
	var txs []*chain.Tx
	for n := range uint64(nonces) {
		for _, k := range keys {
			txs = append(txs, chaintest.Tx(p, k, to, 1+n, 1+n, n))
		}
	}
	return bc, p.GenesisHash(), txs
}

// admitAll runs AddBatch's own work without the signatures: the
// context-free checks and admission, under one lock.
func admitAll(b *testing.B, pool *Pool, txs []*chain.Tx) {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	for _, tx := range txs {
		id, err := precheck(tx)
		if err == nil {
			err = pool.admit(tx, id, false)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddBatch1000 admits 1,000 signed transactions into an empty
// pool on a real chain. Besides the throughput it reports, from untimed
// runs interleaved with the timed ones, the time consensus.VerifyTxs alone
// takes on the same transactions (verify-%) and the time of everything
// else AddBatch does (rest-%), as percentages of AddBatch's time.
func BenchmarkAddBatch1000(b *testing.B) {
	bc, netID, txs := benchTxs(b)
	var addTime, verifyTime, restTime time.Duration
	for b.Loop() {
		b.StopTimer()
		start := time.Now()
		if _, ok := consensus.VerifyTxs(txs, netID); !ok {
			b.Fatal("bad signature")
		}
		verifyTime += time.Since(start)
		start = time.Now()
		admitAll(b, New(bc, Config{}), txs)
		restTime += time.Since(start)
		pool := New(bc, Config{})
		b.StartTimer()

		start = time.Now()
		for i, err := range pool.AddBatch(txs) {
			if err != nil {
				b.Fatalf("tx %d: %v", i, err)
			}
		}
		addTime += time.Since(start)
	}
	b.ReportMetric(float64(len(txs))*float64(b.N)/addTime.Seconds(), "tx/s")
	b.ReportMetric(100*verifyTime.Seconds()/addTime.Seconds(), "verify-%")
	b.ReportMetric(100*restTime.Seconds()/addTime.Seconds(), "rest-%")
}

// BenchmarkAddBatchUnfunded1000 offers 1,000 signed transactions from
// keys without funds (the spam of issue 8): refused before their
// signatures, they cost a small fraction of BenchmarkAddBatch1000.
func BenchmarkAddBatchUnfunded1000(b *testing.B) {
	bc, _, p, _ := realChain(b, 1, Config{})
	poor := chaintest.Keys(251)[1:]
	var txs []*chain.Tx
	for n := range uint64(4) {
		for _, k := range poor {
			txs = append(txs, chaintest.Tx(p, k, poor[0].Address(), 1+n, 1+n, n))
		}
	}
	pool := New(bc, Config{})
	for b.Loop() {
		for i, err := range pool.AddBatch(txs) {
			if !errors.Is(err, ErrUnfunded) {
				b.Fatalf("tx %d: %v, want ErrUnfunded", i, err)
			}
		}
	}
	b.ReportMetric(float64(len(txs))*float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkAdmit1000 is the part of BenchmarkAddBatch1000 that is the
// pool's own work: checks and admission of the same transactions.
func BenchmarkAdmit1000(b *testing.B) {
	bc, _, txs := benchTxs(b)
	for b.Loop() {
		admitAll(b, New(bc, Config{}), txs)
	}
	b.ReportMetric(float64(len(txs))*float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkTemplate builds a full block template from a full pool of
// DefaultMaxTxs transactions (5,000 senders, 10 nonces each).
func BenchmarkTemplate(b *testing.B) {
	const senders, nonces = 5000, 10
	fc := newFakeChain(nil, 0)
	pool := New(fc, Config{})
	pool.mu.Lock()
	for s := range senders {
		var from chain.PublicKey
		binary.BigEndian.PutUint32(from[:], uint32(s)+1)
		fc.accts[chain.AddressOf(from)] = state.Account{Balance: funds}
		for n := range uint64(nonces) {
			tx := &chain.Tx{From: from, Amount: 1, Fee: uint64(s*7+int(n)*13) % 1000, Nonce: n}
			if err := pool.admit(tx, tx.ID(), false); err != nil {
				b.Fatal(err)
			}
		}
	}
	pool.mu.Unlock()
	params := fc.Params()
	b.ResetTimer()
	for b.Loop() {
		if got := pool.Template(params.MaxBlockTxs-1, params.MaxBlockSize); len(got) != params.MaxBlockTxs-1 {
			b.Fatalf("template of %d", len(got))
		}
	}
}
