package lab

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Topology names.
const (
	TopoLine   = "line"
	TopoRing   = "ring"
	TopoMesh   = "mesh"
	TopoRandom = "random" // random:k
)

// MaxMeshNodes bounds a full mesh (n*(n-1)/2 links).
const MaxMeshNodes = 100

// ErrBadTopology is returned for an unknown or impossible topology.
var ErrBadTopology = errors.New("bad topology")

// Pair is an undirected link between two nodes, by name, A < B.
type Pair struct {
	A string `json:"a"`
	B string `json:"b"`
}

// pairOf orders a and b.
func pairOf(a, b string) Pair {
	if b < a {
		a, b = b, a
	}
	return Pair{a, b}
}

// String renders "a-b".
func (p Pair) String() string { return p.A + "-" + p.B }

// ParsePair parses "a-b" (node names hold no '-' at the split: the first
// '-' whose both sides are known names wins, so names with dashes work
// when known is given).
func ParsePair(s string, known func(string) bool) (Pair, error) {
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			continue
		}
		a, b := s[:i], s[i+1:]
		if a != "" && b != "" && (known == nil || (known(a) && known(b))) {
			if a == b {
				return Pair{}, fmt.Errorf("link %q joins a node to itself", s)
			}
			return pairOf(a, b), nil
		}
	}
	return Pair{}, fmt.Errorf("link %q: want two known node names joined by '-' (a-b)", s)
}

// Topology returns the links of a named shape over names (in order):
// line (a-b-c), ring (a line closed), mesh (every pair), random:k (a
// random spanning tree, so the graph is connected, then random links until
// every node has at least k, seeded).
func Topology(kind string, names []string, seed uint64) ([]Pair, error) {
	n := len(names)
	var out []Pair
	switch {
	case kind == TopoLine || (kind == TopoRing && n <= 2):
		for i := 1; i < n; i++ {
			out = append(out, pairOf(names[i-1], names[i]))
		}
	case kind == TopoRing:
		for i := range names {
			out = append(out, pairOf(names[i], names[(i+1)%n]))
		}
	case kind == TopoMesh:
		if n > MaxMeshNodes {
			return nil, fmt.Errorf("%w: a mesh of %d nodes (at most %d; use random:k)", ErrBadTopology, n, MaxMeshNodes)
		}
		for i := range names {
			for j := i + 1; j < n; j++ {
				out = append(out, pairOf(names[i], names[j]))
			}
		}
	case strings.HasPrefix(kind, TopoRandom+":"):
		k, err := strconv.Atoi(strings.TrimPrefix(kind, TopoRandom+":"))
		if err != nil || k < 1 {
			return nil, fmt.Errorf("%w: %q (want random:k with k >= 1)", ErrBadTopology, kind)
		}
		if n > 1 && k > n-1 {
			return nil, fmt.Errorf("%w: random:%d needs more than %d nodes", ErrBadTopology, k, k)
		}
		out = randomGraph(names, k, seed)
	default:
		return nil, fmt.Errorf("%w: %q (want line, ring, mesh or random:k)", ErrBadTopology, kind)
	}
	return out, nil
}

// randomGraph links names into a connected graph where every node has at
// least k links.
func randomGraph(names []string, k int, seed uint64) []Pair {
	rng := rand.New(rand.NewPCG(seed, 0x70b0))
	n := len(names)
	order := rng.Perm(n)
	set := map[Pair]bool{}
	degree := make([]int, n)
	var out []Pair
	add := func(i, j int) bool {
		p := pairOf(names[i], names[j])
		if i == j || set[p] {
			return false
		}
		set[p] = true
		degree[i]++
		degree[j]++
		out = append(out, p)
		return true
	}
	// A random spanning tree: each node joins one already placed.
	for x := 1; x < n; x++ {
		add(order[x], order[rng.IntN(x)])
	}
	for i := range n {
		for tries := 0; degree[i] < k && tries < 50*n; tries++ {
			j := rng.IntN(n)
			if degree[j] >= k+1 && tries < 10*n {
				continue // spread the extra links over nodes still short of k
			}
			add(i, j)
		}
	}
	return out
}
