package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version and commit are stamped at build time:
//
//	go build -ldflags "-X main.version=v0.3.0 -X main.commit=$(git rev-parse --short HEAD)" ./cmd/chaind
//
// Unstamped, they come from the Go toolchain's build info (the module
// version, and the VCS revision when built inside a checkout).
var (
	version = ""
	commit  = ""
)

// buildVersion returns the version and commit, stamped or from build info.
func buildVersion() (string, string) {
	v, c := version, commit
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && c == "" {
				c = s.Value
				if len(c) > 12 {
					c = c[:12]
				}
			}
			if s.Key == "vcs.modified" && s.Value == "true" && commit == "" && c != "" {
				c += "-dirty"
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	if c == "" {
		c = "unknown"
	}
	return v, c
}

// versionString is "version+commit", as the API's /api/v1/node shows it.
func versionString() string {
	v, c := buildVersion()
	return v + "+" + c
}

func versionCmd() *cobra.Command {
	var network string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print chaind's version, commit, Go version and the network's genesis",
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
			v, c := buildVersion()
			info := struct {
				Version string `json:"version"`
				Commit  string `json:"commit"`
				Go      string `json:"go"`
				Network string `json:"network"`
				Genesis string `json:"genesis"`
			}{v, c, runtime.Version(), p.Name, p.GenesisHash().String()}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), info)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "chaind %s (commit %s)\n", info.Version, info.Commit)
			fmt.Fprintf(w, "go      %s %s/%s\n", info.Go, runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(w, "network %s, genesis %s\n", info.Network, info.Genesis)
			return nil
		},
	}
	cmd.Flags().StringVar(&network, "network", "devnet", "built-in network or genesis JSON file")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
