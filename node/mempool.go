package node

import (
	"context"
	"fmt"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/mempool/journal"
)

// JournalSyncInterval is how often the mempool log is synced to disk: a
// killed process loses no acknowledged transaction whatever the interval
// (each is written before it is acknowledged); a machine crash loses at
// most this much.
const JournalSyncInterval = time.Second

// loadMempool opens the mempool journal in the data directory, admits
// what it holds (re-validated) and logs every admission from now on.
func (n *Node) loadMempool() error {
	j, err := journal.Open(n.cfg.DataDir, n.cfg.Params.GenesisHash(), n.Pool, n.cfg.Logger.With("sys", "mempool"))
	if err != nil {
		return err
	}
	st, err := j.Load()
	if err != nil {
		return fmt.Errorf("load mempool: %w", err)
	}
	for _, p := range st.Problems {
		n.log.Warn("mempool file damaged; the node starts with what could be read", "problem", p)
	}
	n.Journal = j
	n.Pool.Subscribe(n.journalTx)
	return nil
}

// journalTx logs an admitted transaction. It runs before the admission is
// acknowledged, so a transaction a client was told about survives a kill.
func (n *Node) journalTx(tx *chain.Tx) {
	if err := n.Journal.Append(tx); err != nil {
		n.diskTrouble(err)
	}
}

// syncJournal syncs the mempool log every JournalSyncInterval until ctx ends.
func (n *Node) syncJournal(ctx context.Context) {
	t := time.NewTicker(JournalSyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := n.Journal.Sync(); err != nil {
				n.diskTrouble(err)
			}
		}
	}
}
