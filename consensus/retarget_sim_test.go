package consensus_test

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
)

// Shape of the retarget simulation: a devnet chain mined by a hash rate
// that jumps up tenfold and back down, with exponentially distributed
// block times.
const (
	simBaseHashRate = 1 << 18 // hashes per second before the first jump
	simJumpFactor   = 10      // hash-rate multiplier at simJumpUp, divisor at simJumpDown
	simJumpUp       = 2000    // first block mined at the raised hash rate
	simJumpDown     = 4000    // first block mined at the base hash rate again
	simLastBlock    = 6000    // last block simulated
	simSettled      = 500     // blocks at the end of a phase that must be on target
	simSettledTol   = 0.15    // allowed deviation of their mean interval from the target
	simWindow       = 100     // blocks in the rolling mean that defines convergence
	simConvergedTol = 0.20    // deviation of the rolling mean that counts as converged
	simStartDelay   = 86400   // the network starts a day after its genesis timestamp
)

// simSeeds are the RNG seeds the simulation runs with; each must pass.
var simSeeds = []uint64{1, 2, 3, 4, 5}

// simBlock is one simulated block.
type simBlock struct {
	header   chain.Header
	found    float64 // real time the block was released, seconds since the Unix epoch
	expected float64 // expected seconds to find it: work / hash rate
}

// jumpHashRate returns the hash rate that mines block height in the jump
// scenario.
func jumpHashRate(height uint32) float64 {
	if height >= simJumpUp && height < simJumpDown {
		return simBaseHashRate * simJumpFactor
	}
	return simBaseHashRate
}

// simulateChain mines blocks 1..last on p with NextBits, drawing
// each block's time from an exponential distribution with mean
// work/hashrate. Timestamps are whole seconds as a real miner sets them:
// the clock, but at least the median of the last MedianTimeBlocks blocks
// plus one. A block whose earliest legal timestamp is more than
// MaxFutureTime ahead of the clock would be refused by every node, so it
// is held until the clock catches up.
func simulateChain(p *consensus.Params, seed uint64, last uint32, hashRate func(height uint32) float64) []simBlock {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	g := p.Genesis().Header
	blocks := make([]simBlock, 1, last+1)
	blocks[0] = simBlock{header: g, found: float64(g.Timestamp) + simStartDelay}
	times := []uint32{g.Timestamp}
	now := blocks[0].found
	for height := uint32(1); height <= last; height++ {
		parent := &blocks[height-1].header
		var anchor *chain.Header
		if height > consensus.AnchorHeight {
			anchor = &blocks[consensus.AnchorHeight].header
		}
		bits := consensus.NextBits(p, parent, anchor)
		work, _ := new(big.Float).SetInt(consensus.WorkFromBits(bits)).Float64()
		expected := work / hashRate(height)
		now += rng.ExpFloat64() * expected

		recent := times[max(0, len(times)-consensus.MedianTimeBlocks):]
		earliest := consensus.MedianTime(recent) + 1
		if float64(earliest)-float64(p.MaxFutureTime) > math.Floor(now) {
			now = float64(earliest) - float64(p.MaxFutureTime)
		}
		ts := max(earliest, uint32(math.Floor(now)))
		h := chain.Header{Version: consensus.BlockVersion, Height: height, Timestamp: ts, Bits: bits}
		blocks = append(blocks, simBlock{header: h, found: now, expected: expected})
		times = append(times, ts)
	}
	return blocks
}

// simPhase is one constant-hash-rate stretch of the simulated chain.
type simPhase struct {
	name        string
	first, last uint32 // blocks mined at this phase's hash rate
}

var simPhases = []simPhase{
	{"start (from the genesis target)", 1, simJumpUp - 1},
	{fmt.Sprintf("hash rate x%d", simJumpFactor), simJumpUp, simJumpDown - 1},
	{fmt.Sprintf("hash rate /%d", simJumpFactor), simJumpDown, simLastBlock},
}

// simResult is what one phase measured.
type simResult struct {
	settledMean float64 // mean interval over the last simSettled blocks
	rollingConv int     // blocks until the rolling mean is within simConvergedTol (-1: never)
	expectConv  int     // blocks until work/hashrate is within simConvergedTol (-1: never)
	expectReal  float64 // real seconds those blocks took
}

// interval returns the real time between block i-1 and block i.
func interval(bs []simBlock, i uint32) float64 { return bs[i].found - bs[i-1].found }

func measurePhase(bs []simBlock, ph simPhase, spacing float64) simResult {
	var r simResult
	var sum float64
	for i := ph.last - simSettled + 1; i <= ph.last; i++ {
		sum += interval(bs, i)
	}
	r.settledMean = sum / simSettled
	within := func(x float64) bool { return math.Abs(x/spacing-1) <= simConvergedTol }

	r.rollingConv = -1
	sum = 0
	for i := ph.first; i <= ph.last; i++ {
		sum += interval(bs, i)
		if i >= ph.first+simWindow {
			sum -= interval(bs, i-simWindow)
		}
		if i >= ph.first+simWindow-1 && within(sum/simWindow) {
			r.rollingConv = int(i-ph.first) + 1
			break
		}
	}
	r.expectConv = -1
	for i := ph.first; i <= ph.last; i++ {
		if within(bs[i].expected) {
			r.expectConv = int(i-ph.first) + 1
			r.expectReal = bs[i].found - bs[ph.first-1].found
			break
		}
	}
	return r
}

// TestRetargetConvergesAfterHashrateJumps simulates ASERT on devnet
// parameters through a tenfold hash-rate rise and fall and checks that the
// block interval settles on the target in each phase. The figures it logs
// are the ones in docs/retarget.md.
func TestRetargetConvergesAfterHashrateJumps(t *testing.T) {
	p := consensus.Devnet()
	spacing := float64(p.TargetSpacing)
	var table strings.Builder
	fmt.Fprintf(&table, "devnet, target %gs, half-life %ds, base hash rate %d H/s\n", spacing, p.HalfLife, simBaseHashRate)
	fmt.Fprintf(&table, "%-4s  %-40s  %-23s  %-26s  %-23s  %s\n", "seed", "phase (blocks)", "settled mean (last 500)", "blocks to rolling-100 ±20%", "blocks to expected ±20%", "real time")
	for _, seed := range simSeeds {
		bs := simulateChain(p, seed, simLastBlock, jumpHashRate)
		for _, ph := range simPhases {
			r := measurePhase(bs, ph, spacing)
			fmt.Fprintf(&table, "%-4d  %-40s  %-23s  %-26d  %-23d  %.0fs\n", seed,
				fmt.Sprintf("%s %d-%d", ph.name, ph.first, ph.last), fmt.Sprintf("%.3fs", r.settledMean), r.rollingConv, r.expectConv, r.expectReal)
			if dev := math.Abs(r.settledMean/spacing - 1); dev > simSettledTol {
				t.Errorf("seed %d, %s: mean interval of the last %d blocks is %.3fs, more than %.0f%% off %gs",
					seed, ph.name, simSettled, r.settledMean, 100*simSettledTol, spacing)
			}
			if r.rollingConv < 0 || r.expectConv < 0 {
				t.Errorf("seed %d, %s: the interval never came within %.0f%% of the target", seed, ph.name, 100*simConvergedTol)
			}
		}
	}
	t.Log("\n" + table.String())
}

// Bounds of the ramp from the genesis target.
const (
	rampSeed      = 1
	rampMaxBlocks = 4000 // blocks simulated per hash rate
	// rampMinGain and rampMaxGain bound how many seconds ahead of schedule
	// each block puts the chain while difficulty ramps up: at most one (a
	// block in the same second as its parent), and, with the median-time
	// rule forcing the timestamp one second past the median of 11 blocks,
	// about 5/6 of a second; rampMinGain leaves room for the clock.
	rampMinGain = 0.6
	rampMaxGain = 1.0
)

// rampHashRates are the constant hash rates the ramp test starts a devnet
// with, in hashes per second.
var rampHashRates = []float64{1 << 16, 1 << 20, 1 << 24}

// TestRetargetRampFromGenesis starts devnet (genesis target: about two
// hashes a block) under constant hash rates and checks how long ASERT
// takes to reach the target spacing: the chain has to run
// HalfLife*log2(rate*spacing/genesis work) seconds ahead of schedule, and
// each block can gain at most one second on the schedule.
func TestRetargetRampFromGenesis(t *testing.T) {
	p := consensus.Devnet()
	spacing := float64(p.TargetSpacing)
	genesisWork, _ := new(big.Float).SetInt(consensus.WorkFromBits(p.GenesisBits)).Float64()
	var table strings.Builder
	fmt.Fprintf(&table, "%-12s  %-14s  %-16s  %s\n", "hash rate", "seconds ahead", "blocks to ±20%", "real seconds")
	for _, rate := range rampHashRates {
		bs := simulateChain(p, rampSeed, rampMaxBlocks, func(uint32) float64 { return rate })
		ahead := float64(p.HalfLife) * math.Log2(rate*spacing/genesisWork)
		n := -1
		for i := 1; i < len(bs); i++ {
			if math.Abs(bs[i].expected/spacing-1) <= simConvergedTol {
				n = i
				break
			}
		}
		if n < 0 {
			t.Fatalf("hash rate %.0f: no convergence in %d blocks", rate, rampMaxBlocks)
		}
		real := bs[n].found - bs[1].found
		fmt.Fprintf(&table, "%-12.0f  %-14.0f  %-16d  %.0f\n", rate, ahead, n, real)
		// ±20% of the spacing is log2(1.2)*HalfLife seconds of schedule.
		slack := math.Log2(1+simConvergedTol) * float64(p.HalfLife)
		if lo, hi := (ahead-slack)/rampMaxGain, (ahead+slack)/rampMinGain; float64(n) < lo || float64(n) > hi {
			t.Errorf("hash rate %.0f: converged after %d blocks, want %.0f..%.0f", rate, n, lo, hi)
		}
	}
	t.Log("\n" + table.String())
}
