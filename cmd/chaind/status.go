package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/client"
)

func statusCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show a running node's network, height, tip, peers and mempool",
		Example: "  chaind status\n  chaind status --api http://127.0.0.1:3002 --json",
		Args:    cobra.NoArgs,
		RunE: apiRunE(&f, func(ctx context.Context, c *client.Client, _ []string) (*apitypes.Status, error) {
			return c.Status(ctx)
		}, func(w io.Writer, s *apitypes.Status) {
			fmt.Fprintf(w, "network     %s (genesis %s)\n", s.Network, s.Genesis)
			fmt.Fprintf(w, "height      %d\n", s.Height)
			fmt.Fprintf(w, "tip         %s (%s)\n", s.Tip, time.Unix(int64(s.TipTime), 0).UTC().Format(time.RFC3339))
			fmt.Fprintf(w, "difficulty  %.6g (bits %s, total work %s)\n", s.Difficulty, s.Bits, s.TotalWork)
			fmt.Fprintf(w, "peers       %d\n", s.Peers)
			fmt.Fprintf(w, "mempool     %d transactions\n", s.MempoolSize)
			fmt.Fprintf(w, "mining      %v (%.0f H/s)\n", s.Mining, s.HashRate)
			if s.Syncing {
				fmt.Fprintf(w, "syncing     to %d at %.1f blocks/s\n", s.Sync.TargetHeight, s.Sync.BlocksPerSec)
			}
		}),
	}
	f.add(cmd, true)
	return cmd
}

// coins formats base units for text output: "1.5 (150000000 units)".
func coins(units apitypes.Uint64) string {
	return fmt.Sprintf("%s coins (%d units)", apitypes.FormatCoins(uint64(units)), uint64(units))
}
