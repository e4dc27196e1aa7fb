package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaind/chaind/api"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/wallet"
)

// TokenFile is the API token's file in the data directory.
const TokenFile = "api.token"

// shutdownTimeout bounds how long the API gets to finish requests on exit.
const shutdownTimeout = 5 * time.Second

type runFlags struct {
	network        string
	datadir        string
	http           string
	vhosts         []string
	p2p            string
	peers          []string
	peerDNS        []string
	mine           bool
	minerAddress   string
	threads        int
	passphraseFile string
	logLevel       string
	maxPeers       int
	mdns           bool
	pool           mempool.Config
	sigCache       int
}

func runCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a node: chain, mempool, miner and HTTP API",
		Long: `Run a chaind node. It opens (or creates) its data directory, loads the chain,
serves the HTTP API and, with --mine, mines. On devnet (the default network) a
node with an empty keystore creates an unencrypted development key and mines to
it, so "chaind run" needs no setup.

The API listens on loopback by default and answers only requests whose Host
header is an IP address, localhost, the --http host or a --http-vhosts name
(no DNS rebinding). Bound beyond loopback, or on any network but devnet and
regtest, the routes that mine, spend or change peers need credentials
("Authorization: Bearer <token>"): the token in <datadir>/api.token, or the
cookie the node writes to <datadir>/.cookie at each start (and removes at a
clean stop), which the chaind commands read by themselves.`,
		Example: `  chaind run
  chaind run --network mainnet --datadir /var/lib/chaind --mine --miner-address chd1...
  chaind run --network ./classnet.json --http 0.0.0.0:3001
  chaind run --datadir ./n2 --http 127.0.0.1:3002 --p2p 0.0.0.0:6003 --peer http://127.0.0.1:3001
  CHAIND_HTTP=127.0.0.1:3002 CHAIND_DATADIR=./node2 chaind run --mine=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			return runNode(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.network, "network", "devnet", "built-in network (devnet, mainnet, regtest) or the path of a genesis JSON file")
	fl.StringVar(&f.datadir, "datadir", "", "data directory (default ~/.chaind/<network>)")
	fl.StringVar(&f.http, "http", "127.0.0.1:3001", "HTTP API listen address")
	fl.StringSliceVar(&f.vhosts, "http-vhosts", nil, `more host names the API is served as (Host header check; localhost, IP addresses and the --http host always pass); "*" accepts any`)
	fl.StringVar(&f.p2p, "p2p", "0.0.0.0:6001", "peer-to-peer listen address (TCP; WebSocket on the next port); empty turns networking off")
	fl.StringSliceVar(&f.peers, "peer", nil, "peer to keep connected: a multiaddr (/ip4/.../tcp/6001/p2p/<id>) or another node's API URL (http://host:3001); repeatable")
	fl.StringSliceVar(&f.peerDNS, "peer-dns", nil, "name:port whose every DNS address is another node's API, resolved again every few seconds (a Compose service, Swarm's tasks.<service>, a Kubernetes headless Service); repeatable")
	fl.IntVar(&f.maxPeers, "max-peers", 50, "most peers to keep connected (the connection manager's high watermark)")
	fl.BoolVar(&f.mdns, "mdns", false, "find peers of the same network on the local link with mDNS")
	fl.BoolVar(&f.mine, "mine", true, "mine blocks (default on for development networks only)")
	fl.StringVar(&f.minerAddress, "miner-address", "", "address to pay block rewards to (default: the node's first wallet key)")
	fl.IntVar(&f.threads, "threads", 0, "mining threads (default: all cores)")
	fl.StringVar(&f.passphraseFile, "passphrase-file", "", "file holding the keystore passphrase (or set CHAIND_PASSPHRASE)")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fl.IntVar(&f.pool.MaxTxs, "mempool-max-txs", mempool.DefaultMaxTxs, "most transactions the mempool holds")
	fl.IntVar(&f.pool.MaxTxsPerSender, "mempool-max-per-sender", mempool.DefaultMaxTxsPerSender, "most pending transactions of one sender (the node's own keys are exempt)")
	fl.IntVar(&f.pool.MaxLocalTxs, "mempool-max-local", mempool.DefaultMaxLocalTxs, "most pending transactions of the node's own keys together")
	fl.IntVar(&f.sigCache, "sigcache-entries", consensus.DefaultSigCacheEntries,
		fmt.Sprintf("most verified signatures remembered so a block's transactions already checked in the mempool are not checked again (about %d bytes each; 0 turns the cache off)", consensus.SigCacheEntryBytes))
	fl.IntVar(&f.pool.MaxNonceGap, "mempool-max-nonce-gap", mempool.DefaultMaxNonceGap, "how far past a sender's next nonce a transaction may be queued")
	return cmd
}

func runNode(cmd *cobra.Command, f runFlags) error {
	logger, err := newLogger(f.logLevel)
	if err != nil {
		return err
	}
	params, err := loadNetwork(f.network)
	if err != nil {
		return err
	}
	if !cmd.Flags().Changed("mine") && os.Getenv("CHAIND_MINE") == "" && !params.Development {
		f.mine = false
	}
	datadir, err := dataDir(f.datadir, params.Name)
	if err != nil {
		return err
	}
	var passphrase []byte
	if f.passphraseFile != "" || os.Getenv(passphraseEnv) != "" {
		if passphrase, err = wallet.ReadPassphrase(f.passphraseFile, passphraseEnv, false); err != nil {
			return err
		}
	}
	if (len(f.peers) > 0 || len(f.peerDNS) > 0) && f.p2p == "" {
		return fmt.Errorf("--peer and --peer-dns need peer-to-peer networking: give a --p2p address")
	}
	if f.threads < 0 {
		return fmt.Errorf("--threads must not be negative")
	}
	if f.sigCache < 0 {
		return fmt.Errorf("--sigcache-entries must not be negative")
	}
	sigCache := f.sigCache
	if sigCache == 0 {
		sigCache = -1 // off, in node.Config's terms
	}
	for name, v := range map[string]int{"--mempool-max-txs": f.pool.MaxTxs, "--mempool-max-per-sender": f.pool.MaxTxsPerSender,
		"--mempool-max-local": f.pool.MaxLocalTxs, "--mempool-max-nonce-gap": f.pool.MaxNonceGap} {
		if v < 1 {
			return fmt.Errorf("%s must be at least 1", name)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Bind the API before anything starts, so a taken or malformed
	// address is an error at start, not a log line after mining began.
	ln, err := api.Listen(ctx, f.http)
	if err != nil {
		return fmt.Errorf("--http: %w", err)
	}
	defer ln.Close() // Shutdown closes it too; a second close is harmless

	n, err := node.New(node.Config{
		Params:          params,
		DataDir:         datadir,
		Mine:            f.mine,
		MinerAddress:    f.minerAddress,
		Threads:         f.threads,
		Passphrase:      passphrase,
		Mempool:         f.pool,
		SigCacheEntries: sigCache,
		P2PListen:       f.p2p,
		Peers:           f.peers,
		PeerDNS:         f.peerDNS,
		MaxPeers:        f.maxPeers,
		MDNS:            f.mdns,
		Logger:          logger,
	})
	if err != nil {
		return err
	}
	token, err := loadOrCreateToken(filepath.Join(datadir, TokenFile))
	if err != nil {
		n.Stop()
		return err
	}
	cookie, err := writeCookie(datadir)
	if err != nil {
		n.Stop()
		return err
	}
	defer func() {
		if err := removeCookie(datadir); err != nil {
			logger.Warn("API cookie", "err", err)
		}
	}()
	// Credentials are needed beyond loopback, and on loopback too except
	// on the development networks (where the tutorials' curl examples
	// must keep working as they are).
	needToken := !isLoopback(f.http) || !params.Development
	srv := api.New(n, api.Config{Addr: f.http, Token: token, Cookie: cookie, Version: versionString(), RequireToken: needToken, Hosts: f.vhosts, Logger: logger.With("sys", "api")})
	if err := srv.Serve(ln); err != nil {
		n.Stop()
		return fmt.Errorf("HTTP API: %w", err)
	}
	logger.Info("HTTP API listening", "addr", srv.Addr(), "token_required", needToken)
	if err := n.Start(ctx); err != nil && ctx.Err() == nil {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		return errors.Join(err, srv.Shutdown(sctx), n.Stop())
	}
	<-ctx.Done() // a signal during Start is a clean stop too
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	apiErr := srv.Shutdown(sctx)
	if err := n.Stop(); err != nil {
		return err
	}
	return apiErr
}

const passphraseEnv = "CHAIND_PASSPHRASE"

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// loadNetwork returns a built-in network or reads a genesis file; a value
// with a path separator or a .json suffix is a file.
func loadNetwork(name string) (*consensus.Params, error) {
	if strings.ContainsRune(name, os.PathSeparator) || strings.HasSuffix(name, ".json") {
		return consensus.LoadGenesisFile(name)
	}
	return consensus.Network(name)
}

func dataDir(flag, network string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no --datadir given and no home directory: %w", err)
	}
	return filepath.Join(home, ".chaind", network), nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loadOrCreateToken reads the API token, creating a random one (0600) the
// first time.
func loadOrCreateToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		tok := strings.TrimSpace(string(b))
		if len(tok) < 32 {
			return "", fmt.Errorf("API token file %s is too short; delete it to make a new one", path)
		}
		return tok, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("API token: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write API token: %w", err)
	}
	return tok, nil
}
