package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/wallet"
)

// defaultFee is the fee chaind send pays unless told otherwise.
const defaultFee = "0.0001"

func sendCmd() *cobra.Command {
	var w walletFlags
	var f apiFlags
	var to, amount, fee, from, memo string
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Sign a transfer with a local key and send it through a node's API",
		Long: `Sign a transaction with one of the data directory's keys (the keystore, or the
devnet development key) and submit it to a node. The nonce comes from the
node, which must be on the same network. Amounts are in coins (up to 8 decimals).`,
		Example: `  chaind send --to dev1q... --amount 2.5
  chaind send --to chd1q... --amount 0.1 --fee 0.001 --network mainnet --from chd1q...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, dir, err := w.resolve(cmd)
			if err != nil {
				return err
			}
			toAddr, err := chain.ParseAddress(p.AddressPrefix, to)
			if err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			units, err := apitypes.ParseCoins(amount)
			if err != nil {
				return fmt.Errorf("--amount: %w", err)
			}
			feeUnits, err := apitypes.ParseCoins(fee)
			if err != nil {
				return fmt.Errorf("--fee: %w", err)
			}
			key, err := loadSigningKey(w, dir, p.AddressPrefix, from)
			if err != nil {
				return err
			}
			c := f.client(dir)
			ctx, cancel := timeout()
			defer cancel()
			status, err := c.Status(ctx)
			if err != nil {
				return err
			}
			if status.Genesis != p.GenesisHash() {
				return fmt.Errorf("the node at %s is on another network (genesis %s, want %s for %s)", f.api, status.Genesis, p.GenesisHash(), p.Name)
			}
			acct, err := c.Account(ctx, chain.FormatAddress(p.AddressPrefix, key.Address()))
			if err != nil {
				return err
			}
			tx := &chain.Tx{To: toAddr, Amount: units, Fee: feeUnits, Nonce: uint64(acct.NextNonce), Memo: []byte(memo)}
			if memo == "" {
				tx.Memo = nil
			}
			key.SignTx(tx, p.GenesisHash())
			if _, err := c.SubmitTx(ctx, apitypes.TxOf(p.AddressPrefix, tx)); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tx.ID())
			return nil
		},
	}
	w.add(cmd)
	f.add(cmd, false)
	cmd.Flags().StringVar(&to, "to", "", "recipient address (required)")
	cmd.Flags().StringVar(&amount, "amount", "", "amount in coins, e.g. 1.5 (required)")
	cmd.Flags().StringVar(&fee, "fee", defaultFee, "fee in coins")
	cmd.Flags().StringVar(&from, "from", "", "sender address (default: the only local key)")
	cmd.Flags().StringVar(&memo, "memo", "", "short note (at most 64 bytes)")
	cmd.MarkFlagRequired("to")
	cmd.MarkFlagRequired("amount")
	return cmd
}

// loadSigningKey finds the key for from (or the only local key): the devnet
// development key, or a keystore key unlocked with the passphrase.
func loadSigningKey(w walletFlags, dir, hrp, from string) (*wallet.Key, error) {
	var want chain.Address
	if from != "" {
		a, err := chain.ParseAddress(hrp, from)
		if err != nil {
			return nil, fmt.Errorf("--from: %w", err)
		}
		want = a
	}
	if k, err := wallet.LoadDevKey(filepath.Join(dir, node.DevKeyFile)); err == nil {
		if from == "" || k.Address() == want {
			return k, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	ks, err := wallet.OpenKeystore(filepath.Join(dir, "keystore"))
	if err != nil {
		return nil, err
	}
	addrs, err := ks.List()
	if err != nil {
		return nil, err
	}
	if from == "" {
		switch len(addrs) {
		case 0:
			return nil, fmt.Errorf("no keys in %s: create one with \"chaind wallet new\"", dir)
		case 1:
			want = addrs[0]
		default:
			return nil, errors.New("several keys in the keystore: say which with --from")
		}
	}
	pass, err := wallet.ReadPassphrase(w.passphraseFile, passphraseEnv, true)
	if err != nil {
		return nil, err
	}
	return ks.Unlock(want, pass)
}
