package lab

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Command is one control in the CLI's words: "partition a,b c,d", "heal",
// "shape a-b --delay 200ms --jitter 20ms --loss 5%", "stop c", "crash c",
// "start c", "add e --peer a", "mine a 5", "hashrate a 60", "send a b 1000".
type Command struct {
	Op   string
	Args []string
}

// ParseCommand splits a control into its words.
func ParseCommand(s string) (Command, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return Command{}, fmt.Errorf("%w: empty command", ErrBadRequest)
	}
	return Command{Op: f[0], Args: f[1:]}, nil
}

func (c Command) String() string { return strings.TrimSpace(c.Op + " " + strings.Join(c.Args, " ")) }

// flags reads "--name value", "name value" and "name=value" pairs.
func flags(args []string, allowed ...string) (map[string]string, error) {
	out := map[string]string{}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for i := 0; i < len(args); i++ {
		k := strings.TrimLeft(args[i], "-")
		v := ""
		if j := strings.IndexByte(k, '='); j >= 0 {
			k, v = k[:j], k[j+1:]
		} else if i+1 < len(args) {
			i++
			v = args[i]
		} else {
			return nil, fmt.Errorf("%w: %s needs a value", ErrBadRequest, args[i])
		}
		if !ok[k] {
			return nil, fmt.Errorf("%w: unknown option %q (want %s)", ErrBadRequest, k, strings.Join(allowed, ", "))
		}
		out[k] = v
	}
	return out, nil
}

// ParseShape reads a shape from options delay, jitter, loss, bandwidth.
func ParseShape(args []string) (Shape, error) {
	f, err := flags(args, "delay", "latency", "jitter", "loss", "bandwidth")
	if err != nil {
		return Shape{}, err
	}
	var s Shape
	for k, v := range f {
		switch k {
		case "delay", "latency":
			s.Latency, err = ParseDuration(v)
		case "jitter":
			s.Jitter, err = ParseDuration(v)
		case "loss":
			s.Loss, err = ParsePercent(v)
		case "bandwidth":
			s.Bandwidth, err = ParseBandwidth(v)
		}
		if err != nil {
			return Shape{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
	}
	if err := s.Check(); err != nil {
		return Shape{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return s, nil
}

// ParseGroups reads partition groups "a,b" "c,d".
func ParseGroups(args []string) ([][]string, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: partition needs groups (a,b c,d)", ErrBadRequest)
	}
	var gs [][]string
	for _, a := range args {
		var g []string
		for _, name := range strings.Split(a, ",") {
			if name = strings.TrimSpace(name); name != "" {
				g = append(g, name)
			}
		}
		if len(g) == 0 {
			return nil, fmt.Errorf("%w: empty group in %q", ErrBadRequest, a)
		}
		gs = append(gs, g)
	}
	return gs, nil
}

// ParseShare reads a hash-rate share given in percent ("60", "60%").
func ParseShare(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 100 {
		return 0, fmt.Errorf("%w: share %q: want a percentage 0..100", ErrBadRequest, s)
	}
	return f / 100, nil
}

func want(c Command, n int, usage string) error {
	if len(c.Args) != n {
		return fmt.Errorf("%w: usage: %s", ErrBadRequest, usage)
	}
	return nil
}

// Apply runs a command on a cluster and returns what it produced (block
// hashes of mine, the transaction id of send).
func Apply(ctx context.Context, cl Cluster, c Command) (string, error) {
	run, err := parseControl(c)
	if err != nil {
		return "", err
	}
	return run(ctx, cl)
}

// control is a parsed cluster control, ready to run.
type control func(ctx context.Context, cl Cluster) (string, error)

// parseControl checks a cluster control's words (all but the node names,
// which only the cluster knows) and returns it ready to run, so a scenario
// file's broken step is refused before the network starts.
func parseControl(c Command) (control, error) {
	none := func(err error) (string, error) { return "", err }
	switch c.Op {
	case "partition":
		gs, err := ParseGroups(c.Args)
		if err != nil {
			return nil, err
		}
		return func(_ context.Context, cl Cluster) (string, error) { return none(cl.Partition(gs)) }, nil
	case "heal":
		if err := want(c, 0, "heal"); err != nil {
			return nil, err
		}
		return func(_ context.Context, cl Cluster) (string, error) { return none(cl.Heal()) }, nil
	case "shape":
		if len(c.Args) < 1 {
			return nil, fmt.Errorf("%w: usage: shape a-b --delay 200ms --jitter 20ms --loss 5%% --bandwidth 10Mbit", ErrBadRequest)
		}
		p, err := ParsePair(c.Args[0], nil)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		s, err := ParseShape(c.Args[1:])
		if err != nil {
			return nil, err
		}
		return func(_ context.Context, cl Cluster) (string, error) { return none(cl.Shape(p, s)) }, nil
	case "stop", "crash", "start":
		if err := want(c, 1, c.Op+" NODE"); err != nil {
			return nil, err
		}
		op, name := c.Op, c.Args[0]
		return func(_ context.Context, cl Cluster) (string, error) {
			switch op {
			case "stop":
				return none(cl.Stop(name))
			case "crash":
				return none(cl.Crash(name))
			}
			return none(cl.Start(name))
		}, nil
	case "add":
		if len(c.Args) < 2 {
			return nil, fmt.Errorf("%w: usage: add NODE --peer a[,b]", ErrBadRequest)
		}
		f, err := flags(c.Args[1:], "peer")
		if err != nil {
			return nil, err
		}
		gs, err := ParseGroups([]string{f["peer"]})
		if err != nil {
			return nil, err
		}
		name := c.Args[0]
		return func(_ context.Context, cl Cluster) (string, error) { return none(cl.Add(name, gs[0])) }, nil
	case "mine":
		if err := want(c, 2, "mine NODE BLOCKS"); err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(c.Args[1])
		if err != nil {
			return nil, fmt.Errorf("%w: blocks %q", ErrBadRequest, c.Args[1])
		}
		if err := checkMine(n); err != nil {
			return nil, err
		}
		name := c.Args[0]
		return func(ctx context.Context, cl Cluster) (string, error) {
			hs, err := cl.Mine(ctx, name, n)
			return strings.Join(hs, " "), err
		}, nil
	case "hashrate":
		if err := want(c, 2, "hashrate NODE PERCENT"); err != nil {
			return nil, err
		}
		s, err := ParseShare(c.Args[1])
		if err != nil {
			return nil, err
		}
		name := c.Args[0]
		return func(_ context.Context, cl Cluster) (string, error) { return none(cl.SetShare(name, s)) }, nil
	case "send":
		if err := want(c, 3, "send FROM TO AMOUNT"); err != nil {
			return nil, err
		}
		amt, err := strconv.ParseUint(c.Args[2], 10, 64)
		if err != nil || amt == 0 {
			return nil, fmt.Errorf("%w: amount %q: want a whole number of base units above 0", ErrBadRequest, c.Args[2])
		}
		from, to := c.Args[0], c.Args[1]
		return func(_ context.Context, cl Cluster) (string, error) { return cl.Send(from, to, amt) }, nil
	}
	return nil, fmt.Errorf("%w: unknown command %q (partition, heal, shape, stop, crash, start, add, mine, hashrate, send)", ErrBadRequest, c.Op)
}

// ParseLoad reads the load control's options: --tps N (0 stops the load)
// and optionally --from a,b, the nodes whose keys send (every running
// node's when not given).
func ParseLoad(args []string) (tps float64, from []string, err error) {
	f, err := flags(args, "tps", "from")
	if err != nil {
		return 0, nil, err
	}
	v, ok := f["tps"]
	if !ok {
		return 0, nil, fmt.Errorf("%w: usage: load --tps N [--from a,b]", ErrBadRequest)
	}
	tps, err = strconv.ParseFloat(v, 64)
	if err != nil || !(tps >= 0 && tps <= MaxLoadTPS) {
		return 0, nil, fmt.Errorf("%w: tps %q: want a rate in 0..%d", ErrBadRequest, v, MaxLoadTPS)
	}
	if v, ok := f["from"]; ok {
		gs, err := ParseGroups([]string{v})
		if err != nil {
			return 0, nil, fmt.Errorf("%w: --from wants nodes a,b", ErrBadRequest)
		}
		from = gs[0]
	}
	return tps, from, nil
}
