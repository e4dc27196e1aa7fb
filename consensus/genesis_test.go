package consensus_test

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
)

// genesisPrefix is the address prefix of the custom networks in these tests.
const genesisPrefix = "tst"

// parseAgain is how many times the determinism test parses one file.
const parseAgain = 20

// testAddr returns a fixed address distinct for each i, formatted for prefix.
func testAddr(i byte, prefix string) (chain.Address, string) {
	var a chain.Address
	for j := range a {
		a[j] = i*31 + byte(j)
	}
	return a, chain.FormatAddress(prefix, a)
}

// fullGenesis returns a genesis file that sets every field, with the
// allocations in the given order.
func fullGenesis(order ...byte) string {
	var alloc []string
	for _, i := range order {
		_, s := testAddr(i, genesisPrefix)
		alloc = append(alloc, fmt.Sprintf("%q: %d", s, 1000*uint64(i)+1))
	}
	return `{
  "name": "lab",
  "address_prefix": "tst",
  "timestamp": 1800000000,
  "target_block_time": 30,
  "retarget_half_life": 3600,
  "pow_limit_bits": "1f00ffff",
  "initial_bits": "1e0fffff",
  "reward": 1000,
  "halving_interval": 500,
  "max_block_size": 100000,
  "max_block_txs": 200,
  "max_future_time": 120,
  "data": "lab network",
  "minimum_chain_work": "0x1000000000",
  "alloc": {` + strings.Join(alloc, ", ") + `}
}`
}

func TestParseGenesisFull(t *testing.T) {
	p, err := consensus.ParseGenesis([]byte(fullGenesis(1, 2, 3)))
	if err != nil {
		t.Fatal(err)
	}
	limit, _ := consensus.CompactToBig(0x1f00ffff)
	checks := []struct {
		name      string
		got, want any
	}{
		{"name", p.Name, "lab"},
		{"prefix", p.AddressPrefix, "tst"},
		{"genesis time", p.GenesisTime, uint32(1800000000)},
		{"spacing", p.TargetSpacing, int64(30)},
		{"half-life", p.HalfLife, int64(3600)},
		{"limit bits", p.PowLimitBits, uint32(0x1f00ffff)},
		{"limit", p.PowLimit.String(), limit.String()},
		{"genesis bits", p.GenesisBits, uint32(0x1e0fffff)},
		{"reward", p.InitialReward, uint64(1000)},
		{"halving", p.HalvingInterval, uint32(500)},
		{"block size", p.MaxBlockSize, 100000},
		{"block txs", p.MaxBlockTxs, 200},
		{"future", p.MaxFutureTime, int64(120)},
		{"data", p.GenesisData, "lab network"},
		{"allocations", len(p.Allocations), 3},
		{"no retarget", p.NoRetarget, false},
		{"minimum chain work", p.MinimumChainWork.String(), "68719476736"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	want := map[chain.Address]uint64{}
	for _, i := range []byte{1, 2, 3} {
		a, _ := testAddr(i, genesisPrefix)
		want[a] = 1000*uint64(i) + 1
	}
	for _, a := range p.Allocations {
		if want[a.Address] != a.Amount {
			t.Errorf("allocation %x: %d, want %d", a.Address, a.Amount, want[a.Address])
		}
		delete(want, a.Address)
	}
	if len(want) != 0 {
		t.Errorf("allocations missing: %v", want)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if g := p.Genesis(); len(g.Txs) != 3 || string(g.Data) != "lab network" || g.Header.Bits != 0x1e0fffff {
		t.Fatalf("genesis block does not follow the file")
	}
}

func TestParseGenesisDefaults(t *testing.T) {
	p, err := consensus.ParseGenesis([]byte(`{"name": "mini"}`))
	if err != nil {
		t.Fatal(err)
	}
	d := consensus.Devnet()
	if p.AddressPrefix != d.AddressPrefix || p.TargetSpacing != d.TargetSpacing || p.HalfLife != d.HalfLife ||
		p.PowLimitBits != d.PowLimitBits || p.GenesisBits != d.GenesisBits || p.InitialReward != d.InitialReward ||
		p.HalvingInterval != d.HalvingInterval || p.MaxBlockSize != d.MaxBlockSize || p.MaxBlockTxs != d.MaxBlockTxs ||
		p.MaxFutureTime != d.MaxFutureTime || p.GenesisTime != d.GenesisTime {
		t.Fatalf("omitted fields do not take devnet's values: %+v", p)
	}
	if p.GenesisData != "" || len(p.Allocations) != 0 {
		t.Fatal("data or allocations appeared from nowhere")
	}
	if p.GenesisHash() == d.GenesisHash() {
		t.Fatal("a custom network shares devnet's genesis")
	}
	if !p.RelativeRetarget {
		t.Fatal("a custom network without \"retarget\" does not take devnet's relative retarget")
	}
	// A block time without a half-life scales devnet's half-life; the
	// absolute schedule is a choice.
	p, err = consensus.ParseGenesis([]byte(`{"name": "slow", "target_block_time": 60, "retarget": "absolute"}`))
	if err != nil || p.HalfLife != consensus.DefaultHalfLifeBlocks*60 || p.RelativeRetarget {
		t.Fatalf("block time 60 s, absolute: half-life %d, relative %v, %v", p.HalfLife, p.RelativeRetarget, err)
	}
	// pow_limit_bits alone also sets the genesis bits; a zero reward is allowed.
	p, err = consensus.ParseGenesis([]byte(`{"name": "x", "pow_limit_bits": "1f00ffff", "reward": 0}`))
	if err != nil || p.GenesisBits != 0x1f00ffff || p.InitialReward != 0 {
		t.Fatalf("pow_limit_bits alone: %+v, %v", p, err)
	}
}

// TestParseGenesisDeterministic checks that the genesis hash depends on the
// allocations, not on their order in the file or on map iteration.
func TestParseGenesisDeterministic(t *testing.T) {
	first, err := consensus.ParseGenesis([]byte(fullGenesis(1, 2, 3, 4, 5)))
	if err != nil {
		t.Fatal(err)
	}
	want := first.GenesisHash()
	for i, order := range [][]byte{{5, 4, 3, 2, 1}, {3, 1, 5, 2, 4}, {2, 5, 1, 4, 3}} {
		p, err := consensus.ParseGenesis([]byte(fullGenesis(order...)))
		if err != nil {
			t.Fatal(err)
		}
		if p.GenesisHash() != want {
			t.Fatalf("order %d: genesis %s, want %s", i, p.GenesisHash(), want)
		}
	}
	for i := 0; i < parseAgain; i++ {
		p, _ := consensus.ParseGenesis([]byte(fullGenesis(1, 2, 3, 4, 5)))
		if p.GenesisHash() != want {
			t.Fatalf("parse %d: genesis %s, want %s", i, p.GenesisHash(), want)
		}
	}
	other, _ := consensus.ParseGenesis([]byte(fullGenesis(1, 2, 3, 4)))
	if other.GenesisHash() == want {
		t.Fatal("dropping an allocation does not change the genesis")
	}
}

func TestParseGenesisRejects(t *testing.T) {
	_, devAddr := testAddr(1, "dev")
	_, tstAddr := testAddr(1, genesisPrefix)
	_, tstAddr2 := testAddr(2, genesisPrefix)
	cases := map[string]string{
		"not JSON":              `name: lab`,
		"empty":                 ``,
		"unknown field":         `{"name": "lab", "target_blocktime": 5}`,
		"two objects":           `{"name": "lab"} {"name": "lab"}`,
		"wrong type":            `{"name": "lab", "reward": "lots"}`,
		"negative reward":       `{"name": "lab", "reward": -1}`,
		"missing name":          `{"address_prefix": "tst"}`,
		"bad prefix":            `{"name": "lab", "address_prefix": "T-S"}`,
		"work not hex":          `{"name": "lab", "minimum_chain_work": "12g4"}`,
		"work too long":         `{"name": "lab", "minimum_chain_work": "1` + strings.Repeat("0", 64) + `"}`,
		"work empty after 0x":   `{"name": "lab", "minimum_chain_work": "0x"}`,
		"work negative":         `{"name": "lab", "minimum_chain_work": "-5"}`,
		"alloc wrong prefix":    `{"name": "lab", "address_prefix": "tst", "alloc": {"` + devAddr + `": 5}}`,
		"alloc typo":            `{"name": "lab", "address_prefix": "tst", "alloc": {"` + tstAddr[:len(tstAddr)-1] + flipChar(tstAddr[len(tstAddr)-1]) + `": 5}}`,
		"alloc hex address":     `{"name": "lab", "address_prefix": "tst", "alloc": {"00112233445566778899aabbccddeeff00112233": 5}}`,
		"alloc overflow":        fmt.Sprintf(`{"name": "lab", "address_prefix": "tst", "alloc": {%q: %d, %q: 1}}`, tstAddr, uint64(math.MaxUint64), tstAddr2),
		"alloc same address":    fmt.Sprintf(`{"name": "lab", "address_prefix": "tst", "alloc": {%q: 5, %q: 7}}`, tstAddr, strings.ToUpper(tstAddr)),
		"bits too short":        `{"name": "lab", "initial_bits": "1d00fff"}`,
		"bits not hex":          `{"name": "lab", "initial_bits": "1d00fffg"}`,
		"bits with prefix":      `{"name": "lab", "initial_bits": "0x1d00ff"}`,
		"bits non-canonical":    `{"name": "lab", "initial_bits": "1e0000ff"}`,
		"bits above limit":      `{"name": "lab", "pow_limit_bits": "1f00ffff", "initial_bits": "2000ffff"}`,
		"limit overflows":       `{"name": "lab", "pow_limit_bits": "ff123456"}`,
		"limit negative":        `{"name": "lab", "pow_limit_bits": "1d80ffff"}`,
		"negative spacing":      `{"name": "lab", "target_block_time": -5}`,
		"negative half-life":    `{"name": "lab", "retarget_half_life": -5}`,
		"unknown retarget":      `{"name": "lab", "retarget": "sideways"}`,
		"half-life too short":   `{"name": "lab", "target_block_time": 60, "retarget_half_life": 20}`,
		"block size too big":    `{"name": "lab", "max_block_size": 1000000000}`,
		"block txs too many":    `{"name": "lab", "max_block_txs": 1000000}`,
		"negative future time":  `{"name": "lab", "max_future_time": -1}`,
		"data too long":         `{"name": "lab", "data": "` + strings.Repeat("d", chain.MaxDataSize+1) + `"}`,
		"timestamp too big":     `{"name": "lab", "timestamp": 4294967296}`,
		"halving interval huge": `{"name": "lab", "halving_interval": 4294967296}`,
	}
	for name, in := range cases {
		if p, err := consensus.ParseGenesis([]byte(in)); err == nil {
			t.Errorf("%s: accepted as %+v", name, p)
		}
	}
}

func flipChar(c byte) string {
	if c == 'q' {
		return "p"
	}
	return "q"
}

func TestLoadGenesisFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "genesis.json")
	if err := os.WriteFile(path, []byte(fullGenesis(1, 2)), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := consensus.LoadGenesisFile(path)
	if err != nil {
		t.Fatal(err)
	}
	direct, _ := consensus.ParseGenesis([]byte(fullGenesis(1, 2)))
	if p.GenesisHash() != direct.GenesisHash() {
		t.Fatal("LoadGenesisFile and ParseGenesis disagree")
	}
	if _, err := consensus.LoadGenesisFile(filepath.Join(dir, "missing.json")); err == nil {
		t.Fatal("missing file accepted")
	}
	// A file over the size bound is refused before parsing, with its name.
	big := filepath.Join(dir, "big.json")
	body := append([]byte(`{"name": "lab", "data": "`), bytes.Repeat([]byte(" "), consensus.MaxGenesisFileSize)...)
	if err := os.WriteFile(big, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := consensus.LoadGenesisFile(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized file: %v", err)
	}
	// A parse error names the file.
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"nam": "x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := consensus.LoadGenesisFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("bad file: %v", err)
	}
}

// FuzzParseGenesis checks that no input makes ParseGenesis panic, and that
// whatever it accepts is a usable network: valid params, a genesis block
// that round-trips through the encoding, and the same genesis on a second
// parse.
func FuzzParseGenesis(f *testing.F) {
	f.Add([]byte(fullGenesis(1, 2, 3)))
	f.Add([]byte(`{"name": "mini"}`))
	f.Add([]byte(`{"name": "lab", "pow_limit_bits": "ff123456"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := consensus.ParseGenesis(in)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted params fail Validate: %v", err)
		}
		g := p.Genesis()
		dec, err := chain.DecodeBlock(g.Encode())
		if err != nil {
			t.Fatalf("genesis does not decode: %v", err)
		}
		if dec.Hash() != p.GenesisHash() {
			t.Fatal("decoded genesis has another hash")
		}
		for _, a := range p.Allocations {
			if _, err := chain.ParseAddress(p.AddressPrefix, chain.FormatAddress(p.AddressPrefix, a.Address)); err != nil {
				t.Fatalf("allocation address does not round-trip: %v", err)
			}
		}
		again, err := consensus.ParseGenesis(in)
		if err != nil || again.GenesisHash() != p.GenesisHash() {
			t.Fatalf("second parse differs: %v", err)
		}
		// The retarget works on the accepted params.
		h := g.Header
		consensus.NextBits(p, consensus.ParentContext{Parent: &h})
	})
}

// TestGenesisFuzzCorpus checks that the committed FuzzParseGenesis seeds
// still include accepted files, so the fuzzer reaches the success path.
func TestGenesisFuzzCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParseGenesis", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed corpus: %v", err)
	}
	accepted := 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") {
			t.Fatalf("%s: not a one-value fuzz corpus file", file)
		}
		in, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if _, err := consensus.ParseGenesis([]byte(in)); err == nil {
			accepted++
		}
	}
	if accepted == 0 {
		t.Fatal("no seed is an accepted genesis file")
	}
}
