package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/mempool/journal"
	"github.com/chaind/chaind/miner"
	"github.com/chaind/chaind/netsync"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/store"
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

	// Mempool bounds the transaction pool; zero fields take the pool's
	// defaults. The node's own keys are the pool's local accounts. A nil
	// Mempool.SigCache is the chain's own, so a block of transactions the
	// pool admitted is validated without checking their signatures again.
	Mempool mempool.Config
	// SigCacheEntries bounds the verified-signature cache of the chain and
	// the pool (blockchain.Config.SigCacheEntries): 0 is
	// consensus.DefaultSigCacheEntries, negative turns it off.
	SigCacheEntries int

	// Network is the peer-to-peer network the node joins (memnet in tests
	// and simulations). nil: a libp2p host listening on P2PListen, or no
	// networking when P2PListen is empty. The node registers its protocols
	// on it, starts it in Start and closes it in Stop.
	Network p2p.Network
	// Store holds the chain. nil: the Pebble store under DataDir, which
	// the node opens and closes. A store given here (store.NewMemory for an
	// ephemeral node) stays the caller's: Stop does not close it, so a node
	// can be built again on it, as a restarted process finds its data.
	Store store.Store

	// P2PListen is the peer-to-peer "host:port" of the libp2p host built
	// when Network is nil; empty turns networking off.
	P2PListen string
	// Peers to keep connected: multiaddrs ending in /p2p/<id>, or other
	// nodes' API URLs (http://host:port).
	Peers []string
	// PeerDNS lists "name:port" entries: every address the name resolves
	// to is another node's API at that port (a Compose service name,
	// Swarm's tasks.<service>, a Kubernetes headless Service), resolved
	// again and dialled every DNSPeerInterval.
	PeerDNS  []string
	MaxPeers int  // connection high watermark; 0: the p2p default
	MDNS     bool // find peers on the local link

	// StatusInterval and RequestTimeout tune the syncer (0: netsync's
	// defaults); tests and simulations shorten them.
	StatusInterval time.Duration
	RequestTimeout time.Duration

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

	Store store.Store
	Chain *blockchain.Blockchain
	Pool  *mempool.Pool
	// Journal keeps the pool on disk (mempool.dat and mempool.log in the
	// data directory).
	Journal *journal.Journal
	Miner   *miner.Miner
	Net     p2p.Network     // nil when networking is off
	Sync    *netsync.Syncer // nil when networking is off

	ownStore bool // opened here, so closed by Stop

	peers     peerBook
	resolver  *resolver
	dns       *dnsPeers // nil without Config.PeerDNS
	stopPeers context.CancelFunc
	stopBg    context.CancelFunc // ends the journal's sync loop and the disk watch

	diskMu     sync.Mutex  // orders entering and leaving the disk-full state
	diskFull   atomic.Bool // the data directory's disk is full
	minerWasOn bool        // the miner ran when the disk filled; guarded by diskMu
	stopping   bool        // Stop began: the disk watch starts no miner; guarded by diskMu
	wg         sync.WaitGroup

	keys    keyring
	devKey  chain.Address // the development key's address; zero without one
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
	n := &Node{cfg: cfg, log: cfg.Logger, hub: newHub(), resolver: newResolver()}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("node: data directory: %w", err)
	}
	// The keys (a keystore to decrypt, or a development key to create)
	// load while the store opens and the chain index is rebuilt: neither
	// needs the other, and both are on the path to the API's first answer
	// and the first dial.
	keysDone := make(chan error, 1)
	go func() { keysDone <- n.loadKeys(cfg.Passphrase) }()
	st, err := n.openChain()
	if kerr := <-keysDone; err == nil && kerr != nil {
		err = kerr
		if n.ownStore {
			st.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	fail := func(err error) (*Node, error) {
		if n.ownStore {
			st.Close()
		}
		return nil, fmt.Errorf("node: %w", err)
	}
	poolCfg := cfg.Mempool
	if poolCfg.SigCache == nil {
		poolCfg.SigCache = n.Chain.SigCache()
	}
	n.Pool = mempool.New(n.Chain, poolCfg)
	for _, a := range n.keys.addresses() {
		n.Pool.SetLocal(a)
	}
	// After SetLocal: the journal may hold more of the node's own
	// transactions than a stranger may pool.
	if err := n.loadMempool(); err != nil {
		return fail(err)
	}
	minerAddr, err := n.minerAddress()
	if err != nil {
		return fail(err)
	}
	n.Miner = miner.New(n.Chain, n.Pool, miner.Config{Address: minerAddr, Threads: cfg.Threads, Now: cfg.Now,
		Logger: cfg.Logger, OnMined: cfg.OnMined})
	if cfg.Network != nil || cfg.P2PListen != "" {
		if err := n.newNetwork(); err != nil {
			return fail(err)
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

// openChain opens the configured store (or the data directory's own) and
// loads the chain from it. On error nothing is left open.
func (n *Node) openChain() (store.Store, error) {
	cfg := n.cfg
	st := cfg.Store
	if st == nil {
		ps, err := pebble.Open(filepath.Join(cfg.DataDir, "chain"), cfg.Params.Name, cfg.Params.GenesisHash(),
			pebble.WithLogger(cfg.Logger))
		if err != nil {
			return nil, err
		}
		st, n.ownStore = ps, true
	}
	n.Store = st
	var err error
	n.Chain, err = blockchain.New(blockchain.Config{Params: cfg.Params, Store: st, Now: cfg.Now, Logger: cfg.Logger,
		SigCacheEntries: cfg.SigCacheEntries})
	if err != nil {
		if n.ownStore {
			st.Close()
		}
		return nil, err
	}
	return st, nil
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
		if n.Net != nil {
			if err = n.startNetwork(ctx); err != nil {
				return
			}
		}
		bg, cancel := context.WithCancel(context.Background())
		n.stopBg = cancel
		n.wg.Add(2)
		go func() {
			defer n.wg.Done()
			n.syncJournal(bg)
		}()
		go func() {
			defer n.wg.Done()
			n.watchDisk(bg)
		}()
		if n.cfg.Mine {
			n.Miner.Start()
			n.log.Info("mining", "address", chain.FormatAddress(n.cfg.Params.AddressPrefix, n.Miner.Address()))
		}
	})
	return err
}

// Stop stops the miner, sync and the network, ends event streams, lets
// the block being processed finish (Chain.Close waits for it and refuses
// new ones) and closes the store it opened (not one given in Config).
// Every goroutine the node started has ended when it returns. Safe to call
// twice.
func (n *Node) Stop() error {
	n.stopOnce.Do(func() {
		n.diskMu.Lock()
		n.stopping = true
		n.diskMu.Unlock()
		n.Miner.Stop()
		if n.stopPeers != nil {
			n.stopPeers()
		}
		if n.stopBg != nil {
			n.stopBg()
		}
		n.wg.Wait()
		if n.Sync != nil {
			n.Sync.Stop()
		}
		if n.Net != nil {
			if err := n.Net.Close(); err != nil {
				n.log.Warn("close p2p network", "err", err)
			}
		}
		n.hub.closeAll()
		// The pool's transactions become the snapshot: a clean restart
		// keeps them.
		if err := n.Journal.Close(); err != nil {
			n.log.Error("saving the mempool failed", "err", err)
		}
		n.stopErr = n.Chain.Close()
		if n.ownStore {
			if err := n.Store.Close(); err != nil && n.stopErr == nil {
				n.stopErr = err
			}
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
	if err := n.checkAccepting(); err != nil {
		return diskFullErrs(len(txs))
	}
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
	if err := n.checkAccepting(); err != nil {
		return nil, err
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

// MaxGenerate bounds the blocks of one Generate call.
const MaxGenerate = 10_000

// ErrGenerateCount is returned for a Generate count outside 1..MaxGenerate.
var ErrGenerateCount = fmt.Errorf("generate: the number of blocks must be 1..%d", MaxGenerate)

// Generate mines count blocks now, one after another, with the pending
// transactions, paying their rewards to to (bitcoind's generatetoaddress).
// It returns the blocks mined so far with the error that stopped it.
func (n *Node) Generate(ctx context.Context, count int, to chain.Address) ([]*chain.Block, error) {
	if count < 1 || count > MaxGenerate {
		return nil, ErrGenerateCount
	}
	blocks := make([]*chain.Block, 0, count)
	for range count {
		b, err := n.Miner.MineTo(ctx, "", to)
		if err != nil {
			return blocks, err
		}
		blocks = append(blocks, b)
	}
	return blocks, nil
}

func (n *Node) onChainEvent(e blockchain.Notification) {
	switch e.Type {
	case blockchain.BlockConnected:
		n.metrics.observeConnected(n.Chain, e)
		n.hub.Publish(&BlockConnected{Block: e.Block})
	case blockchain.BlockDisconnected:
		n.metrics.blocksDisconn.Inc()
		n.hub.Publish(&BlockDisconnected{Block: e.Block})
	case blockchain.BlockAccepted:
		n.metrics.observeAccepted(e, n.now())
		if n.hub.Len() > 0 { // nobody listens: skip the allocation
			n.hub.Publish(&BlockAccepted{Block: e.Block})
		}
	case blockchain.TipChanged:
		if e.Reorg {
			n.metrics.reorgs.Inc()
			n.hub.Publish(&Reorg{Height: e.Height, Hash: e.Hash})
			n.log.Info("reorganised", "height", e.Height, "tip", e.Hash)
		}
	}
}

func (n *Node) onTxAccepted(tx *chain.Tx) {
	n.metrics.txsAccepted.Inc()
	if n.hub.Len() == 0 {
		return // nobody listens: skip the allocation
	}
	n.hub.Publish(&TxAccepted{Tx: tx})
}
