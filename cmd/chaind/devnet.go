package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaind/chaind/lab"
)

// defaultController is where `chaind devnet` serves its controller and
// where the control subcommands look for it.
const defaultController = "127.0.0.1:3100"

// devnetCmd is `chaind devnet`: a whole network in one process, and the
// controls that steer a running one.
func devnetCmd() *cobra.Command {
	var f devnetFlags
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a whole network in one process and steer it",
		Long: `chaind devnet starts N full nodes in one process (default 4) with a controller
that partitions the network, shapes links, stops, crashes, starts and adds
nodes, sets hash-rate shares, and measures propagation, stale blocks, reorgs
and miners' shares. Other subcommands talk to a running devnet's controller.`,
		Example: `  chaind devnet --sim --nodes 4 --topology ring
  chaind devnet --sim --network examples/three-line.yaml
  chaind devnet partition a,b c,d
  chaind devnet heal
  chaind devnet shape a-b --delay 200ms --jitter 20ms --loss 5%
  chaind devnet stop c; chaind devnet crash c; chaind devnet start c
  chaind devnet add e --peer a
  chaind devnet mine a 5
  chaind devnet hashrate a 60
  chaind devnet load --tps 100
  chaind devnet report [--json]
  chaind devnet scenario examples/scenarios/partition-60-40.yaml --seed 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			return f.run(cmd)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.nodes, "nodes", 4, "nodes, when no --network file is given")
	fl.StringVar(&f.topology, "topology", "ring", "line, ring, mesh or random:k, when no --network file is given")
	fl.StringVar(&f.network, "network", "", "network file (YAML): nodes, shares, strategies, links")
	fl.BoolVar(&f.sim, "sim", false, "run on the in-memory network (memnet) instead of libp2p on loopback")
	fl.StringVar(&f.dir, "dir", "", "libp2p devnet: one data directory per node (Pebble) under this folder (default: a temporary one, removed at stop)")
	fl.BoolVar(&f.ephemeral, "ephemeral", false, "libp2p devnet: keep each node's chain in memory instead of Pebble (a --sim devnet always does)")
	fl.StringVar(&f.controller, "controller", defaultController, "controller HTTP address (loopback)")
	fl.Uint64Var(&f.seed, "seed", 0, "seed for topology, loss, jitter and simulated miners (0: the file's)")
	fl.StringVar(&f.record, "record", "", "record the session as JSON lines to this file (the network view can replay it)")
	fl.StringVar(&f.replay, "replay", "", "offer this recorded session (JSON lines) for replay in the network view, instead of the --record file")
	fl.StringVar(&f.logLevel, "log-level", "warn", "log level (debug, info, warn, error)")
	fl.DurationVar(&f.duration, "for", 0, "stop after this long and print the report (0: run until Ctrl-C)")
	fl.DurationVar(&f.warmup, "warmup", 0, "leave the blocks found in the first D after the nodes started out of the final report (a large network's first status rounds)")
	fl.BoolVar(&f.json, "json", false, "print the final report as JSON")
	fl.Float64Var(&f.tps, "tps", 0, "transaction load from the start: N signed transactions a second through the nodes (see 'load')")

	var ctl string
	for _, sub := range []struct{ use, short string }{
		{"partition GROUP GROUP...", "cut the network into groups: partition a,b c,d"},
		{"heal", "join a partitioned network again"},
		{"shape A-B [--delay D] [--jitter D] [--loss P] [--bandwidth B]", "shape the link between two nodes"},
		{"stop NODE", "stop a node cleanly"},
		{"crash NODE", "kill a node without a clean stop"},
		{"start NODE", "start a stopped node on its store"},
		{"add NODE --peer A[,B]", "start a new node linked to peers"},
		{"mine NODE BLOCKS", "have a node mine blocks now"},
		{"hashrate NODE PERCENT", "set a node's share of the network's hash rate"},
		{"send FROM TO AMOUNT", "send base units from one node's key to another's"},
		{"load --tps N [--from A,B]", "send N transactions a second through the nodes, from their keys in turn (all nodes', or A's and B's; 0 stops)"},
	} {
		sub := sub
		c := &cobra.Command{
			Use:                sub.use,
			Short:              sub.short,
			DisableFlagParsing: true, // the control's own options (--delay, --peer) pass through
			RunE: func(cmd *cobra.Command, args []string) error {
				args, addr := controllerArg(args, ctl)
				op := strings.Fields(sub.use)[0]
				ctx, cancel := signalContext()
				defer cancel()
				res, err := lab.NewClient(addr).Control(ctx, lab.Command{Op: op, Args: args})
				if err != nil {
					return err
				}
				printResult(cmd, op, args, res)
				return nil
			},
		}
		cmd.AddCommand(c)
	}
	cmd.PersistentFlags().StringVar(&ctl, "controller", defaultController, "the devnet controller's address")
	cmd.AddCommand(reportCmd(&ctl), nodesCmd(&ctl), scenarioCmd(), replayCmd())
	return cmd
}

// controllerArg takes a --controller option out of a control's raw args.
func controllerArg(args []string, def string) ([]string, string) {
	addr := def
	if v := os.Getenv("CHAIND_CONTROLLER"); v != "" {
		addr = v
	}
	var out []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--controller" && i+1 < len(args):
			addr = args[i+1]
			i++
		case strings.HasPrefix(a, "--controller="):
			addr = strings.TrimPrefix(a, "--controller=")
		default:
			out = append(out, a)
		}
	}
	return out, addr
}

func printResult(cmd *cobra.Command, op string, args []string, res any) {
	w := cmd.OutOrStdout()
	switch v := res.(type) {
	case nil:
		fmt.Fprintln(w, strings.TrimSpace(op+" "+strings.Join(args, " "))+": ok")
	case []any:
		for _, x := range v {
			fmt.Fprintln(w, x)
		}
	case map[string]any:
		if op == "load" {
			fmt.Fprintf(w, "load: %v tx/s", v["tps"])
			if from, ok := v["from"].([]any); ok && len(from) > 0 {
				names := make([]string, len(from))
				for i, x := range from {
					names[i] = fmt.Sprint(x)
				}
				fmt.Fprintf(w, " from %s", strings.Join(names, ","))
			}
			fmt.Fprintf(w, "; sent %v, failed %v", v["sent"], v["failed"])
			if e, ok := v["last_error"]; ok {
				fmt.Fprintf(w, "; last error: %v", e)
			}
			fmt.Fprintln(w)
			return
		}
		b, _ := json.Marshal(v)
		fmt.Fprintln(w, string(b))
	default:
		fmt.Fprintln(w, v)
	}
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func reportCmd(ctl *string) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "report",
		Short: "print the observatory's report of a running devnet",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			var r lab.Report
			if err := lab.NewClient(*ctl).Do(ctx, http.MethodGet, "/report", nil, &r); err != nil {
				return err
			}
			return printReport(cmd, r, asJSON)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func printReport(cmd *cobra.Command, r lab.Report, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	r.WriteTable(cmd.OutOrStdout())
	return nil
}

func nodesCmd(ctl *string) *cobra.Command {
	return &cobra.Command{
		Use:   "nodes",
		Short: "list a running devnet's nodes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			var ns []lab.NodeStatus
			if err := lab.NewClient(*ctl).Do(ctx, http.MethodGet, "/nodes", nil, &ns); err != nil {
				return err
			}
			lab.WriteNodes(cmd.OutOrStdout(), ns)
			return nil
		},
	}
}

func replayCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "replay FILE",
		Short: "recompute the report of a recorded session (JSON lines)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fh, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer fh.Close()
			evs, err := lab.ReadEvents(fh)
			if err != nil {
				return err
			}
			return printReport(cmd, lab.Replay(evs).Report(), asJSON)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func scenarioCmd() *cobra.Command {
	var seed uint64
	var record string
	var asJSON bool
	c := &cobra.Command{
		Use:   "scenario FILE",
		Short: "run a scenario file; exit status 0 when every expectation held",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := lab.LoadScenario(args[0], seed)
			if err != nil {
				return err
			}
			obs, closeRec, err := observatory(record)
			if err != nil {
				return err
			}
			defer closeRec()
			cl, cleanup, err := startCluster(s.Network, obs, slog.New(slog.DiscardHandler), "", false)
			if err != nil {
				return err
			}
			defer cleanup()
			defer cl.Close()
			ctx, cancel := signalContext()
			defer cancel()
			fmt.Fprintf(cmd.OutOrStdout(), "scenario %s: %d nodes on %s, seed %d\n", s.Name, len(s.Network.Nodes), s.Network.Transport, s.Network.Seed)
			_, ok := (&lab.Runner{Cluster: cl, Observatory: obs, Out: cmd.OutOrStdout()}).Run(ctx, s)
			if err := printReport(cmd, obs.Report(), asJSON); err != nil {
				return err
			}
			if !ok {
				return lab.ErrScenarioFailed
			}
			fmt.Fprintln(cmd.OutOrStdout(), "every expectation held")
			return nil
		},
	}
	c.Flags().Uint64Var(&seed, "seed", 0, "seed (0: the file's)")
	c.Flags().StringVar(&record, "record", "", "record the session as JSON lines to this file")
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return c
}

// observatory returns an observatory recording to path (none when empty).
func observatory(path string) (*lab.Observatory, func(), error) {
	if path == "" {
		return lab.NewObservatory(nil), func() {}, nil
	}
	fh, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("record: %w", err)
	}
	return lab.NewObservatory(lab.NewRecorder(fh)), func() { fh.Close() }, nil
}

// startCluster starts the network on its transport: memnet, or libp2p on
// loopback with a Pebble store per node under dir (a temporary directory,
// removed at stop, when dir is empty), or a memory store when ephemeral.
func startCluster(n *lab.Network, obs *lab.Observatory, log *slog.Logger, dir string, ephemeral bool) (lab.Cluster, func(), error) {
	if n.Transport == lab.TransportMemnet {
		c, err := lab.NewMemCluster(lab.MemConfig{Network: n, Observatory: obs, Logger: log})
		return c, func() {}, err
	}
	cleanup := func() {}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "chaind-devnet-")
		if err != nil {
			return nil, nil, err
		}
		dir, cleanup = tmp, func() { os.RemoveAll(tmp) }
	}
	c, err := lab.NewP2PCluster(lab.P2PConfig{Network: n, Dir: dir, Ephemeral: ephemeral, Observatory: obs, Logger: log})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return c, cleanup, nil
}

type devnetFlags struct {
	nodes      int
	topology   string
	network    string
	sim        bool
	controller string
	seed       uint64
	record     string
	replay     string
	dir        string
	ephemeral  bool
	logLevel   string
	duration   time.Duration
	warmup     time.Duration
	json       bool
	tps        float64
}

// networkOf builds the network from the file or the flags.
func (f *devnetFlags) networkOf() (*lab.Network, error) {
	if f.network != "" {
		n, err := lab.LoadNetwork(f.network)
		if err != nil {
			return nil, err
		}
		if f.sim {
			n.Transport = lab.TransportMemnet
		}
		if f.seed != 0 {
			n.Seed = f.seed
		}
		return n, nil
	}
	if f.nodes < 1 || f.nodes > lab.MaxNodes {
		return nil, fmt.Errorf("--nodes %d not in 1..%d", f.nodes, lab.MaxNodes)
	}
	nf := lab.NetworkFile{Name: "devnet", Topology: f.topology, Seed: f.seed}
	if f.sim {
		nf.Transport = lab.TransportMemnet
	}
	for i := range f.nodes {
		name := fmt.Sprintf("n%02d", i+1)
		if f.nodes <= 26 {
			name = string(rune('a' + i))
		}
		nf.Nodes = append(nf.Nodes, lab.NodeSpec{Name: name})
	}
	if f.nodes == 1 {
		nf.Topology = ""
	}
	return nf.Resolve()
}

func (f *devnetFlags) run(cmd *cobra.Command) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	n, err := f.networkOf()
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(f.controller)
	if err != nil {
		return fmt.Errorf("--controller: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--controller %s: the controller listens on loopback only", f.controller)
	}
	offer := cmp.Or(f.replay, f.record)
	if f.replay != "" {
		// Checked now rather than at the first click in the view.
		fh, err := os.Open(f.replay)
		if err != nil {
			return fmt.Errorf("--replay: %w", err)
		}
		st, err := fh.Stat()
		if err == nil && st.Size() > lab.MaxRecordingSize {
			err = fmt.Errorf("%d bytes, over the network view's %d (chaind devnet replay reads it)", st.Size(), lab.MaxRecordingSize)
		}
		if err == nil {
			_, err = lab.ReadEvents(fh)
		}
		fh.Close()
		if err != nil {
			return fmt.Errorf("--replay %s: %w", f.replay, err)
		}
	}
	obs, closeRec, err := observatory(f.record)
	if err != nil {
		return err
	}
	defer closeRec()
	ln, err := net.Listen("tcp", f.controller)
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	if f.warmup < 0 {
		ln.Close()
		return fmt.Errorf("--warmup %v: negative", f.warmup)
	}
	cl, cleanup, err := startCluster(n, obs, log, f.dir, f.ephemeral)
	started := time.Now()
	if err != nil {
		ln.Close()
		return err
	}
	defer cleanup()
	ctl := lab.NewController(cl, obs, log)
	defer ctl.Close()
	if offer != "" {
		ctl.OfferRecording(offer)
	}
	if f.tps > 0 {
		if _, err := ctl.Load().Set(f.tps); err != nil {
			ln.Close()
			return err
		}
	}
	srv := &http.Server{Handler: ctl, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()

	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "devnet %q: %d nodes on %s, %d links, controller http://%s%s\n", n.Name, len(n.Nodes), n.Transport,
		len(n.Links), ln.Addr(), lab.APIPrefix)
	lab.WriteNodes(out, cl.Status())
	fmt.Fprintf(out, "watch and steer it in a browser: http://%s/\n", ln.Addr())
	fmt.Fprintln(out, "steer it from another terminal: chaind devnet partition a,b c,d | heal | report; Ctrl-C stops it")

	ctx, cancel := signalContext()
	defer cancel()
	if f.duration > 0 {
		var cancelFor context.CancelFunc
		ctx, cancelFor = context.WithTimeout(ctx, f.duration)
		defer cancelFor()
	}
	select {
	case <-ctx.Done():
	case err := <-done:
		ctl.Close()
		cl.Close()
		return fmt.Errorf("controller: %w", err)
	}
	fmt.Fprintln(out, "stopping the devnet")
	shut, cancelShut := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelShut()
	srv.Shutdown(shut)
	ctl.Close()
	if err := cl.Close(); err != nil {
		return err
	}
	var since time.Time // every block
	if f.warmup > 0 {
		since = started.Add(f.warmup)
	}
	return printReport(cmd, obs.ReportSince(since), f.json)
}
