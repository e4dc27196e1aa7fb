package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// mineCmd asks a running node to mine one block (POST /mineBlock), one of
// the routes that need credentials beyond development networks; the
// client finds the node's cookie itself.
func mineCmd() *cobra.Command {
	var f apiFlags
	var data string
	cmd := &cobra.Command{
		Use:   "mine",
		Short: "Ask a running node to mine one block now",
		Long: `Ask a running node to mine one block with the given data note and print its
height and hash. Beyond development networks the route needs credentials: the
command reads the node's cookie (<datadir>/` + CookieFile + `) by itself.`,
		Example: "  chaind mine\n  chaind mine --data 'hello' --api http://127.0.0.1:3002 --datadir ./node2",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), generateTimeout)
			defer cancel()
			b, err := f.client("").MineBlock(ctx, data)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), b)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d %s\n", b.Index, b.Hash)
			return nil
		},
	}
	f.add(cmd, true)
	cmd.Flags().StringVar(&data, "data", "", "the block's data note")
	return cmd
}

// peerCmd groups the peer commands.
func peerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "peer",
		Short: "Manage a running node's peers",
	}
	cmd.AddCommand(peerAddCmd())
	return cmd
}

func peerAddCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "add ADDRESS",
		Short: "Connect a running node to a peer and keep it connected",
		Long: `Tell a running node to connect to a peer, given as a multiaddr ending in
/p2p/<id> or as another node's API URL, and print the peer's id. The route
needs credentials beyond development networks; the command reads the node's
cookie (<datadir>/` + CookieFile + `) by itself.`,
		Example: "  chaind peer add http://127.0.0.1:3002\n  chaind peer add /ip4/10.0.0.2/tcp/6001/p2p/12D3KooW...",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			ctx, cancel := timeout()
			defer cancel()
			out, err := f.client("").AddPeer(ctx, args[0])
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.PeerID)
			return nil
		},
	}
	f.add(cmd, true)
	return cmd
}
