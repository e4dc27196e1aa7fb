package lab

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/chaind/chaind/miner"
)

// Bounds of a network file.
const (
	// MaxNodes bounds the nodes of one devnet.
	MaxNodes = 2000
	// MaxNetworkFileSize bounds a network or scenario file.
	MaxNetworkFileSize = 1 << 20
	// DefaultNetworkRate is the network hash rate that shares divide when a
	// file gives none: devnet's genesis calibration (2^23 hashes a block)
	// at one block a second, so a fresh devnet starts on target.
	DefaultNetworkRate = 1 << 23
	// DefaultBlockTime is the block time of simulated miners.
	DefaultBlockTime = time.Second
	// MaxCompression bounds the time compression of a simulation.
	MaxCompression = 1000
)

// Transports.
const (
	TransportLibp2p = "libp2p" // real libp2p hosts on loopback (the default)
	TransportMemnet = "memnet" // the in-memory network
)

// ErrBadNetwork is returned for a network file that cannot be run.
var ErrBadNetwork = errors.New("bad network")

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// CheckName reports a node name that is not 1-32 lower-case letters,
// digits or underscores starting with a letter.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: node name %q: want 1-32 of a-z, 0-9, _ starting with a letter", ErrBadNetwork, name)
	}
	return nil
}

// NetworkFile is the YAML form of a devnet.
//
//	name: seed-chapter
//	transport: memnet          # or libp2p (default)
//	topology: line             # line, ring, mesh, random:k over the nodes in order (optional)
//	link: {latency: 50ms}      # shape of links not given their own
//	nodes:
//	  - {name: a, share: 50}
//	  - {name: b, share: 30, strategy: selfish}
//	  - {name: c, mining: false}
//	links:
//	  - {link: a-c, latency: 200ms, jitter: 20ms, loss: 5%, bandwidth: 10Mbit}
type NetworkFile struct {
	Name      string `yaml:"name"`
	Transport string `yaml:"transport"`
	Topology  string `yaml:"topology"`
	Seed      uint64 `yaml:"seed"`
	// HashRate is the network's hash rate (hashes per second) that the
	// miners' shares divide; DefaultNetworkRate when zero.
	HashRate float64 `yaml:"hash_rate"`
	// Simulated makes miners draw block times instead of hashing (memnet).
	Simulated bool `yaml:"simulated_mining"`
	// BlockTime is the simulated miners' network block time.
	BlockTime Duration `yaml:"block_time"`
	// Compression divides simulated time: block time and latencies alike.
	Compression float64 `yaml:"compression"`
	Link        Shape   `yaml:"link"`
	// LatencySpread gives each topology link its own latency, drawn from
	// the seed uniformly in [Link.Latency, Link.Latency+LatencySpread]
	// (a network of links of 50 to 200 ms: latency 50ms, spread 150ms).
	LatencySpread Duration      `yaml:"latency_spread"`
	Generate      *GenerateSpec `yaml:"generate"`
	Nodes         []NodeSpec    `yaml:"nodes"`
	Links         []LinkSpec    `yaml:"links"`
}

// GenerateSpec adds Count nodes named Prefix1..PrefixN after the listed
// ones; the first Miners of them mine, sharing equally what the listed
// nodes' shares leave of 100%.
type GenerateSpec struct {
	Count  int    `yaml:"count"`
	Prefix string `yaml:"prefix"`
	Miners int    `yaml:"miners"`
}

// NodeSpec is one node of a network file. Share is a percentage of the
// network's hash rate; miners without one share equally what is left.
type NodeSpec struct {
	Name     string   `yaml:"name"`
	Share    *float64 `yaml:"share"`
	Mining   *bool    `yaml:"mining"`
	Strategy string   `yaml:"strategy"`
}

// LinkSpec is one link of a network file, "a-b", with its shape.
type LinkSpec struct {
	Link  string `yaml:"link"`
	Shape `yaml:",inline"`
}

// Node is a resolved node of a network.
type Node struct {
	Name     string  `json:"name"`
	Share    float64 `json:"share"` // fraction of the network's hash rate, 0..1
	Mining   bool    `json:"mining"`
	Strategy string  `json:"strategy"`
}

// Link is a resolved link.
type Link struct {
	Pair  Pair  `json:"pair"`
	Shape Shape `json:"shape"`
}

// Network is a resolved, checked network.
type Network struct {
	Name        string        `json:"name"`
	Transport   string        `json:"transport"`
	Seed        uint64        `json:"seed"`
	HashRate    float64       `json:"hash_rate"`
	Simulated   bool          `json:"simulated"`
	BlockTime   time.Duration `json:"block_time"` // nanoseconds in JSON, as the report's durations
	Compression float64       `json:"compression"`
	Nodes       []Node        `json:"nodes"`
	Links       []Link        `json:"links"`
}

// Node returns the node called name.
func (n *Network) Node(name string) (Node, bool) {
	for _, x := range n.Nodes {
		if x.Name == name {
			return x, true
		}
	}
	return Node{}, false
}

// LoadNetwork reads and resolves a network file.
func LoadNetwork(path string) (*Network, error) {
	b, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	n, err := ParseNetwork(b)
	if err != nil {
		return nil, fmt.Errorf("network file %s: %w", path, err)
	}
	return n, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxNetworkFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > MaxNetworkFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, MaxNetworkFileSize)
	}
	return b, nil
}

// decodeStrict decodes YAML refusing unknown fields.
func decodeStrict(b []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("parse: %w", err)
	}
	return nil
}

// ParseNetwork parses and resolves a network file's YAML.
func ParseNetwork(b []byte) (*Network, error) {
	var f NetworkFile
	if err := decodeStrict(b, &f); err != nil {
		return nil, err
	}
	return f.Resolve()
}

// Resolve checks the file and resolves shares, generated nodes, the
// topology and link shapes.
func (f *NetworkFile) Resolve() (*Network, error) {
	n := &Network{Name: f.Name, Transport: f.Transport, Seed: f.Seed, HashRate: f.HashRate,
		Simulated: f.Simulated, BlockTime: time.Duration(f.BlockTime), Compression: f.Compression}
	if n.Name == "" {
		n.Name = "devnet"
	}
	switch n.Transport {
	case "":
		n.Transport = TransportLibp2p
	case TransportLibp2p, TransportMemnet:
	default:
		return nil, fmt.Errorf("%w: transport %q (want %s or %s)", ErrBadNetwork, n.Transport, TransportLibp2p, TransportMemnet)
	}
	if n.HashRate == 0 {
		n.HashRate = DefaultNetworkRate
	}
	if !(n.HashRate > 0 && n.HashRate <= miner.MaxHashRate) {
		return nil, fmt.Errorf("%w: hash_rate %v", ErrBadNetwork, f.HashRate)
	}
	if n.BlockTime == 0 {
		n.BlockTime = DefaultBlockTime
	}
	if n.BlockTime < time.Millisecond || n.BlockTime > time.Hour {
		return nil, fmt.Errorf("%w: block_time %v not in 1ms..1h", ErrBadNetwork, n.BlockTime)
	}
	if n.Compression == 0 {
		n.Compression = 1
	}
	if !(n.Compression >= 1 && n.Compression <= MaxCompression) {
		return nil, fmt.Errorf("%w: compression %v not in 1..%d", ErrBadNetwork, f.Compression, MaxCompression)
	}
	if n.Simulated && n.Transport != TransportMemnet {
		return nil, fmt.Errorf("%w: simulated_mining needs transport memnet", ErrBadNetwork)
	}
	if err := f.Link.Check(); err != nil {
		return nil, fmt.Errorf("%w: link: %w", ErrBadNetwork, err)
	}

	specs := append([]NodeSpec(nil), f.Nodes...)
	if g := f.Generate; g != nil {
		if g.Count < 1 || g.Count+len(specs) > MaxNodes || g.Miners < 0 || g.Miners > g.Count {
			return nil, fmt.Errorf("%w: generate %d nodes with %d miners (at most %d nodes)", ErrBadNetwork, g.Count, g.Miners, MaxNodes)
		}
		prefix := g.Prefix
		if prefix == "" {
			prefix = "n"
		}
		width := len(fmt.Sprint(g.Count))
		for i := 1; i <= g.Count; i++ {
			mining := i <= g.Miners
			specs = append(specs, NodeSpec{Name: fmt.Sprintf("%s%0*d", prefix, width, i), Mining: &mining})
		}
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("%w: no nodes", ErrBadNetwork)
	}
	if len(specs) > MaxNodes {
		return nil, fmt.Errorf("%w: %d nodes, at most %d", ErrBadNetwork, len(specs), MaxNodes)
	}
	seen := map[string]bool{}
	given, unshared := 0.0, 0
	for _, s := range specs {
		if err := CheckName(s.Name); err != nil {
			return nil, err
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("%w: node %q named twice", ErrBadNetwork, s.Name)
		}
		seen[s.Name] = true
		if _, err := miner.NewStrategy(s.Strategy); err != nil {
			return nil, fmt.Errorf("%w: node %s: %w", ErrBadNetwork, s.Name, err)
		}
		mining := s.Mining == nil || *s.Mining
		switch {
		case s.Share != nil && (math.IsNaN(*s.Share) || *s.Share < 0 || *s.Share > 100):
			return nil, fmt.Errorf("%w: node %s: share %v%% not in 0..100", ErrBadNetwork, s.Name, *s.Share)
		case s.Share != nil && !mining && *s.Share > 0:
			return nil, fmt.Errorf("%w: node %s: a share of %v%% but mining: false", ErrBadNetwork, s.Name, *s.Share)
		case s.Share != nil:
			given += *s.Share
		case mining:
			unshared++
		}
	}
	if given > 100+1e-9 {
		return nil, fmt.Errorf("%w: shares add up to %v%%, more than 100%%", ErrBadNetwork, given)
	}
	rest := 0.0
	if unshared > 0 {
		rest = (100 - given) / float64(unshared)
	}
	for _, s := range specs {
		mining := s.Mining == nil || *s.Mining
		share := rest
		if s.Share != nil {
			share = *s.Share
		}
		if !mining {
			share = 0
		}
		strategy := s.Strategy
		if strategy == "" {
			strategy = miner.StrategyHonest
		}
		n.Nodes = append(n.Nodes, Node{Name: s.Name, Share: share / 100, Mining: mining, Strategy: strategy})
	}

	known := func(s string) bool { return seen[s] }
	links := map[Pair]Shape{}
	var order []Pair
	addLink := func(p Pair, s Shape) {
		if _, ok := links[p]; !ok {
			order = append(order, p)
		}
		links[p] = s
	}
	if f.Topology != "" {
		names := make([]string, len(n.Nodes))
		for i, x := range n.Nodes {
			names[i] = x.Name
		}
		pairs, err := Topology(f.Topology, names, n.Seed)
		if err != nil {
			return nil, err
		}
		if f.LatencySpread < 0 || time.Duration(f.Link.Latency+f.LatencySpread) > MaxLatency {
			return nil, fmt.Errorf("%w: latency_spread %v: latency plus spread not in 0..%v", ErrBadNetwork,
				time.Duration(f.LatencySpread), MaxLatency)
		}
		rng := rand.New(rand.NewPCG(n.Seed, 0x6c6174)) // the spread's draws, one per link in order
		for _, p := range pairs {
			s := f.Link
			if f.LatencySpread > 0 {
				s.Latency += Duration(rng.Int64N(int64(f.LatencySpread) + 1))
			}
			addLink(p, s)
		}
	}
	for _, l := range f.Links {
		p, err := ParsePair(l.Link, known)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadNetwork, err)
		}
		s := l.Shape
		if s == (Shape{}) {
			s = f.Link
		}
		if err := s.Check(); err != nil {
			return nil, fmt.Errorf("%w: link %s: %w", ErrBadNetwork, p, err)
		}
		addLink(p, s)
	}
	for _, p := range order {
		n.Links = append(n.Links, Link{Pair: p, Shape: links[p]})
	}
	return n, nil
}
