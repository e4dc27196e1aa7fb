package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
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
	// MaxScenarioLoadTxs bounds the load transactions a scenario keeps to
	// check that none was lost (100 s at MaxLoadTPS).
	MaxScenarioLoadTxs = 100_000
	// loadName is the name "mined" expectations give the load's
	// transactions.
	loadName = "load"
)

// ScenarioFile is the YAML form of a scenario: a network and timed steps.
//
//	name: partition and heal
//	network: ../split-2-2.yaml   # relative to the scenario file
//	steps:
//	  - {at: 0s, expect: height >= 3}
//	  - {at: 1s, do: "partition a,b c,d"}
//	  - {at: 2s, do: send c a 1000, as: t1}
//	  - {at: 2s, do: "load --tps 20 --from c,d"}
//	  - {at: 6s, do: load --tps 0}
//	  - {at: 6s, expect: mined c load, within: 5s}
//	  - {at: 8s, do: remember a main}
//	  - {at: 8s, do: heal}
//	  - {at: 8s, expect: converged, within: 5s}
//	  - {at: 8s, expect: contains main}
//	  - {at: 8s, expect: mined t1, within: 10s}
//	  - {at: 8s, expect: mined load, within: 10s}
//
// A step's do is a control in the CLI's words (partition, heal, shape,
// stop, crash, start, add, mine, hashrate, send, load) or "remember NODE
// NAME" (the node's tip, for "contains NAME"); as names a send's
// transaction for "mined NAME". "load --tps N [--from a,b]" starts,
// changes or (N = 0) stops a transaction load like `chaind devnet load`;
// "mined [NODE] load" expects every transaction it sent so far on the
// main chain of every running node (or of NODE): none lost. In YAML's
// braces a comma ends the value: quote a control that has one.
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

	line int // in the scenario file; 0: not from a file
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
	var lines struct {
		Steps []yaml.Node `yaml:"steps"`
	}
	if yaml.Unmarshal(b, &lines) == nil && len(lines.Steps) == len(f.Steps) {
		for i, n := range lines.Steps {
			f.Steps[i].line = n.Line
		}
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

// check refuses a scenario whose steps cannot run: a control whose words
// are wrong, an expectation that does not parse, a name expected before a
// step gives it. Node names are left to the run (add creates nodes).
func (s *Scenario) check() error {
	if len(s.Steps) == 0 || len(s.Steps) > MaxScenarioSteps {
		return fmt.Errorf("%d steps (want 1..%d)", len(s.Steps), MaxScenarioSteps)
	}
	txs, blocks := map[string]bool{}, map[string]bool{}
	for i, st := range s.Steps {
		if err := st.check(txs, blocks); err != nil {
			where := fmt.Sprintf("step %d", i+1)
			if st.line > 0 {
				where += fmt.Sprintf(" (line %d)", st.line)
			}
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	return nil
}

// stepOps are the controls a scenario step may do.
var stepOps = []string{"partition", "heal", "shape", "stop", "crash", "start", "add", "mine", "hashrate", "send", "load", "remember"}

// check checks one step given the transaction and block names the steps
// before it gave, and adds the names it gives.
func (st StepSpec) check(txs, blocks map[string]bool) error {
	switch {
	case (st.Do == "") == (st.Expect == ""):
		return errors.New("want exactly one of do and expect")
	case st.At < 0 || time.Duration(st.At) > MaxScenarioTime || st.Within < 0 || time.Duration(st.Within) > MaxScenarioTime:
		return fmt.Errorf("times out of range (at and within in 0..%v)", MaxScenarioTime)
	case st.Expect != "":
		if st.As != "" {
			return errors.New("as names the transaction of a send step")
		}
		e, err := parseExpect(st.Expect)
		if err != nil {
			return err
		}
		switch {
		case e.kind == "mined" && !txs[e.name]:
			if e.name == loadName {
				return fmt.Errorf("%q: no load step before it", st.Expect)
			}
			return fmt.Errorf("%q: no send step before it names a transaction %q (as: %s)", st.Expect, e.name, e.name)
		case e.kind == "contains" && !blocks[e.name]:
			return fmt.Errorf("%q: no step before it remembers a block as %q (remember NODE %s)", st.Expect, e.name, e.name)
		}
		return nil
	}
	c, err := ParseCommand(st.Do)
	if err != nil {
		return err
	}
	if !slices.Contains(stepOps, c.Op) {
		return fmt.Errorf("unknown command %q (want %s)", c.Op, strings.Join(stepOps, ", "))
	}
	if st.As != "" {
		switch {
		case c.Op != "send":
			return fmt.Errorf("as names the transaction of a send step, not of %s", c.Op)
		case st.As == loadName:
			return fmt.Errorf("as: %q names the load's transactions; choose another name", loadName)
		case len(strings.Fields(st.As)) != 1:
			return fmt.Errorf("as: %q: want one word", st.As)
		}
		txs[st.As] = true
	}
	switch c.Op {
	case "remember":
		if len(c.Args) != 2 {
			return fmt.Errorf("%w: usage: remember NODE NAME", ErrBadRequest)
		}
		blocks[c.Args[1]] = true
		return nil
	case "load":
		if _, _, err := ParseLoad(c.Args); err != nil {
			return err
		}
		txs[loadName] = true
		return nil
	}
	_, err = parseControl(c)
	return err
}

// expectation is a parsed expect: a kind, an optional node, a comparison.
type expectation struct {
	kind string // converged, height, mined, contains, reorgs, stale, share
	node string
	name string
	op   string
	val  float64
}

// parseExpect parses "converged", "height [NODE] >= N", "mined [NODE]
// NAME" (NAME a send's as, or load), "contains [NODE] NAME", "reorgs
// [NODE] >= N", "stale >= N", "share NODE >= F" (F a fraction or a
// percentage).
func parseExpect(s string) (expectation, error) {
	f := strings.Fields(s)
	bad := fmt.Errorf("expectation %q: want converged, height [NODE] >= N, mined [NODE] NAME, contains [NODE] NAME, reorgs [NODE] >= N, stale >= N or share NODE >= F", s)
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
		switch len(f) {
		case 2:
			e.name = f[1]
		case 3:
			e.node, e.name = f[1], f[2]
		default:
			return e, bad
		}
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

	load     *Load // started by the first load step; stopped when Run ends
	loadMu   sync.Mutex
	loadTxs  []string // the ids the load sent, up to MaxScenarioLoadTxs
	loadOver bool     // it sent more than that
}

type marked struct {
	hash   string
	height uint32
}

// Run runs the steps in order, each no earlier than its time, and returns
// every step's result; passed is true when every step held.
func (r *Runner) Run(ctx context.Context, s *Scenario) (results []StepResult, passed bool) {
	r.txs, r.blocks = map[string]string{}, map[string]marked{}
	r.load, r.loadTxs, r.loadOver = nil, nil, false
	defer func() {
		if r.load != nil {
			r.load.Close()
		}
	}()
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
	if c.Op == "load" {
		return r.doLoad(res, c)
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

// doLoad starts, changes or stops the scenario's load and says how much it
// sent so far.
func (r *Runner) doLoad(res StepResult, c Command) StepResult {
	tps, from, err := ParseLoad(c.Args)
	if err != nil {
		res.Detail = err.Error()
		return res
	}
	if r.load == nil {
		r.load = newLoad(r.Cluster, nil, r.loadSent)
	}
	st, err := r.load.Set(tps, from...)
	if err != nil {
		res.Detail = err.Error()
		return res
	}
	res.OK = true
	if tps == 0 {
		res.Detail = fmt.Sprintf("stopped; %d sent, %d failed", st.Sent, st.Failed)
	} else {
		res.Detail = fmt.Sprintf("%g tps; %d sent, %d failed so far", tps, st.Sent, st.Failed)
	}
	if st.LastErr != "" {
		res.Detail += "; last error: " + st.LastErr
	}
	return res
}

// loadSent keeps a transaction the load sent (the load's goroutine).
func (r *Runner) loadSent(id string) {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	if len(r.loadTxs) >= MaxScenarioLoadTxs {
		r.loadOver = true
		return
	}
	r.loadTxs = append(r.loadTxs, id)
}

// minedLoad checks that every transaction the load sent so far is on the
// main chain of every node in run (where says which they are).
func (r *Runner) minedLoad(run []NodeStatus, where string) (bool, string) {
	r.loadMu.Lock()
	ids, over := slices.Clone(r.loadTxs), r.loadOver
	r.loadMu.Unlock()
	var failed uint64
	if r.load != nil {
		failed = r.load.Status().Failed
	}
	switch {
	case over:
		return false, fmt.Sprintf("the load sent more than %d transactions, too many to check", MaxScenarioLoadTxs)
	case len(ids) == 0:
		return false, fmt.Sprintf("the load sent no transaction (%d failed)", failed)
	}
	for _, s := range run {
		missing, first := 0, ""
		for _, id := range ids {
			if m, err := r.Cluster.Mined(s.Name, id); err != nil || !m {
				if missing == 0 {
					first = id
				}
				missing++
			}
		}
		if missing > 0 {
			return false, fmt.Sprintf("%d of %d load transactions not mined at %s (the first %.12s)", missing, len(ids), s.Name, first)
		}
	}
	return true, fmt.Sprintf("all %d load transactions mined at %s (%d failed to send)", len(ids), where, failed)
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
		if e.name == loadName {
			where := "every running node"
			if e.node != "" {
				where = e.node
			}
			return r.minedLoad(run, where)
		}
		id, ok := r.txs[e.name]
		if !ok {
			return false, fmt.Sprintf("no transaction named %q was sent", e.name)
		}
		for _, s := range run {
			if m, err := r.Cluster.Mined(s.Name, id); err != nil || !m {
				return false, fmt.Sprintf("%s not mined at %s", e.name, s.Name)
			}
		}
		if e.node != "" {
			return true, fmt.Sprintf("%s mined at %s", e.name, e.node)
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
		if e.node != "" {
			return true, fmt.Sprintf("%s has %.12s at %d", e.node, b.hash, b.height)
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
