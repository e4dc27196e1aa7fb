package lab

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// ms renders a duration in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// WriteTable prints the report for people.
func (r Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "session %s .. %s (%v), %d events, %d nodes running\n", r.From.Format(time.TimeOnly), r.To.Format(time.TimeOnly),
		r.To.Sub(r.From).Round(time.Millisecond), r.Events, r.Nodes)
	fmt.Fprintf(w, "blocks found %d, main chain %d (tip %d %.12s), stale %d (%.2f%%), mean block time %v\n",
		r.Found, r.MainChain, r.TipHeight, r.Tip, r.Stale, 100*r.StaleRate, r.BlockTime.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "propagation\tblocks\tp50\tp90\tp99\tmax")
	for _, row := range []struct {
		name string
		d    Dist
	}{{"to 50% of nodes", r.To50}, {"to 90% of nodes", r.To90}, {"to 100% of nodes", r.To100}, {"tx to every node", r.TxTo100}} {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", row.name, row.d.Count, ms(row.d.Median), ms(row.d.P90), ms(row.d.P99), ms(row.d.Max))
	}
	tw.Flush()
	fmt.Fprintf(w, "clean blocks (no fork in their way) %d: to 100%% of nodes p50 %s, p99 %s; mean delay to each other node %s (all blocks: %s)\n",
		r.Clean, ms(r.CleanTo100.Median), ms(r.CleanTo100.P99), ms(r.CleanDelay), ms(r.Delay))
	fmt.Fprintf(w, "forks %d: %.2f%% of main-chain blocks, against 1-e^(-d/T) %.2f%% (per block %.2f%%) with d = %s (hash-weighted delay to the miners) and T = %s (find interval)\n",
		r.Forks, 100*r.ForkRate, 100*r.StaleTextbook, 100*r.ForkPerBlock, ms(r.HashDelay), ms(r.FindInterval))
	var depths []string
	keys := make([]int, 0, len(r.ReorgDepth))
	for d := range r.ReorgDepth {
		keys = append(keys, d)
	}
	sort.Ints(keys)
	for _, d := range keys {
		depths = append(depths, fmt.Sprintf("%d x%d", d, r.ReorgDepth[d]))
	}
	if r.Reorgs == 0 {
		fmt.Fprintln(w, "reorgs 0")
	} else {
		fmt.Fprintf(w, "reorgs %d (depths: %s), deepest %d\n", r.Reorgs, strings.Join(depths, ", "), r.MaxReorg)
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "miner\thash share\tfound\tmain chain\tshare of main chain")
	for _, m := range r.Miners {
		fmt.Fprintf(tw, "%s\t%.1f%%\t%d\t%d\t%.1f%%\n", m.Node, 100*m.HashShare, m.Found, m.MainChain, 100*m.ChainShare)
	}
	tw.Flush()
}

// WriteNodes prints a node table.
func WriteNodes(w io.Writer, nodes []NodeStatus) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "node\tstate\tpeer id\tAPI\tshare\tstrategy\theight\ttip\tpeers")
	for _, s := range nodes {
		state := "running"
		if !s.Running {
			state = "stopped"
		}
		api := s.API
		if api == "" {
			api = "-"
		}
		share := "relay"
		if s.Mining {
			share = fmt.Sprintf("%.1f%%", 100*s.Share)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%.12s\t%d\n", s.Name, state, s.PeerID, api, share, s.Strategy, s.Height, s.Tip, s.Peers)
	}
	tw.Flush()
}
