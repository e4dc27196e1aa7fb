package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/chaind/chaind/internal/version"
)

// versionString is the build's version as /api/v1/node shows it:
// "version+commit" (the commit left out when unknown).
func versionString() string {
	v := version.Get()
	if v.Commit == "" {
		return v.Version
	}
	if v.Modified {
		return v.Version + "+" + v.Commit + "-modified"
	}
	return v.Version + "+" + v.Commit
}

func versionCmd() *cobra.Command {
	var network string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print chaind's version, commit, Go version and the network's genesis",
		Long: `Print the build's version and commit (stamped with -ldflags, see README), the
Go version, and the genesis hash of --network, which is the network's identity.`,
		Example: "  chaind version\n  chaind version --network regtest --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			p, err := loadNetwork(network)
			if err != nil {
				return err
			}
			v := version.Get()
			info := struct {
				version.Info
				Network string `json:"network"`
				Genesis string `json:"genesis"`
			}{v, p.Name, p.GenesisHash().String()}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), info)
			}
			w := cmd.OutOrStdout()
			commit := v.Commit
			if commit == "" {
				commit = "unknown"
			} else if v.Modified {
				commit += " (modified)"
			}
			fmt.Fprintf(w, "chaind %s (commit %s)\n", v.Version, commit)
			fmt.Fprintf(w, "go      %s %s/%s\n", v.Go, runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(w, "network %s, genesis %s\n", info.Network, info.Genesis)
			return nil
		},
	}
	cmd.Flags().StringVar(&network, "network", "devnet", "built-in network or genesis JSON file")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
