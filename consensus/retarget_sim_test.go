package consensus_test

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
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

// simulator mines a chain in arithmetic: each block is found after an
// exponentially distributed time with mean work/hashrate, from a seeded
// RNG. Timestamps are whole seconds as a real miner sets them: the clock,
// but at least the median of the last MedianTimeBlocks blocks plus one. A
// block whose earliest legal timestamp is more than MaxFutureTime ahead of
// the clock would be refused by every node, so it is held until the clock
// catches up.
type simulator struct {
	p      *consensus.Params
	rng    *rand.Rand
	blocks []simBlock
	times  []uint32
	now    float64 // real time, seconds since the Unix epoch
}

// newSimulator starts a chain at p's genesis, simStartDelay seconds after
// its genesis timestamp.
func newSimulator(p *consensus.Params, seed uint64) *simulator {
	g := p.Genesis().Header
	s := &simulator{p: p, rng: rand.New(rand.NewPCG(seed, 0x5eed)), times: []uint32{g.Timestamp}}
	s.now = float64(g.Timestamp) + simStartDelay
	s.blocks = []simBlock{{header: g, found: s.now}}
	return s
}

// mine mines one block at hashRate and appends it.
func (s *simulator) mine(hashRate float64) {
	p := s.p
	height := uint32(len(s.blocks))
	pc := consensus.ParentContext{Parent: &s.blocks[height-1].header}
	if height > consensus.AnchorHeight {
		pc.Anchor = &s.blocks[consensus.AnchorHeight].header
	}
	if height >= 2 {
		pc.GrandparentTime = s.blocks[height-2].header.Timestamp
	}
	bits := consensus.NextBits(p, pc)
	work, _ := new(big.Float).SetInt(consensus.WorkFromBits(bits)).Float64()
	expected := work / hashRate
	s.now += s.rng.ExpFloat64() * expected

	recent := s.times[max(0, len(s.times)-consensus.MedianTimeBlocks):]
	earliest := consensus.MedianTime(recent) + 1
	if float64(earliest)-float64(p.MaxFutureTime) > math.Floor(s.now) {
		s.now = float64(earliest) - float64(p.MaxFutureTime)
	}
	ts := max(earliest, uint32(math.Floor(s.now)))
	h := chain.Header{Version: consensus.BlockVersion, Height: height, Timestamp: ts, Bits: bits}
	s.blocks = append(s.blocks, simBlock{header: h, found: s.now, expected: expected})
	s.times = append(s.times, ts)
}

// mineFor mines at hashRate until d seconds of real time have passed.
func (s *simulator) mineFor(d, hashRate float64) {
	end := s.now + d
	for s.now < end {
		s.mine(hashRate)
	}
}

// idle passes d seconds with every miner off: the search in progress is
// abandoned (the next block's time is drawn afresh, which an exponential
// distribution makes no difference to).
func (s *simulator) idle(d float64) { s.now += d }

// simulateChain mines blocks 1..last on p, block n at hashRate(n).
func simulateChain(p *consensus.Params, seed uint64, last uint32, hashRate func(height uint32) float64) []simBlock {
	s := newSimulator(p, seed)
	for height := uint32(1); height <= last; height++ {
		s.mine(hashRate(height))
	}
	return s.blocks
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

// Shape of the devnet behaviour simulation: the promise is that a fresh
// devnet reaches its block time within devSettle seconds and then holds
// every minute within ±devMinuteTol of it, also after an idle hour.
const (
	devSettle    = 30.0   // seconds from start (or restart) to the first checked minute
	devMinute    = 60.0   // length of one checked window
	devMinuteTol = 0.30   // allowed deviation of a minute's mean interval
	devRun       = 3600.0 // seconds mined before and after the idle stretch
	devIdle      = 3600.0 // seconds every miner is off
)

// devSeeds returns the RNG seeds of the devnet behaviour simulation: five,
// or twenty with CHAIND_LONG=1 (the figures in docs/retarget.md).
func devSeeds() []uint64 {
	n := 5
	if os.Getenv("CHAIND_LONG") == "1" {
		n = 20
	}
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return seeds
}

// devHashRates are the constant hash rates a devnet is started with: one
// old core (4 MH/s) to a 32-core SHA-NI machine (about 2^31 H/s), 1/2 to
// 256 times the genesis calibration.
var devHashRates = []float64{1 << 22, 1 << 24, 1 << 25, 1 << 27, 1 << 29, 1 << 31}

// minuteMeans returns the mean interval of each devMinute window of real
// time in [from, to), as devMinute / blocks found in it (+Inf when none).
func minuteMeans(bs []simBlock, from, to float64) []float64 {
	var out []float64
	for start := from; start+devMinute <= to; start += devMinute {
		n := 0
		for _, b := range bs[1:] {
			if b.found >= start && b.found < start+devMinute {
				n++
			}
		}
		out = append(out, devMinute/float64(n))
	}
	return out
}

// firstOnTarget returns the real seconds from `from` until the first block
// after it whose expected interval is within ±devMinuteTol of spacing (-1:
// never).
func firstOnTarget(bs []simBlock, from, spacing float64) float64 {
	for _, b := range bs[1:] {
		if b.found > from && math.Abs(b.expected/spacing-1) <= devMinuteTol {
			return b.found - from
		}
	}
	return -1
}

// checkMinutes fails t if a minute's mean interval in [from, to) is off
// the spacing by more than devMinuteTol, and returns the worst deviation.
func checkMinutes(t *testing.T, what string, bs []simBlock, from, to, spacing float64) float64 {
	t.Helper()
	worst := 0.0
	for i, m := range minuteMeans(bs, from, to) {
		dev := math.Abs(m/spacing - 1)
		worst = max(worst, dev)
		if dev > devMinuteTol {
			t.Errorf("%s: minute %d after %.0fs has a mean interval of %.3fs, more than %.0f%% off %gs",
				what, i+1, devSettle, m, 100*devMinuteTol, spacing)
		}
	}
	return worst
}

// TestDevnetStartsAndResumesOnTime starts devnet under constant hash rates
// from 1/2 to 256 times its genesis calibration, mines an hour, leaves it
// idle for an hour, and mines another hour. From devSettle seconds after
// the start and after the restart, every minute's mean interval must be
// within ±devMinuteTol of the target. The figures it logs are the ones in
// docs/retarget.md.
func TestDevnetStartsAndResumesOnTime(t *testing.T) {
	p := consensus.Devnet()
	spacing := float64(p.TargetSpacing)
	genesisWork, _ := new(big.Float).SetInt(consensus.WorkFromBits(p.GenesisBits)).Float64()
	var table strings.Builder
	fmt.Fprintf(&table, "devnet, target %gs, half-life %ds, genesis work 2^%.0f, relative retarget: %v, %d seeds\n",
		spacing, p.HalfLife, math.Log2(genesisWork), p.RelativeRetarget, len(devSeeds()))
	fmt.Fprintf(&table, "%-5s  %-20s  %-22s  %-20s  %-24s  %s\n", "rate", "on target at (max)",
		"worst minute, 1st hour", "blocks in first 30 s", "worst minute, after idle", "blocks in 30 s after idle")
	for _, rate := range devHashRates {
		var on, w1, w2 float64
		lo1, hi1, lo2, hi2 := math.MaxInt, 0, math.MaxInt, 0
		for _, seed := range devSeeds() {
			s := newSimulator(p, seed)
			start := s.now
			s.mineFor(devRun, rate)
			firstHour := len(s.blocks)
			s.idle(devIdle)
			restart := s.now
			s.mineFor(devRun, rate)
			bs := s.blocks
			count := func(from, to float64) int {
				n := 0
				for _, b := range bs[1:] {
					if b.found >= from && b.found < to {
						n++
					}
				}
				return n
			}
			what := fmt.Sprintf("hash rate 2^%.0f, seed %d", math.Log2(rate), seed)
			w1 = max(w1, checkMinutes(t, what+", first hour", bs[:firstHour], start+devSettle, start+devRun, spacing))
			w2 = max(w2, checkMinutes(t, what+", after the idle hour", bs, restart+devSettle, restart+devRun, spacing))
			on1 := firstOnTarget(bs, start, spacing)
			if on1 < 0 || on1 > devSettle {
				t.Errorf("%s: expected interval within %.0f%% of the target only %.1fs after the start, want within %.0fs",
					what, 100*devMinuteTol, on1, devSettle)
			}
			on = max(on, on1)
			n1, n2 := count(start, start+devSettle), count(restart, restart+devSettle)
			lo1, hi1, lo2, hi2 = min(lo1, n1), max(hi1, n1), min(lo2, n2), max(hi2, n2)
		}
		fmt.Fprintf(&table, "2^%-3.0f  %-20s  %-22s  %-20s  %-24s  %d-%d\n", math.Log2(rate), fmt.Sprintf("%.1fs", on),
			fmt.Sprintf("%.0f%%", 100*w1), fmt.Sprintf("%d-%d", lo1, hi1), fmt.Sprintf("%.0f%%", 100*w2), lo2, hi2)
	}
	t.Log("\n" + table.String())
}

// TestAbsoluteScheduleFloodsAfterIdle is the behaviour the relative
// retarget removes: on the absolute schedule (mainnet's rule at devnet's
// scale) an idle hour is owed back, and the restarted chain mines many
// times its block rate until it has caught up.
func TestAbsoluteScheduleFloodsAfterIdle(t *testing.T) {
	p := consensus.Devnet()
	p.RelativeRetarget = false
	s := newSimulator(p, 1)
	s.mineFor(devRun, 1<<25)
	s.idle(devIdle)
	restart := s.now
	s.mineFor(devMinute, 1<<25)
	n := 0
	for _, b := range s.blocks[1:] {
		if b.found >= restart {
			n++
		}
	}
	if n < 3*int(devMinute) {
		t.Fatalf("absolute schedule: %d blocks in the minute after an idle hour, expected a flood", n)
	}
	t.Logf("absolute schedule, half-life %ds: %d blocks in the minute after an idle hour", p.HalfLife, n)
}
