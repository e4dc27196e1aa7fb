package miner_test

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/miner"
)

// Benchmark durations.
const (
	// benchMineTime is how long BenchmarkMinerHashRate mines.
	benchMineTime = 2 * time.Second
	// benchCoreTime is how long it measures one core's nonce rate.
	benchCoreTime = time.Second
	// benchBatch is the nonces per SearchNonces call of the one-core
	// measurement, as the miner's chunk.
	benchBatch = 1 << 16
)

// impossibleChain hands out templates no hash can meet and never moves.
type impossibleChain struct{ p *consensus.Params }

func (c impossibleChain) NextTemplate() blockchain.Template {
	return blockchain.Template{PrevHash: chain.Hash{1}, Height: 1, Bits: impossibleBits, Reward: c.p.Reward(1)}
}

func (impossibleChain) ProcessBlock(*chain.Block, blockchain.Flags) (blockchain.Result, error) {
	return blockchain.Result{}, errors.New("impossibleChain: no block can be valid")
}

func (impossibleChain) Subscribe(func(blockchain.Notification)) {}

func (c impossibleChain) Params() *consensus.Params { return c.p }

// coreRate measures one goroutine's SearchNonces rate, the miner's inner
// loop without the miner, like chain's BenchmarkHeaderNonces.
func coreRate(d time.Duration) float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	h := chain.Header{Version: 1, Height: rng.Uint32(), Timestamp: rng.Uint32(), Bits: rng.Uint32()}
	for i := range h.PrevHash {
		h.PrevHash[i] = byte(rng.Uint32())
	}
	hh := chain.NewHeaderHasher(&h)
	var zero [chain.HashSize]byte
	var n uint64
	start := time.Now()
	for time.Since(start) < d {
		hh.SearchNonces(n, benchBatch, &zero)
		n += benchBatch
	}
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkMinerHashRate runs continuous mining on all cores against an
// impossible target for benchMineTime and reports its hash rate beside one
// core's raw nonce rate and the ratio of the miner's rate to that times
// runtime.NumCPU() (the issue asks for at least 0.85).
func BenchmarkMinerHashRate(b *testing.B) {
	core := coreRate(benchCoreTime)
	var rate float64
	for b.Loop() {
		m := miner.New(impossibleChain{consensus.Regtest()}, nil, miner.Config{})
		start := time.Now()
		m.Start()
		time.Sleep(benchMineTime)
		m.Stop()
		rate = float64(m.Stats().Hashes) / time.Since(start).Seconds()
	}
	b.ReportMetric(rate, "hashes/s")
	b.ReportMetric(core, "core-nonces/s")
	b.ReportMetric(rate/(core*float64(runtime.NumCPU())), "ratio")
}
