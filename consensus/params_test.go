package consensus_test

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
)

func builtIn() []*consensus.Params {
	return []*consensus.Params{consensus.Devnet(), consensus.Mainnet(), consensus.Regtest()}
}

func TestBuiltInParamsValidate(t *testing.T) {
	for _, p := range builtIn() {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
		if p.Name == "regtest" && p.GenesisBits != p.PowLimitBits {
			t.Errorf("%s: genesis bits %08x differ from the limit", p.Name, p.GenesisBits)
		}
	}
}

// TestGenesisHashesPinned pins the built-in networks' ids. A change here
// splits every existing network: it must be deliberate.
func TestGenesisHashesPinned(t *testing.T) {
	want := map[string]string{
		"devnet":  "56ca9b86ca3c6c9ca9123be505e07b3a1bd1666dd0e4a7ebe5e79972908f1f3e",
		"mainnet": "71ef01d4dc89592ebc6b5bc84ae646583b496128f6a999fb2c77276880e2d950",
		"regtest": "1fcd74d360e3ac52748e65ae1dcdbc4cad089eeebe4092bbd4e6a4eb05a49d98",
	}
	seen := map[chain.Hash]string{}
	for _, p := range builtIn() {
		h := p.GenesisHash()
		if h.String() != want[p.Name] {
			t.Errorf("%s: genesis hash %s, want %s", p.Name, h, want[p.Name])
		}
		if other, dup := seen[h]; dup {
			t.Errorf("%s and %s share a genesis", p.Name, other)
		}
		seen[h] = p.Name
	}
}

func TestGenesisBlock(t *testing.T) {
	p := consensus.Devnet()
	var a1, a2 chain.Address
	a1[0], a2[0] = 1, 2
	p.Allocations = []consensus.Allocation{{Address: a1, Amount: 5 * consensus.Coin}, {Address: a2, Amount: 7}}
	g := p.Genesis()
	h := g.Header
	if h.Version != consensus.BlockVersion || h.Height != 0 || !h.PrevHash.IsZero() ||
		h.Timestamp != p.GenesisTime || h.Bits != p.GenesisBits || h.Nonce != 0 {
		t.Fatalf("genesis header %+v", h)
	}
	if string(g.Data) != p.GenesisData || h.DataHash != chain.DataHash(g.Data) {
		t.Fatal("genesis data note or its hash is wrong")
	}
	if len(g.Txs) != 2 || h.MerkleRoot != chain.MerkleRoot(chain.TxIDs(g.Txs)) {
		t.Fatal("genesis transactions or merkle root wrong")
	}
	for i, tx := range g.Txs {
		a := p.Allocations[i]
		if !tx.IsCoinbase() || tx.To != a.Address || tx.Amount != a.Amount || tx.Nonce != uint64(i) || tx.Fee != 0 {
			t.Errorf("genesis tx %d = %+v, want a credit of %d to %x", i, tx, a.Amount, a.Address)
		}
	}
	if p.GenesisHash() != g.Hash() || p.Genesis() != g {
		t.Fatal("GenesisHash is not the genesis block's hash, or Genesis is rebuilt")
	}
	dec, err := chain.DecodeBlock(g.Encode())
	if err != nil || dec.Hash() != g.Hash() {
		t.Fatalf("genesis does not round-trip through the encoding: %v", err)
	}
	// Without allocations the merkle root is zero.
	if consensus.Devnet().Genesis().Header.MerkleRoot != chain.ZeroHash {
		t.Fatal("an empty genesis has a non-zero merkle root")
	}
}

func TestReward(t *testing.T) {
	p := consensus.Devnet()
	p.InitialReward = 50 * consensus.Coin
	p.HalvingInterval = 100
	for _, tc := range []struct {
		height uint32
		want   uint64
	}{
		{0, 0}, // genesis pays no reward
		{1, 50 * consensus.Coin},
		{99, 50 * consensus.Coin},
		{100, 25 * consensus.Coin},
		{199, 25 * consensus.Coin},
		{200, 1_250_000_000},
		{300, 625_000_000},
		{3200, (50 * consensus.Coin) >> 32},
		{6300, 0}, // 63 halvings: 5e9 >> 63
		{6400, 0},
		{math.MaxUint32, 0},
	} {
		if got := p.Reward(tc.height); got != tc.want {
			t.Errorf("Reward(%d) = %d, want %d", tc.height, got, tc.want)
		}
	}
	p.InitialReward = math.MaxUint64
	if got := p.Reward(6300); got != 1 {
		t.Errorf("Reward after 63 halvings of 2^64-1 = %d, want 1", got)
	}
	if got := p.Reward(6400); got != 0 {
		t.Errorf("Reward after 64 halvings = %d, want 0", got)
	}
	// The built-in schedule: 50 coins, halving every 210,000 devnet blocks.
	d := consensus.Devnet()
	if d.Reward(1) != 50*consensus.Coin || d.Reward(210_000) != 25*consensus.Coin {
		t.Errorf("devnet rewards %d, %d", d.Reward(1), d.Reward(210_000))
	}
}

func TestParamsValidateRejects(t *testing.T) {
	cases := map[string]func(p *consensus.Params){
		"empty name":            func(p *consensus.Params) { p.Name = "" },
		"empty prefix":          func(p *consensus.Params) { p.AddressPrefix = "" },
		"upper-case prefix":     func(p *consensus.Params) { p.AddressPrefix = "DEV" },
		"long prefix":           func(p *consensus.Params) { p.AddressPrefix = strings.Repeat("a", 21) },
		"zero spacing":          func(p *consensus.Params) { p.TargetSpacing = 0 },
		"negative spacing":      func(p *consensus.Params) { p.TargetSpacing = -1 },
		"zero half-life":        func(p *consensus.Params) { p.HalfLife = 0 },
		"non-canonical limit":   func(p *consensus.Params) { p.PowLimitBits = 0x2100007f },
		"negative limit":        func(p *consensus.Params) { p.PowLimitBits = 0x20800000 },
		"zero limit":            func(p *consensus.Params) { p.PowLimitBits = 0x20000000 },
		"limit does not match":  func(p *consensus.Params) { p.PowLimitBits = 0x1f00ffff },
		"nil limit":             func(p *consensus.Params) { p.PowLimit = nil },
		"genesis above limit":   func(p *consensus.Params) { p.GenesisBits = 0x2100ffff },
		"non-canonical genesis": func(p *consensus.Params) { p.GenesisBits = 0x1e0000ff },
		"zero halving interval": func(p *consensus.Params) { p.HalvingInterval = 0 },
		"block size too small":  func(p *consensus.Params) { p.MaxBlockSize = chain.HeaderSize + 6 + chain.MaxTxSize - 1 },
		"block size too big":    func(p *consensus.Params) { p.MaxBlockSize = chain.MaxBlockSize + 1 },
		"zero block txs":        func(p *consensus.Params) { p.MaxBlockTxs = 0 },
		"too many block txs":    func(p *consensus.Params) { p.MaxBlockTxs = chain.MaxBlockTxs + 1 },
		"zero future time":      func(p *consensus.Params) { p.MaxFutureTime = 0 },
		"long genesis data":     func(p *consensus.Params) { p.GenesisData = strings.Repeat("x", chain.MaxDataSize+1) },
		"allocations overflow": func(p *consensus.Params) {
			p.Allocations = []consensus.Allocation{{Amount: math.MaxUint64}, {Amount: 1}}
		},
		"too many allocations": func(p *consensus.Params) { p.Allocations = make([]consensus.Allocation, chain.MaxBlockTxs+1) },
		"genesis over block size": func(p *consensus.Params) {
			p.Allocations = make([]consensus.Allocation, chain.MaxBlockSize/chain.MinTxSize+1)
		},
	}
	for name, mutate := range cases {
		p := consensus.Devnet()
		mutate(p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
	// The boundaries themselves are accepted.
	p := consensus.Devnet()
	p.MaxBlockSize = chain.HeaderSize + 6 + chain.MaxTxSize
	p.MaxBlockTxs = chain.MaxBlockTxs
	p.GenesisData = strings.Repeat("x", chain.MaxDataSize)
	p.Allocations = []consensus.Allocation{{Amount: math.MaxUint64 - 1}, {Amount: 1}}
	if err := p.Validate(); err != nil {
		t.Errorf("boundary values refused: %v", err)
	}
}

func TestNetwork(t *testing.T) {
	for name, want := range map[string]string{"devnet": "devnet", "": "devnet", "mainnet": "mainnet", "regtest": "regtest"} {
		p, err := consensus.Network(name)
		if err != nil || p.Name != want {
			t.Errorf("Network(%q) = %v, %v; want %s", name, p, err, want)
		}
	}
	for _, bad := range []string{"testnet", "Devnet", "devnet ", "main"} {
		if p, err := consensus.Network(bad); err == nil {
			t.Errorf("Network(%q) = %s, want an error", bad, p.Name)
		}
	}
	// Each call returns a fresh value: changing one does not change another.
	a, _ := consensus.Network("devnet")
	a.TargetSpacing = 99
	if b, _ := consensus.Network("devnet"); b.TargetSpacing == 99 {
		t.Error("Network returns shared Params")
	}
	r, _ := consensus.Network("regtest")
	if !r.NoRetarget || r.AddressPrefix == consensus.Devnet().AddressPrefix {
		t.Error("regtest must not retarget and must have its own address prefix")
	}
}

// TestLargestGenesisDecodes checks that the most allocations Validate
// accepts still make a genesis block that decodes, since the block is
// stored and read back like any other.
func TestLargestGenesisDecodes(t *testing.T) {
	p := consensus.Devnet()
	n := (chain.MaxBlockSize - chain.HeaderSize - 6 - len(p.GenesisData)) / chain.MinTxSize
	p.Allocations = make([]consensus.Allocation, n)
	for i := range p.Allocations {
		p.Allocations[i] = consensus.Allocation{Amount: 1}
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("%d allocations: %v", n, err)
	}
	if _, err := chain.DecodeBlock(p.Genesis().Encode()); err != nil {
		t.Fatalf("genesis with %d allocations does not decode: %v", n, err)
	}
	p = consensus.Devnet()
	p.Allocations = make([]consensus.Allocation, n+1)
	if err := p.Validate(); err == nil {
		t.Fatalf("%d allocations accepted", n+1)
	}
}

// TestRegtestBurst checks what RegtestMaxFutureTime is for: 1,000 blocks
// mined within the same clock second, each at the earliest timestamp the
// median-time rule allows, all pass the time rules on regtest; on devnet
// (15 s tolerance) the burst is refused after about 90 blocks.
func TestRegtestBurst(t *testing.T) {
	burst := func(p *consensus.Params, n int) (int, error) {
		now := time.Unix(int64(p.GenesisTime)+1000, 0)
		times := []uint32{p.GenesisTime}
		parent := p.Genesis().Header
		for i := 1; i <= n; i++ {
			recent := times[max(0, len(times)-consensus.MedianTimeBlocks):]
			median := consensus.MedianTime(recent)
			h := parent
			h.Height++
			h.PrevHash = parent.Hash()
			h.Timestamp = max(uint32(now.Unix()), median+1)
			pc := consensus.ParentContext{Parent: &parent, MedianTime: median}
			if len(times) >= 2 {
				pc.GrandparentTime = times[len(times)-2]
			}
			h.Bits = consensus.NextBits(p, pc)
			if err := consensus.CheckHeaderContext(p, &h, pc, now); err != nil {
				return i, err
			}
			times = append(times, h.Timestamp)
			parent = h
		}
		return n, nil
	}
	if n, err := burst(consensus.Regtest(), 1000); err != nil {
		t.Fatalf("regtest: block %d of a 1,000-block burst refused: %v", n, err)
	}
	n, err := burst(consensus.Devnet(), 1000)
	if !errors.Is(err, consensus.ErrTimeTooNew) || n > 120 {
		t.Fatalf("devnet: burst stopped at block %d with %v; want the future limit near block 90", n, err)
	}
}

func TestMinimumChainWork(t *testing.T) {
	for _, p := range []*consensus.Params{consensus.Devnet(), consensus.Regtest()} {
		if p.MinimumChainWork != nil || !p.MeetsMinimumWork(new(big.Int)) {
			t.Errorf("%s has a minimum chain work", p.Name)
		}
	}
	m := consensus.Mainnet()
	genesis := consensus.WorkFromBits(m.Genesis().Header.Bits)
	if m.MinimumChainWork.Cmp(genesis) != 0 {
		t.Fatalf("mainnet minimum %s, want the genesis block's work %s (no mainnet chain exists yet)", m.MinimumChainWork, genesis)
	}
	if !m.MeetsMinimumWork(genesis) || m.MeetsMinimumWork(new(big.Int).Sub(genesis, big.NewInt(1))) || m.MeetsMinimumWork(nil) {
		t.Error("MeetsMinimumWork compares wrongly")
	}
	m.MinimumChainWork = big.NewInt(-1)
	if err := m.Validate(); err == nil {
		t.Error("a negative minimum chain work validated")
	}
}
