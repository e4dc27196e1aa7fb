package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

func statusCmd() *cobra.Command {
	var apiURL, token string
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show a running node's network, height, tip, peers and mempool",
		Example: "  chaind status\n  chaind status --api http://127.0.0.1:3002",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			var status map[string]any
			if err := newAPIClient(apiURL, token, "").do("GET", "/api/v1/status", nil, &status); err != nil {
				return err
			}
			out, _ := json.MarshalIndent(status, "", "  ")
			fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return nil
		},
	}
	addAPIFlags(cmd, &apiURL, &token)
	return cmd
}
