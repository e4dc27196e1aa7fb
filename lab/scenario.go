package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Scenario bounds.
const (
	// DefaultWithin is how long an expectation may take to hold.
	DefaultWithin = 5 * time.Second
	// MaxScenarioSteps bounds a scenario.
	MaxScenarioSteps = 1000
	// MaxScenarioTime bounds a step's time.
	MaxScenarioTime = 24 * time.Hour
	// expectPoll is how often an expectation is checked while it waits.
	expectPoll = 50 * time.Millisecond
)

// ScenarioFile is the YAML form of a scenario: a network and timed steps.
//
//	name: partition and heal
//	network: ../split-2-2.yaml   # relative to the scenario file
//	steps:
//	  - {at: 0s, expect: height >= 3}
//	  - {at: 1s, do: partition a,b c,d}
//	  - {at: 2s, do: send c a 1000, as: t1}
//	  - {at: 8s, do: remember a main}
//	  - {at: 8s, do: heal}
//	  - {at: 8s, expect: converged, within: 5s}
//	  - {at: 8s, expect: contains main}
//	  - {at: 8s, expect: mined t1, within: 10s}
type ScenarioFile struct {
	Name    string      `yaml:"name"`
	Network string      `yaml:"network"`
	Seed    uint64      `yaml:"seed"`
	Steps   []StepSpec  `yaml:"steps"`
	Inline  NetworkFile `yaml:"inline_network"`
}

// StepSpec is one step: at a time from the start, a control (do) or an
// expectation (expect, which may take up to within to hold).
type StepSpec struct {
	At     Duration `yaml:"at"`
	Do     string   `yaml:"do"`
	As     string   `yaml:"as"`
	Expect string   `yaml:"expect"`
	Within Duration `yaml:"within"`
}

// Scenario is a parsed scenario with its network.
type Scenario struct {
	Name    string
	Network *Network
	Steps   []StepSpec
}

// LoadScenario reads a scenario file and the network it names; seed, when
// non-zero, replaces the network's seed.
func LoadScenario(path string, seed uint64) (*Scenario, error) {
	b, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	var f ScenarioFile
	if err := decodeStrict(b, &f); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	var n *Network
	if f.Network != "" {
		np := f.Network
		if !filepath.IsAbs(np) {
			np = filepath.Join(filepath.Dir(path), np)
		}
		if n, err = LoadNetwork(np); err != nil {
			return nil, fmt.Errorf("scenario %s: %w", path, err)
		}
	} else if n, err = f.Inline.Resolve(); err != nil {
		return nil, fmt.Errorf("scenario %s: inline_network: %w", path, err)
	}
	if f.Seed != 0 {
		n.Seed = f.Seed
	}
	if seed != 0 {
		n.Seed = seed
	}
	s := &Scenario{Name: f.Name, Network: n, Steps: f.Steps}
	if s.Name == "" {
		s.Name = filepath.Base(path)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return s, nil
}

func (s *Scenario) check() error {
	if len(s.Steps) == 0 || len(s.Steps) > MaxScenarioSteps {
		return fmt.Errorf("%d steps (want 1..%d)", len(s.Steps), MaxScenarioSteps)
	}
	for i, st := range s.Steps {
		switch {
		case (st.Do == "") == (st.Expect == ""):
			return fmt.Errorf("step %d: want exactly one of do and expect", i+1)
		case st.At < 0 || time.Duration(st.At) > MaxScenarioTime || st.Within < 0 || time.Duration(st.Within) > MaxScenarioTime:
			return fmt.Errorf("step %d: times out of range", i+1)
		case st.Do != "":
			c, err := ParseCommand(st.Do)
			if err != nil {
				return fmt.Errorf("step %d: %w", i+1, err)
			}
			if c.Op != "remember" && !knownOp(c.Op) {
				return fmt.Errorf("step %d: unknown command %q", i+1, c.Op)
			}
		case st.Expect != "":
			if _, err := parseExpect(st.Expect); err != nil {
				return fmt.Errorf("step %d: %w", i+1, err)
			}
		}
	}
	return nil
}

func knownOp(op string) bool {
	switch op {
	case "partition", "heal", "shape", "stop", "crash", "start", "add", "mine", "hashrate", "send":
		return true
	}
	return false
}

// expectation is a parsed expect: a kind, an optional node, a comparison.
type expectation struct {
	kind string // converged, height, mined, contains, reorgs, stale, share
	node string
	name string
	op   string
	val  float64
}

// parseExpect parses "converged", "height [NODE] >= N", "mined NAME",
// "contains NAME", "reorgs [NODE] >= N", "stale >= N", "share NODE >= F"
// (F a fraction or a percentage).
func parseExpect(s string) (expectation, error) {
	f := strings.Fields(s)
	bad := fmt.Errorf("expectation %q: want converged, height [NODE] >= N, mined NAME, contains NAME, reorgs [NODE] >= N, stale >= N or share NODE >= F", s)
	if len(f) == 0 {
		return expectation{}, bad
	}
	e := expectation{kind: f[0]}
	switch e.kind {
	case "converged":
		if len(f) != 1 {
			return e, bad
		}
		return e, nil
	case "mined", "contains":
		if len(f) != 2 {
			return e, bad
		}
		e.name = f[1]
		return e, nil
	case "height", "reorgs", "stale", "share":
	default:
		return e, bad
	}
	rest := f[1:]
	if len(rest) == 3 {
		e.node, rest = rest[0], rest[1:]
	}
	if len(rest) != 2 || (e.kind == "share" && e.node == "") {
		return e, bad
	}
	switch rest[0] {
	case ">=", "<=", "==", ">", "<":
		e.op = rest[0]
	default:
		return e, bad
	}
	v := rest[1]
	scale := 1.0
	if strings.HasSuffix(v, "%") {
		v, scale = strings.TrimSuffix(v, "%"), 100
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return e, bad
	}
	e.val = x / scale
	return e, nil
}

func compare(x float64, op string, v float64) bool {
	switch op {
	case ">=":
		return x >= v
	case "<=":
		return x <= v
	case "==":
		return x == v
	case ">":
		return x > v
	}
	return x < v
}

// StepResult is what one step came to.
type StepResult struct {
	At     time.Duration `json:"at"`
	Step   string        `json:"step"`
	OK     bool          `json:"ok"`
	Detail string        `json:"detail,omitempty"`
}

// Runner runs a scenario on a cluster.
type Runner struct {
	Cluster     Cluster
	Observatory *Observatory
	Out         io.Writer // a line per step; nil: quiet

	txs    map[string]string // name -> tx id
	blocks map[string]marked // name -> remembered block
}

type marked struct {
	hash   string
	height uint32
}

// Run runs the steps in order, each no earlier than its time, and returns
// every step's result; passed is true when every step held.
func (r *Runner) Run(ctx context.Context, s *Scenario) (results []StepResult, passed bool) {
	r.txs, r.blocks = map[string]string{}, map[string]marked{}
	start := time.Now()
	passed = true
	for _, st := range s.Steps {
		if d := time.Until(start.Add(time.Duration(st.At))); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return append(results, StepResult{At: time.Since(start), Step: "cancelled", Detail: ctx.Err().Error()}), false
			}
		}
		var res StepResult
		if st.Do != "" {
			res = r.do(ctx, st)
		} else {
			res = r.expect(ctx, st)
		}
		res.At = time.Since(start).Round(time.Millisecond)
		if !res.OK {
			passed = false
		}
		r.Observatory.Add(Event{T: time.Now(), Kind: KindNote, Detail: fmt.Sprintf("%s: ok=%v %s", res.Step, res.OK, res.Detail)})
		if r.Out != nil {
			mark := "ok  "
			if !res.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(r.Out, "%8.3fs  %s  %s", res.At.Seconds(), mark, res.Step)
			if res.Detail != "" {
				fmt.Fprintf(r.Out, "  (%s)", res.Detail)
			}
			fmt.Fprintln(r.Out)
		}
		results = append(results, res)
	}
	return results, passed
}

func (r *Runner) do(ctx context.Context, st StepSpec) StepResult {
	res := StepResult{Step: "do " + st.Do}
	c, _ := ParseCommand(st.Do)
	if c.Op == "remember" {
		// remember NODE NAME: the node's tip, to expect "contains NAME" later.
		if len(c.Args) != 2 {
			res.Detail = "usage: remember NODE NAME"
			return res
		}
		for _, s := range r.Cluster.Status() {
			if s.Name == c.Args[0] && s.Running {
				r.blocks[c.Args[1]] = marked{hash: s.Tip, height: s.Height}
				res.OK, res.Detail = true, fmt.Sprintf("%.12s at %d", s.Tip, s.Height)
				return res
			}
		}
		res.Detail = fmt.Sprintf("no running node %q", c.Args[0])
		return res
	}
	out, err := Apply(ctx, r.Cluster, c)
	if err != nil {
		res.Detail = err.Error()
		return res
	}
	res.OK = true
	if c.Op == "send" && st.As != "" {
		r.txs[st.As] = out
		res.Detail = st.As + " = " + out[:12]
	}
	return res
}

func (r *Runner) expect(ctx context.Context, st StepSpec) StepResult {
	res := StepResult{Step: "expect " + st.Expect}
	e, err := parseExpect(st.Expect)
	if err != nil {
		res.Detail = err.Error()
		return res
	}
	within := time.Duration(st.Within)
	if within == 0 {
		within = DefaultWithin
	}
	begin := time.Now()
	deadline := begin.Add(within)
	for {
		ok, detail := r.check(e)
		if ok {
			res.OK, res.Detail = true, fmt.Sprintf("held after %v; %s", time.Since(begin).Round(time.Millisecond), detail)
			return res
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			res.Detail = fmt.Sprintf("not within %v: %s", within, detail)
			return res
		}
		time.Sleep(expectPoll)
	}
}

// check evaluates an expectation once.
func (r *Runner) check(e expectation) (bool, string) {
	status := r.Cluster.Status()
	var run []NodeStatus
	for _, s := range status {
		if s.Running && (e.node == "" || s.Name == e.node) {
			run = append(run, s)
		}
	}
	if e.node != "" && len(run) == 0 {
		return false, fmt.Sprintf("node %q is not running", e.node)
	}
	if len(run) == 0 {
		return false, "no node is running"
	}
	switch e.kind {
	case "converged":
		for _, s := range run[1:] {
			if s.Tip != run[0].Tip {
				return false, tipsLine(run)
			}
		}
		return true, fmt.Sprintf("%d nodes at %d %.12s", len(run), run[0].Height, run[0].Tip)
	case "height":
		for _, s := range run {
			if !compare(float64(s.Height), e.op, e.val) {
				return false, tipsLine(run)
			}
		}
		return true, tipsLine(run)
	case "mined":
		id, ok := r.txs[e.name]
		if !ok {
			return false, fmt.Sprintf("no transaction named %q was sent", e.name)
		}
		for _, s := range run {
			if m, err := r.Cluster.Mined(s.Name, id); err != nil || !m {
				return false, fmt.Sprintf("%s not mined at %s", e.name, s.Name)
			}
		}
		return true, fmt.Sprintf("%s mined at every running node", e.name)
	case "contains":
		b, ok := r.blocks[e.name]
		if !ok {
			return false, fmt.Sprintf("no block remembered as %q", e.name)
		}
		for _, s := range run {
			h, err := r.Cluster.HashAt(s.Name, b.height)
			if err != nil || h != b.hash {
				return false, fmt.Sprintf("%s has %.12s at %d, not %.12s", s.Name, h, b.height, b.hash)
			}
		}
		return true, fmt.Sprintf("every running node has %.12s at %d", b.hash, b.height)
	}
	rep := r.Observatory.Report()
	switch e.kind {
	case "reorgs":
		n := rep.Reorgs
		if e.node != "" {
			n = r.Observatory.ReorgsOf(e.node)
		}
		return compare(float64(n), e.op, e.val), fmt.Sprintf("%d reorgs", n)
	case "stale":
		return compare(float64(rep.Stale), e.op, e.val), fmt.Sprintf("%d stale of %d found", rep.Stale, rep.Found)
	case "share":
		for _, m := range rep.Miners {
			if m.Node == e.node {
				return compare(m.ChainShare, e.op, e.val), fmt.Sprintf("%s has %.3f of the main chain (%d of %d), hash share %.2f",
					e.node, m.ChainShare, m.MainChain, rep.MainChain, m.HashShare)
			}
		}
		return false, fmt.Sprintf("%s found no block", e.node)
	}
	return false, "unknown expectation"
}

func tipsLine(ss []NodeStatus) string {
	var b strings.Builder
	for i, s := range ss {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s:%d:%.8s", s.Name, s.Height, s.Tip)
	}
	return b.String()
}

// ErrScenarioFailed is returned when an expectation did not hold.
var ErrScenarioFailed = errors.New("scenario failed")
