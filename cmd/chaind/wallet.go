package main

import (
	"errors"
	"fmt"
	"io"
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
			before, err := ks.List()
			if err != nil {
				return err
			}
			k, err := ks.Create(pass)
			if err != nil {
				return err
			}
			addr := chain.FormatAddress(p.AddressPrefix, k.Address())
			fmt.Fprintln(cmd.OutOrStdout(), addr)
			explainNewKey(cmd.ErrOrStderr(), p, dir, w.datadir == "", addr, len(before))
			return nil
		},
	}
	w.add(cmd)
	return cmd
}

// explainNewKey tells where a new key went and what a node on that data
// directory will do with it: a new key never changes what a development
// node mines to or whom it signs for (see node.loadKeys).
func explainNewKey(w io.Writer, p *consensus.Params, dir string, defaultDir bool, addr string, others int) {
	fmt.Fprintf(w, "created key %s, encrypted with your passphrase, in %s\n", addr, filepath.Join(dir, "keystore"))
	if defaultDir {
		fmt.Fprintf(w, "(no --datadir: that is the default %s node's data directory)\n", p.Name)
	}
	dev, err := wallet.LoadDevKey(filepath.Join(dir, node.DevKeyFile))
	switch {
	case p.Development && err == nil:
		devAddr := chain.FormatAddress(p.AddressPrefix, dev.Address())
		fmt.Fprintf(w, "a node on this data directory keeps mining to its development key %s and signing for it, as before;\n", devAddr)
		fmt.Fprintf(w, "it signs for %s too when started with the passphrase (CHAIND_PASSPHRASE or --passphrase-file),\n", addr)
		fmt.Fprintf(w, "and mines to it with --miner-address %s\n", addr)
	case p.Development && others == 0:
		fmt.Fprintf(w, "a node on this data directory started with the passphrase (CHAIND_PASSPHRASE or --passphrase-file) mines to %s and signs for it;\n", addr)
		fmt.Fprintf(w, "started without it, the node makes an unencrypted development key and mines to that instead\n")
	default:
		fmt.Fprintf(w, "a node on this data directory unlocks it when started with the passphrase (CHAIND_PASSPHRASE or --passphrase-file);\n")
		fmt.Fprintf(w, "it mines to --miner-address when given, else to its first unlocked key\n")
	}
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

func walletBalanceCmd() *cobra.Command {
	var w walletFlags
	var f apiFlags
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
			c := f.client(dir)
			ctx, cancel := timeout()
			defer cancel()
			var accts []*apitypes.Account
			for _, a := range addrs {
				acct, err := c.Account(ctx, a)
				if err != nil {
					return err
				}
				accts = append(accts, acct)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), accts)
			}
			for _, acct := range accts {
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %s\n", acct.Address, apitypes.FormatCoins(uint64(acct.Balance)))
			}
			return nil
		},
	}
	w.add(cmd)
	f.add(cmd, true)
	return cmd
}
