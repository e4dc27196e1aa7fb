package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/miner"
	"github.com/chaind/chaind/netsync"
	"github.com/chaind/chaind/p2p/libp2p"
	"github.com/chaind/chaind/store/pebble"
)

// Config configures a Node.
type Config struct {
	Params  *consensus.Params
	DataDir string

	Mine         bool
	MinerAddress string // bech32; default: the node's first key
	Threads      int    // miner goroutines; 0: all cores

	// Passphrase unlocks the keystore; nil leaves it locked.
	Passphrase []byte

	// P2PListen is the peer-to-peer "host:port"; empty turns networking off.
	P2PListen string
	// Peers to keep connected: multiaddrs ending in /p2p/<id>, or other
	// nodes' API URLs (http://host:port).
	Peers []string
	// PeerDNS lists "name:port" entries: every address the name resolves
	// to is another node's API at that port (a Compose service name,
	// Swarm's tasks.<service>, a Kubernetes headless Service), resolved
	// again and dialled every PeerRedialInterval.
	PeerDNS  []string
	MaxPeers int  // connection high watermark; 0: the p2p default
	MDNS     bool // find peers on the local link

	Logger *slog.Logger
	Now    func() time.Time // clock for consensus checks; time.Now when nil
	// OnMined is handed to the miner (miner.Config.OnMined): told of every
	// block this node mined, and whether it became the tip. A devnet's
	// observatory counts finds and stale blocks with it.
	OnMined func(b *chain.Block, tip bool)
}

// Node is a running chaind node.
type Node struct {
	cfg Config
	log *slog.Logger

	Store *pebble.Store
	Chain *blockchain.Blockchain
	Pool  *mempool.Pool
	Miner *miner.Miner
	Host  *libp2p.Host    // nil when networking is off
	Sync  *netsync.Syncer // nil when networking is off

	peers     peerBook
	dns       *dnsPeers // nil without Config.PeerDNS
	stopPeers context.CancelFunc
	wg        sync.WaitGroup

	keys    keyring
	sendMu  sync.Mutex
	hub     *Hub
	metrics *metrics

	startOnce sync.Once
	stopOnce  sync.Once
	stopErr   error
}

// New opens (or creates) the node's data directory and builds its parts.
// Nothing runs until Start.
func New(cfg Config) (*Node, error) {
	if cfg.Params == nil {
		return nil, errors.New("node: network params are required")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("node: data directory is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{cfg: cfg, log: cfg.Logger, hub: newHub()}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("node: data directory: %w", err)
	}
	st, err := pebble.Open(filepath.Join(cfg.DataDir, "chain"), cfg.Params.Name, cfg.Params.GenesisHash(),
		pebble.WithLogger(cfg.Logger))
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	n.Store = st
	n.Chain, err = blockchain.New(blockchain.Config{Params: cfg.Params, Store: st, Now: cfg.Now, Logger: cfg.Logger})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	n.Pool = mempool.New(n.Chain, mempool.Config{})
	if err := n.loadKeys(cfg.Passphrase); err != nil {
		st.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	minerAddr, err := n.minerAddress()
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	n.Miner = miner.New(n.Chain, n.Pool, miner.Config{Address: minerAddr, Threads: cfg.Threads, Now: cfg.Now,
		Logger: cfg.Logger, OnMined: cfg.OnMined})
	if cfg.P2PListen != "" {
		if err := n.newNetwork(); err != nil {
			st.Close()
			return nil, fmt.Errorf("node: %w", err)
		}
	}
	n.metrics = newMetrics(n)
	n.Chain.Subscribe(n.Pool.OnChainEvent)
	n.Chain.Subscribe(n.onChainEvent)
	n.Pool.Subscribe(n.onTxAccepted)
	tip := n.Chain.Tip()
	n.log.Info("chain loaded", "network", cfg.Params.Name, "height", tip.Height, "tip", tip.Hash, "datadir", cfg.DataDir)
	return n, nil
}

func (n *Node) minerAddress() (chain.Address, error) {
	if n.cfg.MinerAddress != "" {
		a, err := chain.ParseAddress(n.cfg.Params.AddressPrefix, n.cfg.MinerAddress)
		if err != nil {
			return a, fmt.Errorf("miner address: %w", err)
		}
		return a, nil
	}
	if addrs := n.keys.addresses(); len(addrs) > 0 {
		return addrs[0], nil
	}
	if n.cfg.Mine {
		return chain.Address{}, errors.New("mining needs a miner address (--miner-address) or an unlocked wallet key")
	}
	return chain.Address{}, nil
}

// Start starts the node's background work: the network and sync, and the
// miner when configured.
func (n *Node) Start(ctx context.Context) error {
	var err error
	n.startOnce.Do(func() {
		if n.Host != nil {
			if err = n.startNetwork(ctx); err != nil {
				return
			}
		}
		if n.cfg.Mine {
			n.Miner.Start()
			n.log.Info("mining", "address", chain.FormatAddress(n.cfg.Params.AddressPrefix, n.Miner.Address()))
		}
	})
	return err
}

// Stop stops the miner, ends event streams, lets the block being
// processed finish (Chain.Close waits for it and refuses new ones) and
// closes the store. Safe to call twice.
func (n *Node) Stop() error {
	n.stopOnce.Do(func() {
		n.Miner.Stop()
		if n.stopPeers != nil {
			n.stopPeers()
		}
		n.wg.Wait()
		if n.Sync != nil {
			n.Sync.Stop()
		}
		if n.Host != nil {
			if err := n.Host.Close(); err != nil {
				n.log.Warn("close p2p host", "err", err)
			}
		}
		n.hub.closeAll()
		n.stopErr = n.Chain.Close()
		if err := n.Store.Close(); err != nil && n.stopErr == nil {
			n.stopErr = err
		}
		n.log.Info("node stopped")
	})
	return n.stopErr
}

// now is the node's clock (Config.Now, or time.Now).
func (n *Node) now() time.Time {
	if n.cfg.Now != nil {
		return n.cfg.Now()
	}
	return time.Now()
}

// Params returns the network parameters.
func (n *Node) Params() *consensus.Params { return n.cfg.Params }

// DataDir returns the data directory.
func (n *Node) DataDir() string { return n.cfg.DataDir }

// Events returns the event hub.
func (n *Node) Events() *Hub { return n.hub }

// Addresses returns the addresses of the node's unlocked keys.
func (n *Node) Addresses() []chain.Address { return n.keys.addresses() }

// SubmitTxs offers signed transactions to the mempool; errs[i] is nil when
// txs[i] was admitted.
// A lone transaction skips the batch verifier, whose set-up costs more than
// one plain verification.
func (n *Node) SubmitTxs(txs []*chain.Tx) []error {
	if len(txs) == 1 {
		return []error{n.Pool.Add(txs[0])}
	}
	return n.Pool.AddBatch(txs)
}

// Send signs a transfer from one of the node's keys with the sender's next
// nonce and offers it to the mempool.
func (n *Node) Send(from, to chain.Address, amount, fee uint64, memo string) (*chain.Tx, error) {
	k, ok := n.keys.get(from)
	if !ok {
		return nil, ErrNotOwnKey
	}
	if len(memo) > chain.MaxMemoSize {
		return nil, fmt.Errorf("memo longer than %d bytes", chain.MaxMemoSize)
	}
	n.sendMu.Lock() // one nonce per transaction even with concurrent sends
	defer n.sendMu.Unlock()
	_, _, next := n.Pool.Pending(from)
	tx := &chain.Tx{To: to, Amount: amount, Fee: fee, Nonce: next}
	if memo != "" {
		tx.Memo = []byte(memo)
	}
	k.SignTx(tx, n.cfg.Params.GenesisHash())
	if err := n.Pool.Add(tx); err != nil {
		return nil, err
	}
	return tx, nil
}

// Mine mines one block now with the data note and the pending transactions.
func (n *Node) Mine(ctx context.Context, data string) (*chain.Block, error) {
	return n.Miner.MineOne(ctx, data)
}

func (n *Node) onChainEvent(e blockchain.Notification) {
	hrp := n.cfg.Params.AddressPrefix
	switch e.Type {
	case blockchain.BlockConnected:
		n.metrics.observeConnected(n.Chain, e)
		n.hub.Publish(Event{Type: "block", Data: chain.BlockSummary(hrp, e.Block)})
	case blockchain.BlockDisconnected:
		n.hub.Publish(Event{Type: "block-disconnected", Data: chain.BlockSummary(hrp, e.Block)})
	case blockchain.BlockAccepted:
		if n.hub.Len() > 0 { // the view costs a hash and a size; skip it when nobody listens
			n.hub.Publish(Event{Type: "block-accepted", Data: chain.BlockSummary(hrp, e.Block)})
		}
	case blockchain.TipChanged:
		if e.Reorg {
			n.metrics.reorgs.Inc()
			n.hub.Publish(Event{Type: "reorg", Data: map[string]any{"height": e.Height, "hash": e.Hash}})
			n.log.Info("reorganised", "height", e.Height, "tip", e.Hash)
		}
	}
}

func (n *Node) onTxAccepted(tx *chain.Tx) {
	n.metrics.txsAccepted.Inc()
	if n.hub.Len() == 0 {
		return // the JSON view costs more than admitting the tx; skip it when nobody listens
	}
	n.hub.Publish(Event{Type: "tx", Data: chain.TxView(n.cfg.Params.AddressPrefix, tx)})
}
