package consensus

import (
	"fmt"
	"math/big"
	"sync"

	"github.com/chaind/chaind/chain"
)

// Coin is one coin in base units.
const Coin uint64 = 100_000_000

// BlockVersion is the only header version this release accepts.
const BlockVersion = 1

// MedianTimeBlocks is how many recent blocks the median-time rule looks at.
const MedianTimeBlocks = 11

// Allocation credits an address in the genesis state.
type Allocation struct {
	Address chain.Address
	Amount  uint64
}

// Params are the consensus rules of one network. Two nodes with different
// Params are on different networks; the genesis hash is the network's id.
type Params struct {
	Name string // "devnet", "mainnet", or a custom name
	// Development marks the built-in development networks (devnet,
	// regtest): a node may create an unencrypted key there on its own.
	Development   bool
	AddressPrefix string // bech32m prefix of addresses

	TargetSpacing int64 // target seconds between blocks
	HalfLife      int64 // ASERT half-life in seconds
	// RelativeRetarget schedules each block from its parent instead of
	// from block 1, counting at most GapCapHalfLives half-lives of the
	// parent's gap
	// (see NextBits): an idle development network resumes at its old
	// difficulty instead of paying the idle time back in easy blocks.
	RelativeRetarget bool
	NoRetarget       bool   // every block keeps the genesis target (tests only)
	PowLimitBits     uint32 // easiest allowed target, compact
	PowLimit         *big.Int

	InitialReward   uint64 // coinbase reward at height 1, base units
	HalvingInterval uint32 // blocks between reward halvings

	MaxBlockSize  int   // encoded bytes
	MaxBlockTxs   int   // transactions per block, coinbase included
	MaxFutureTime int64 // seconds a timestamp may be ahead of the local clock

	GenesisTime uint32
	GenesisBits uint32
	GenesisData string
	Allocations []Allocation

	// MinimumChainWork is the least cumulative work (genesis included) of
	// a chain this node downloads and calls synced, as Bitcoin Core's
	// nMinimumChainWork: until its tip has this much work the node is in
	// initial download, and it fetches no block of a header chain whose
	// headers have not shown this much, however many such chains peers
	// offer. It protects a fresh node from spending its disk and time on a
	// cheap fake chain while the real one is out of reach; it is no
	// checkpoint (any chain above it is judged by work alone). Set at each
	// release to the work of the network's chain a little before then.
	// Nil or zero: no minimum (development networks).
	MinimumChainWork *big.Int

	genesisOnce sync.Once
	genesis     *chain.Block
	genesisHash chain.Hash
}

// Genesis returns the genesis block, built from the params. Its
// transactions are coinbase-shaped credits, one per allocation, with Nonce
// set to the allocation's index.
func (p *Params) Genesis() *chain.Block {
	p.genesisOnce.Do(func() {
		b := &chain.Block{Data: []byte(p.GenesisData)}
		for i, a := range p.Allocations {
			b.Txs = append(b.Txs, &chain.Tx{To: a.Address, Amount: a.Amount, Nonce: uint64(i)})
		}
		b.Header = chain.Header{
			Version:    BlockVersion,
			MerkleRoot: chain.MerkleRoot(chain.TxIDs(b.Txs)),
			DataHash:   chain.DataHash(b.Data),
			Timestamp:  p.GenesisTime,
			Bits:       p.GenesisBits,
		}
		p.genesis = b
		p.genesisHash = b.Hash()
	})
	return p.genesis
}

// GenesisHash returns the hash of the genesis block: the network id that
// transactions sign over and that peers compare.
func (p *Params) GenesisHash() chain.Hash {
	p.Genesis()
	return p.genesisHash
}

// Reward returns the block reward at height: InitialReward halved every
// HalvingInterval blocks.
func (p *Params) Reward(height uint32) uint64 {
	if height == 0 {
		return 0
	}
	halvings := height / p.HalvingInterval
	if halvings >= 64 {
		return 0
	}
	return p.InitialReward >> halvings
}

// MeetsMinimumWork reports whether a chain of the given cumulative work
// (genesis included) has at least MinimumChainWork.
func (p *Params) MeetsMinimumWork(work *big.Int) bool {
	if p.MinimumChainWork == nil || p.MinimumChainWork.Sign() <= 0 {
		return true
	}
	return work != nil && work.Cmp(p.MinimumChainWork) >= 0
}

// Validate checks that the params make a usable network.
func (p *Params) Validate() error {
	if p.Name == "" {
		return fmt.Errorf("network name is empty")
	}
	if p.MinimumChainWork != nil && p.MinimumChainWork.Sign() < 0 {
		return fmt.Errorf("minimum chain work is negative")
	}
	if err := chain.ValidAddressPrefix(p.AddressPrefix); err != nil {
		return err
	}
	if p.TargetSpacing <= 0 {
		return fmt.Errorf("target block time must be positive")
	}
	if p.HalfLife <= 0 {
		return fmt.Errorf("retarget half-life must be positive")
	}
	if p.RelativeRetarget && GapCapHalfLives*p.HalfLife <= p.TargetSpacing {
		return fmt.Errorf("relative retarget needs a half-life (%ds) longer than half the block time (%ds)", p.HalfLife, p.TargetSpacing)
	}
	limit, ok := CompactToBig(p.PowLimitBits)
	if !ok || limit.Sign() <= 0 || BigToCompact(limit) != p.PowLimitBits {
		return fmt.Errorf("pow limit bits %08x are not a canonical positive target", p.PowLimitBits)
	}
	if p.PowLimit == nil || p.PowLimit.Cmp(limit) != 0 {
		return fmt.Errorf("pow limit does not match its bits %08x", p.PowLimitBits)
	}
	if _, err := TargetFromBits(p.GenesisBits, p.PowLimit); err != nil {
		return fmt.Errorf("genesis bits: %w", err)
	}
	if p.HalvingInterval == 0 {
		return fmt.Errorf("halving interval must be positive")
	}
	if p.MaxBlockSize < chain.BlockOverhead+chain.MaxTxSize || p.MaxBlockSize > chain.MaxBlockSize {
		return fmt.Errorf("max block size %d out of range", p.MaxBlockSize)
	}
	if p.MaxBlockTxs < 1 || p.MaxBlockTxs > chain.MaxBlockTxs {
		return fmt.Errorf("max block transactions %d out of range 1..%d", p.MaxBlockTxs, chain.MaxBlockTxs)
	}
	if p.MaxFutureTime <= 0 {
		return fmt.Errorf("future time limit must be positive")
	}
	if len(p.GenesisData) > chain.MaxDataSize {
		return fmt.Errorf("genesis data longer than %d bytes", chain.MaxDataSize)
	}
	if len(p.Allocations) > chain.MaxBlockTxs {
		return fmt.Errorf("more than %d genesis allocations", chain.MaxBlockTxs)
	}
	// The genesis block is stored and read back like any other block, so
	// its encoding (allocations are memo-less transactions) must decode.
	if size := chain.BlockOverhead + len(p.GenesisData) + len(p.Allocations)*chain.MinTxSize; size > chain.MaxBlockSize {
		return fmt.Errorf("genesis block with %d allocations would be %d bytes, more than %d", len(p.Allocations), size, chain.MaxBlockSize)
	}
	var total uint64
	for _, a := range p.Allocations {
		if total+a.Amount < total {
			return fmt.Errorf("genesis allocations overflow")
		}
		total += a.Amount
	}
	return nil
}

func mustBits(bits uint32) *big.Int {
	t, ok := CompactToBig(bits)
	if !ok {
		panic(fmt.Sprintf("consensus: bad built-in bits %08x", bits))
	}
	return t
}

// DevnetGenesisBits is devnet's starting target: 2^23 hashes a block, about
// two seconds of one old core without SHA instructions and a fifth of a
// second of one SHA-NI core, so a fresh devnet starts within a few
// half-lives of its target on anything from one old core to a 32-core
// machine (docs/retarget.md).
const DevnetGenesisBits = 0x1e01ffff

// Devnet is the default network (no minimum chain work: a new devnet starts
// from its genesis block): a block about every second, starting at a
// target calibrated for a typical core, with a five-second half-life and the
// relative, idle-forgiving retarget, so it reaches its block time within
// seconds and an idle devnet resumes without a flood (docs/retarget.md).
func Devnet() *Params {
	return &Params{
		Name:             "devnet",
		Development:      true,
		AddressPrefix:    "dev",
		TargetSpacing:    1,
		HalfLife:         5,
		RelativeRetarget: true,
		PowLimitBits:     0x207fffff,
		PowLimit:         mustBits(0x207fffff),
		InitialReward:    50 * Coin,
		HalvingInterval:  210_000,
		MaxBlockSize:     2 << 20,
		MaxBlockTxs:      10_000,
		MaxFutureTime:    15,
		GenesisTime:      1767225600, // 2026-01-01T00:00:00Z
		GenesisBits:      DevnetGenesisBits,
		GenesisData:      "chaind devnet genesis",
	}
}

// MainnetGenesisBits is mainnet's starting target: about 2^28 hashes a
// block.
const MainnetGenesisBits = 0x1d0fffff

// Mainnet is the production-like network: one-minute blocks, a half-life of
// a day of blocks, a starting target that needs about 2^28 hashes (seconds
// on a few cores), and the clock tolerance of a network of strangers.
//
// Its MinimumChainWork is the work of what exists of it: no mainnet chain
// has been mined beyond its genesis block as of this release (2026-11-30),
// so the minimum is the genesis block's work and every chain meets it. A
// release after mainnet has run sets it to the work of the chain then (as
// Bitcoin Core does from a recent block), in hex, with the height and hash
// it came from in a comment.
func Mainnet() *Params {
	return &Params{
		Name:            "mainnet",
		AddressPrefix:   "chd",
		TargetSpacing:   60,
		HalfLife:        60 * 1440,
		PowLimitBits:    0x1f00ffff,
		PowLimit:        mustBits(0x1f00ffff),
		InitialReward:   50 * Coin,
		HalvingInterval: 1_051_200, // about two years of one-minute blocks
		MaxBlockSize:    1 << 20,
		MaxBlockTxs:     5_000,
		MaxFutureTime:   600,
		GenesisTime:     1767225600,
		GenesisBits:     MainnetGenesisBits,
		GenesisData:     "chaind mainnet genesis 2026-01-01",
		// The genesis block's work: see above.
		MinimumChainWork: WorkFromBits(MainnetGenesisBits),
	}
}

// RegtestMaxFutureTime is regtest's clock tolerance: two hours, as
// Bitcoin's on every network. See Regtest.
const RegtestMaxFutureTime = 2 * 60 * 60

// Regtest is for tests: the easiest target and no retarget, so blocks are
// found in a couple of hashes forever. Like devnet, no minimum chain work.
//
// Its clock tolerance is RegtestMaxFutureTime, so a test can mine many
// blocks at once (bitcoind's generatetoaddress 1000). Timestamps are whole
// seconds and must exceed the median of the last MedianTimeBlocks, so a
// burst of blocks mined within one second has to run its timestamps ahead
// of the clock by one second every six blocks or so; with devnet's 15 s
// tolerance a burst stalls after about 90 blocks and then goes at the
// clock's pace, 6 blocks a second. Two hours let a burst of about 43,000
// blocks through; later blocks wait for the clock as anywhere else. Only
// timestamps are affected: regtest does not retarget, so a chain ahead of
// the clock gets no easier.
func Regtest() *Params {
	p := Devnet()
	p.Name = "regtest"
	p.AddressPrefix = "reg"
	p.NoRetarget = true
	p.RelativeRetarget = false
	p.GenesisBits = p.PowLimitBits
	p.MaxFutureTime = RegtestMaxFutureTime
	p.GenesisData = "chaind regtest genesis"
	return p
}

// Network returns a built-in network by name.
func Network(name string) (*Params, error) {
	switch name {
	case "devnet", "":
		return Devnet(), nil
	case "mainnet":
		return Mainnet(), nil
	case "regtest":
		return Regtest(), nil
	}
	return nil, fmt.Errorf("unknown network %q (built in: devnet, mainnet, regtest; or a genesis JSON file)", name)
}
