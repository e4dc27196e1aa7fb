// Command chaind runs a chaind proof-of-work node and talks to one.
//
//	chaind run                     run a devnet node (mines, HTTP API on 127.0.0.1:3001)
//	chaind status                  ask a running node how it is doing
//	chaind wallet new|list|balance manage keys in the data directory's keystore
//	chaind send --to ADDR --amount 1.5
//	chaind mine                    ask a running node to mine one block
//	chaind peer add ADDRESS        connect a running node to a peer
//	chaind generate N [--to ADDR]  mine N blocks now (bitcoin-cli generatetoaddress)
//	chaind block ID, tx ID, account ADDR, peers, mempool   read from a node (--json for its JSON)
//	chaind faucet ADDR AMOUNT      pay from the development key (devnet, regtest)
//	chaind version                 version, commit, Go, the network's genesis
//	chaind completion bash|zsh|fish|powershell   shell completion
//
// Every flag can also come from the environment as CHAIND_<FLAG> (upper
// case, dashes as underscores), e.g. CHAIND_NETWORK=mainnet.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "chaind:", err)
		os.Exit(1)
	}
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "chaind",
		Short: "chaind is a small proof-of-work blockchain node",
		Long: `chaind is a proof-of-work blockchain node: equal nodes form a peer-to-peer
network, validate everything they receive, mine, send signed transactions and
converge on the chain with the most work. It serves an HTTP JSON API, including
the routes of the naivechain and Flask blockchain tutorials.`,
		Example:       "  chaind run\n  chaind status\n  chaind send --to dev1... --amount 2.5\n  chaind generate 101\n  source <(chaind completion bash)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(runCmd(), statusCmd(), walletCmd(), sendCmd(), mineCmd(), peerCmd(), devnetCmd(), generateCmd(), faucetCmd(), versionCmd())
	root.AddCommand(queryCmds()...)
	return root
}

// bindEnv fills every flag the user did not set from CHAIND_<FLAG>.
func bindEnv(cmd *cobra.Command) error {
	var firstErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || firstErr != nil {
			return
		}
		env := "CHAIND_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, ok := os.LookupEnv(env)
		if !ok {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			firstErr = sv.Replace(strings.Split(v, ","))
		} else {
			firstErr = f.Value.Set(v)
		}
		if firstErr != nil {
			firstErr = fmt.Errorf("environment %s=%q: %w", env, v, firstErr)
		}
	})
	return firstErr
}
