package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/client"
)

// queryCmds are the reading commands of bitcoin-cli's kind: block, tx,
// account, peers, mempool.
func queryCmds() []*cobra.Command {
	return []*cobra.Command{blockCmd(), txCmd(), accountCmd(), peersCmd(), mempoolCmd()}
}

func blockCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:     "block HEIGHT|HASH",
		Short:   "Show a block by height or hash (bitcoin-cli getblock)",
		Example: "  chaind block 12\n  chaind block 00ab...ef --json",
		Args:    cobra.ExactArgs(1),
		RunE: apiRunE(&f, func(ctx context.Context, c *client.Client, args []string) (*apitypes.BlockDetail, error) {
			return c.Block(ctx, args[0])
		}, func(w io.Writer, b *apitypes.BlockDetail) {
			fmt.Fprintf(w, "block %d %s\n", b.Index, b.Hash)
			fmt.Fprintf(w, "previous       %s\n", b.PreviousHash)
			fmt.Fprintf(w, "time           %s\n", time.Unix(int64(b.Timestamp), 0).UTC().Format(time.RFC3339))
			fmt.Fprintf(w, "bits, proof    %s, %d\n", b.Bits, uint64(b.Proof))
			fmt.Fprintf(w, "merkle root    %s\n", b.MerkleRoot)
			fmt.Fprintf(w, "size           %d bytes\n", b.Size)
			fmt.Fprintf(w, "main chain     %v (%d confirmations)\n", b.MainChain, b.Confirmations)
			if b.Data != "" {
				fmt.Fprintf(w, "data           %q\n", b.Data)
			}
			fmt.Fprintf(w, "transactions   %d\n", len(b.Transactions))
			for _, tx := range b.Transactions {
				printTxLine(w, tx)
			}
		}),
	}
	f.add(cmd, true)
	return cmd
}

// printTxLine writes one transaction as a line: id, sender -> recipient,
// amount and fee.
func printTxLine(w interface{ Write([]byte) (int, error) }, tx apitypes.Tx) {
	fmt.Fprintf(w, "  %s  %s -> %s  %s coins (fee %s, nonce %d)\n", tx.ID, tx.Sender, tx.Recipient,
		apitypes.FormatCoins(uint64(tx.Amount)), apitypes.FormatCoins(uint64(tx.Fee)), uint64(tx.Nonce))
}

func txCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:     "tx ID",
		Short:   "Show a transaction: confirmed (its block) or pending (bitcoin-cli gettransaction)",
		Example: "  chaind tx 3b90...1b33d\n  chaind tx 3b90...1b33d --json",
		Args:    cobra.ExactArgs(1),
		RunE: apiRunE(&f, func(ctx context.Context, c *client.Client, args []string) (*apitypes.TxDetail, error) {
			return c.Tx(ctx, args[0])
		}, func(w io.Writer, d *apitypes.TxDetail) {
			fmt.Fprintf(w, "transaction %s\n", d.Tx.ID)
			fmt.Fprintf(w, "status      %s", d.Status)
			if d.Block != nil {
				fmt.Fprintf(w, " in block %d %s, index %d, %d confirmations", *d.Height, *d.Block, *d.Index, d.Confirmations)
			}
			fmt.Fprintln(w)
			fmt.Fprintf(w, "from        %s\n", d.Tx.Sender)
			fmt.Fprintf(w, "to          %s\n", d.Tx.Recipient)
			fmt.Fprintf(w, "amount      %s\n", coins(d.Tx.Amount))
			fmt.Fprintf(w, "fee         %s\n", coins(d.Tx.Fee))
			fmt.Fprintf(w, "nonce       %d\n", uint64(d.Tx.Nonce))
			if d.Tx.Memo != "" {
				fmt.Fprintf(w, "memo        %q\n", d.Tx.Memo)
			}
		}),
	}
	f.add(cmd, true)
	return cmd
}

func accountCmd() *cobra.Command {
	var f apiFlags
	var limit int
	cmd := &cobra.Command{
		Use:   "account ADDRESS",
		Short: "Show an account's balance, nonce, pending transactions and history (bitcoin-cli listtransactions)",
		Long: `Show an account: balance, spendable, nonce, pending transactions, and its
main-chain transactions newest first (--limit of them; 0 for none).`,
		Example: "  chaind account dev1q...\n  chaind account dev1q... --limit 100 --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			if limit < 0 {
				return fmt.Errorf("--limit must not be negative")
			}
			ctx, cancel := timeout()
			defer cancel()
			c := f.client("")
			a, err := c.Account(ctx, args[0])
			if err != nil {
				return err
			}
			view := struct {
				*apitypes.Account
				History []apitypes.HistoryItem `json:"history"`
				More    bool                   `json:"more_history"`
			}{Account: a, History: []apitypes.HistoryItem{}}
			for before := ""; len(view.History) < limit; {
				page, err := c.AddressTxs(ctx, args[0], client.HistoryQuery{Limit: min(limit-len(view.History), maxHistoryPage), Before: before})
				if err != nil {
					return err
				}
				view.History = append(view.History, page.Txs...)
				if before = page.Next; before == "" {
					break
				}
				view.More = len(view.History) >= limit
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), view)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "account     %s\n", a.Address)
			fmt.Fprintf(w, "balance     %s\n", coins(a.Balance))
			fmt.Fprintf(w, "spendable   %s\n", coins(a.Spendable))
			fmt.Fprintf(w, "nonce       %d (next %d)\n", uint64(a.Nonce), uint64(a.NextNonce))
			fmt.Fprintf(w, "pending     %d transactions spending %s\n", a.PendingCount, coins(a.PendingSpend))
			if limit == 0 {
				return nil
			}
			more := ""
			if view.More {
				more = fmt.Sprintf(" (the newest %d; --limit for more)", len(view.History))
			}
			fmt.Fprintf(w, "history%s\n", more)
			for _, h := range view.History {
				dir, other := "received", h.Counterparty
				switch {
				case h.Coinbase:
					dir, other = "mined", "block reward"
				case h.Sent && h.Received:
					dir = "self"
				case h.Sent:
					dir = "sent"
				}
				fmt.Fprintf(w, "  %d:%d  %s  %-8s %s coins  %s\n", h.Height, h.Index, h.ID, dir, apitypes.FormatCoins(uint64(h.Amount)), other)
			}
			return nil
		},
	}
	f.add(cmd, true)
	cmd.Flags().IntVar(&limit, "limit", defaultHistory, "how many of the newest transactions to list (0: none)")
	return cmd
}

// History listing bounds of chaind account.
const (
	defaultHistory = 20
	maxHistoryPage = 100 // the API's page bound
)

func peersCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:     "peers",
		Short:   "List the node's connected peers (bitcoin-cli getpeerinfo)",
		Example: "  chaind peers\n  chaind peers --json",
		Args:    cobra.NoArgs,
		RunE: apiRunE(&f, func(ctx context.Context, c *client.Client, _ []string) (*apitypes.Peers, error) {
			return c.Peers(ctx)
		}, func(w io.Writer, ps *apitypes.Peers) {
			fmt.Fprintf(w, "%d peers\n", ps.Count)
			for _, p := range ps.Peers {
				fmt.Fprintf(w, "  %s  %s %s  height %d  penalty %d  since %s\n", p.ID, p.Direction, p.Remote,
					p.BestHeight, p.Penalty, p.ConnectedAt.UTC().Format(time.RFC3339))
			}
		}),
	}
	f.add(cmd, true)
	return cmd
}

func mempoolCmd() *cobra.Command {
	var f apiFlags
	var limit int
	cmd := &cobra.Command{
		Use:     "mempool",
		Short:   "List the node's pending transactions, highest fee first (bitcoin-cli getrawmempool)",
		Example: "  chaind mempool\n  chaind mempool --limit 1000 --json",
		Args:    cobra.NoArgs,
		RunE: apiRunE(&f, func(ctx context.Context, c *client.Client, _ []string) (*apitypes.Mempool, error) {
			return c.Mempool(ctx, limit)
		}, func(w io.Writer, mp *apitypes.Mempool) {
			more := ""
			if mp.Truncated {
				more = fmt.Sprintf(", %d listed (--limit)", len(mp.Txs))
			}
			fmt.Fprintf(w, "%d transactions%s\n", mp.Size, more)
			for _, tx := range mp.Txs {
				printTxLine(w, tx)
			}
		}),
	}
	f.add(cmd, true)
	cmd.Flags().IntVar(&limit, "limit", 0, "list at most this many (default: the node's, 100)")
	return cmd
}
