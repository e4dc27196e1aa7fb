package consensus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"os"
	"sort"
	"strings"

	"github.com/chaind/chaind/chain"
)

// MaxGenesisFileSize bounds a genesis JSON file.
const MaxGenesisFileSize = 4 << 20

// Retarget modes of a genesis file.
const (
	// RetargetRelative is devnet's rule: each block scheduled from its
	// parent, an idle stretch forgiven (the default).
	RetargetRelative = "relative"
	// RetargetAbsolute is mainnet's rule: every block scheduled from
	// block 1.
	RetargetAbsolute = "absolute"
)

// DefaultHalfLifeBlocks is the half-life, in block times, of a custom
// network that sets its block time but not its half-life (devnet's ratio).
const DefaultHalfLifeBlocks = 5

// GenesisFile is the JSON form of a custom network, like geth's genesis.json.
// Durations are in seconds, amounts in base units, bits as 8 hex digits.
// Omitted fields take devnet's values.
type GenesisFile struct {
	Name            string            `json:"name"`
	AddressPrefix   string            `json:"address_prefix"`
	Timestamp       uint32            `json:"timestamp"`
	TargetBlockTime int64             `json:"target_block_time"`
	HalfLife        int64             `json:"retarget_half_life"`
	Retarget        string            `json:"retarget"`
	PowLimitBits    string            `json:"pow_limit_bits"`
	InitialBits     string            `json:"initial_bits"`
	Reward          *uint64           `json:"reward"`
	HalvingInterval uint32            `json:"halving_interval"`
	MaxBlockSize    int               `json:"max_block_size"`
	MaxBlockTxs     int               `json:"max_block_txs"`
	MaxFutureTime   int64             `json:"max_future_time"`
	Data            string            `json:"data"`
	Alloc           map[string]uint64 `json:"alloc"`
	// MinimumChainWork is Params.MinimumChainWork in hex (at most 64
	// digits, an optional 0x); empty: none.
	MinimumChainWork string `json:"minimum_chain_work"`
}

// LoadGenesisFile reads a custom network from a genesis JSON file.
func LoadGenesisFile(path string) (*Params, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("genesis file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxGenesisFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("genesis file %s: %w", path, err)
	}
	if len(b) > MaxGenesisFileSize {
		return nil, fmt.Errorf("genesis file %s is larger than %d bytes", path, MaxGenesisFileSize)
	}
	p, err := ParseGenesis(b)
	if err != nil {
		return nil, fmt.Errorf("genesis file %s: %w", path, err)
	}
	return p, nil
}

// ParseGenesis builds Params from genesis JSON. Unknown fields are errors,
// so a typo in a field name is not silently ignored.
func ParseGenesis(b []byte) (*Params, error) {
	var g GenesisFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("parse: data after the JSON object")
	}
	p := Devnet()
	p.Name = g.Name
	p.Development = false // a custom network's keys are real keys
	if g.AddressPrefix != "" {
		p.AddressPrefix = g.AddressPrefix
	}
	if g.Timestamp != 0 {
		p.GenesisTime = g.Timestamp
	}
	if g.TargetBlockTime != 0 {
		p.TargetSpacing = g.TargetBlockTime
		p.HalfLife = DefaultHalfLifeBlocks * g.TargetBlockTime
	}
	if g.HalfLife != 0 {
		p.HalfLife = g.HalfLife
	}
	switch g.Retarget {
	case "", RetargetRelative:
		p.RelativeRetarget = true
	case RetargetAbsolute:
		p.RelativeRetarget = false
	default:
		return nil, fmt.Errorf("retarget %q: want %q or %q", g.Retarget, RetargetRelative, RetargetAbsolute)
	}
	if g.PowLimitBits != "" {
		bits, err := parseBits("pow_limit_bits", g.PowLimitBits)
		if err != nil {
			return nil, err
		}
		limit, ok := CompactToBig(bits)
		if !ok {
			return nil, fmt.Errorf("pow_limit_bits %s is not a valid target", g.PowLimitBits)
		}
		p.PowLimitBits, p.PowLimit, p.GenesisBits = bits, limit, bits
	}
	if g.InitialBits != "" {
		bits, err := parseBits("initial_bits", g.InitialBits)
		if err != nil {
			return nil, err
		}
		p.GenesisBits = bits
	}
	if g.Reward != nil {
		p.InitialReward = *g.Reward
	}
	if g.HalvingInterval != 0 {
		p.HalvingInterval = g.HalvingInterval
	}
	if g.MaxBlockSize != 0 {
		p.MaxBlockSize = g.MaxBlockSize
	}
	if g.MaxBlockTxs != 0 {
		p.MaxBlockTxs = g.MaxBlockTxs
	}
	if g.MaxFutureTime != 0 {
		p.MaxFutureTime = g.MaxFutureTime
	}
	p.GenesisData = g.Data
	if g.MinimumChainWork != "" {
		w, err := parseWork(g.MinimumChainWork)
		if err != nil {
			return nil, err
		}
		p.MinimumChainWork = w
	}
	addrs := make([]string, 0, len(g.Alloc))
	for a := range g.Alloc {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs) // a deterministic genesis whatever the map order
	seen := make(map[chain.Address]string, len(addrs))
	for _, s := range addrs {
		a, err := chain.ParseAddress(p.AddressPrefix, s)
		if err != nil {
			return nil, fmt.Errorf("alloc: %w", err)
		}
		// The upper- and lower-case forms of an address are different keys.
		if prev, dup := seen[a]; dup {
			return nil, fmt.Errorf("alloc: %q and %q are the same address", prev, s)
		}
		seen[a] = s
		p.Allocations = append(p.Allocations, Allocation{Address: a, Amount: g.Alloc[s]})
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// parseWork reads minimum_chain_work: hex, at most 256 bits.
func parseWork(s string) (*big.Int, error) {
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if h == "" || len(h) > 64 {
		return nil, fmt.Errorf("minimum_chain_work: want 1 to 64 hex digits, got %q", s)
	}
	w, ok := new(big.Int).SetString(h, 16)
	if !ok {
		return nil, fmt.Errorf("minimum_chain_work: %q is not hex", s)
	}
	return w, nil
}

func parseBits(field, s string) (uint32, error) {
	var bits uint32
	if len(s) != 8 {
		return 0, fmt.Errorf("%s: want 8 hex digits, got %q", field, s)
	}
	if _, err := fmt.Sscanf(s, "%08x", &bits); err != nil {
		return 0, fmt.Errorf("%s: %q is not hex", field, s)
	}
	return bits, nil
}
