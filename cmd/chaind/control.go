package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// mineCmd asks a running node to mine one block (POST /mineBlock), one of
// the routes that need credentials beyond development networks; the
// client finds the node's cookie itself.
func mineCmd() *cobra.Command {
	var apiURL, token, datadir, data string
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
			var b struct {
				Index uint32 `json:"index"`
				Hash  string `json:"hash"`
			}
			if err := newAPIClient(apiURL, token, datadir).do("POST", "/mineBlock", map[string]string{"data": data}, &b); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d %s\n", b.Index, b.Hash)
			return nil
		},
	}
	addAPIFlags(cmd, &apiURL, &token)
	cmd.Flags().StringVar(&datadir, "datadir", "", "the node's data directory, where its cookie is (default ~/.chaind/<the node's network>)")
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
	var apiURL, token, datadir string
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
			var out struct {
				PeerID string `json:"peer_id"`
			}
			if err := newAPIClient(apiURL, token, datadir).do("POST", "/api/v1/peers", map[string]string{"peer": args[0]}, &out); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.PeerID)
			return nil
		},
	}
	addAPIFlags(cmd, &apiURL, &token)
	cmd.Flags().StringVar(&datadir, "datadir", "", "the node's data directory, where its cookie is (default ~/.chaind/<the node's network>)")
	return cmd
}
