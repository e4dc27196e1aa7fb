package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/wallet"
)

// walletFlags locate a node's keys: its network and data directory.
type walletFlags struct {
	network        string
	datadir        string
	passphraseFile string
}

func (w *walletFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&w.network, "network", "devnet", "built-in network or genesis JSON file")
	cmd.Flags().StringVar(&w.datadir, "datadir", "", "data directory (default ~/.chaind/<network>)")
	cmd.Flags().StringVar(&w.passphraseFile, "passphrase-file", "", "file holding the keystore passphrase (or set CHAIND_PASSPHRASE, or type it)")
}

func (w *walletFlags) resolve(cmd *cobra.Command) (*consensus.Params, string, error) {
	if err := bindEnv(cmd); err != nil {
		return nil, "", err
	}
	p, err := loadNetwork(w.network)
	if err != nil {
		return nil, "", err
	}
	dir, err := dataDir(w.datadir, p.Name)
	return p, dir, err
}

func walletCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wallet",
		Short: "Manage the keys in a data directory's keystore",
		Long: `Manage wallet keys. Keys live encrypted (scrypt + XChaCha20-Poly1305) in
<datadir>/keystore; on devnet a node also uses the unencrypted development key
<datadir>/dev.key when the keystore is empty.`,
		Example: "  chaind wallet new\n  chaind wallet list\n  chaind wallet balance",
	}
	cmd.AddCommand(walletNewCmd(), walletListCmd(), walletBalanceCmd())
	return cmd
}

func walletNewCmd() *cobra.Command {
	var w walletFlags
	cmd := &cobra.Command{
		Use:     "new",
		Short:   "Create a new encrypted key in the keystore",
		Example: "  chaind wallet new --datadir ./node1\n  CHAIND_PASSPHRASE=secret chaind wallet new --network mainnet",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, dir, err := w.resolve(cmd)
			if err != nil {
				return err
			}
			pass, err := wallet.ReadPassphrase(w.passphraseFile, passphraseEnv, true)
			if err != nil {
				return err
			}
			if len(pass) == 0 {
				return errors.New("refusing an empty passphrase")
			}
			ks, err := wallet.OpenKeystore(filepath.Join(dir, "keystore"))
			if err != nil {
				return err
			}
			k, err := ks.Create(pass)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), chain.FormatAddress(p.AddressPrefix, k.Address()))
			return nil
		},
	}
	w.add(cmd)
	return cmd
}

// localAddresses lists the keystore's addresses and the development key's.
func localAddresses(p *consensus.Params, dir string) ([]chain.Address, error) {
	ks, err := wallet.OpenKeystore(filepath.Join(dir, "keystore"))
	if err != nil {
		return nil, err
	}
	addrs, err := ks.List()
	if err != nil {
		return nil, err
	}
	if k, err := wallet.LoadDevKey(filepath.Join(dir, node.DevKeyFile)); err == nil {
		addrs = append(addrs, k.Address())
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return addrs, nil
}

func walletListCmd() *cobra.Command {
	var w walletFlags
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the addresses of the data directory's keys",
		Example: "  chaind wallet list --datadir ./node1",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, dir, err := w.resolve(cmd)
			if err != nil {
				return err
			}
			addrs, err := localAddresses(p, dir)
			if err != nil {
				return err
			}
			if len(addrs) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "no keys in", dir, `(create one with "chaind wallet new")`)
			}
			for _, a := range addrs {
				fmt.Fprintln(cmd.OutOrStdout(), chain.FormatAddress(p.AddressPrefix, a))
			}
			return nil
		},
	}
	w.add(cmd)
	return cmd
}

// accountView is the part of GET /api/v1/accounts/{address} the CLI uses.
type accountView struct {
	Address   string `json:"address"`
	Balance   uint64 `json:"balance"`
	Nonce     uint64 `json:"nonce"`
	NextNonce uint64 `json:"next_nonce"`
}

func walletBalanceCmd() *cobra.Command {
	var w walletFlags
	var apiURL, token string
	cmd := &cobra.Command{
		Use:     "balance [ADDRESS...]",
		Short:   "Show balances (of the given addresses, or of the data directory's keys) from a running node",
		Example: "  chaind wallet balance\n  chaind wallet balance dev1qxy... --api http://127.0.0.1:3002",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, dir, err := w.resolve(cmd)
			if err != nil {
				return err
			}
			var addrs []string
			for _, s := range args {
				if _, err := chain.ParseAddress(p.AddressPrefix, s); err != nil {
					return err
				}
				addrs = append(addrs, s)
			}
			if len(args) == 0 {
				local, err := localAddresses(p, dir)
				if err != nil {
					return err
				}
				for _, a := range local {
					addrs = append(addrs, chain.FormatAddress(p.AddressPrefix, a))
				}
			}
			c := newAPIClient(apiURL, token, dir)
			for _, a := range addrs {
				var acct accountView
				if err := c.do("GET", "/api/v1/accounts/"+a, nil, &acct); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %s\n", a, apitypes.FormatCoins(acct.Balance))
			}
			return nil
		},
	}
	w.add(cmd)
	addAPIFlags(cmd, &apiURL, &token)
	return cmd
}
