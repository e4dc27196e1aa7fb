package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/node"
)

// generateTimeout bounds chaind generate's wait for the node.
const generateTimeout = 15 * time.Minute

func generateCmd() *cobra.Command {
	var f apiFlags
	var to string
	cmd := &cobra.Command{
		Use:   "generate N",
		Short: "Mine N blocks now, to the node's miner address or --to (bitcoin-cli generatetoaddress)",
		Long: fmt.Sprintf(`Ask the node to mine N blocks now (1..%d), one after another, with its pending
transactions, paying the rewards to --to (default: the node's miner address).
On regtest 1,000 blocks take a few seconds. Prints the blocks' hashes.`, node.MaxGenerate),
		Example: "  chaind generate 101\n  chaind generate 1000 --to reg1q... --api http://127.0.0.1:3002",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 1 || n > node.MaxGenerate {
				return fmt.Errorf("N: %q is not a number of blocks from 1 to %d", args[0], node.MaxGenerate)
			}
			ctx, cancel := context.WithTimeout(context.Background(), generateTimeout)
			defer cancel()
			res, err := f.client("").Generate(ctx, n, to)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), res)
			}
			for _, h := range res.Hashes {
				fmt.Fprintln(cmd.OutOrStdout(), h)
			}
			return nil
		},
	}
	f.add(cmd, true)
	cmd.Flags().StringVar(&to, "to", "", "address to pay the blocks' rewards to (default: the node's miner address)")
	return cmd
}

func faucetCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "faucet ADDRESS AMOUNT",
		Short: "Pay AMOUNT coins to ADDRESS from the node's development key (devnet, regtest)",
		Long: `On a development network (devnet, regtest), ask the node to pay AMOUNT coins
(up to 8 decimals) to ADDRESS from its development key, as a pending transaction
without fee; it is mined with the next block ("chaind generate 1" on regtest).
Prints the transaction id.`,
		Example: "  chaind faucet dev1q... 10\n  chaind faucet reg1q... 0.5 && chaind generate 1",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			units, err := apitypes.ParseCoins(args[1])
			if err != nil {
				return fmt.Errorf("AMOUNT: %w", err)
			}
			ctx, cancel := timeout()
			defer cancel()
			res, err := f.client("").Faucet(ctx, args[0], units)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), res)
			}
			fmt.Fprintln(cmd.OutOrStdout(), res.ID)
			return nil
		},
	}
	f.add(cmd, true)
	return cmd
}
