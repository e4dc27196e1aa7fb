package node

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/wallet"
)

// DevKeyFile is the unencrypted development key's file in the data dir.
const DevKeyFile = "dev.key"

// ErrNotOwnKey is returned when asked to sign for an address the node has
// no unlocked key for.
var ErrNotOwnKey = errors.New("sender is not one of this node's unlocked keys")

// keyring holds the node's unlocked keys. Safe for concurrent use.
type keyring struct {
	mu   sync.RWMutex
	keys map[chain.Address]*wallet.Key
	list []chain.Address // in load order; the first is the default miner address
}

func (kr *keyring) add(k *wallet.Key) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if kr.keys == nil {
		kr.keys = make(map[chain.Address]*wallet.Key)
	}
	a := k.Address()
	if _, ok := kr.keys[a]; !ok {
		kr.keys[a] = k
		kr.list = append(kr.list, a)
	}
}

func (kr *keyring) get(a chain.Address) (*wallet.Key, bool) {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	k, ok := kr.keys[a]
	return k, ok
}

func (kr *keyring) addresses() []chain.Address {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return append([]chain.Address(nil), kr.list...)
}

// loadKeys loads the node's keys. On a development network the
// development key comes first when its file exists, so it stays the default
// miner address and the faucet's key whatever keys the keystore gains later
// ("chaind wallet new" on a node's data directory never changes what the
// node mines to or whom it signs for). Keystore keys are unlocked with the
// passphrase when one is given; a locked keystore is only a warning. On a
// development network with no unlocked key at all the development key is
// created, so the node can always mine and sign.
func (n *Node) loadKeys(passphrase []byte) error {
	hrp := n.cfg.Params.AddressPrefix
	path := filepath.Join(n.cfg.DataDir, DevKeyFile)
	dev := n.cfg.Params.Development
	if dev {
		k, err := wallet.LoadDevKey(path)
		switch {
		case err == nil:
			n.keys.add(k)
			n.devKey = k.Address()
			n.log.Warn("using the UNENCRYPTED development key", "file", path, "address", chain.FormatAddress(hrp, k.Address()))
		case !errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("development key: %w", err)
		}
	}
	ks, err := wallet.OpenKeystore(filepath.Join(n.cfg.DataDir, "keystore"))
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	addrs, err := ks.List()
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	switch {
	case len(addrs) > 0 && passphrase == nil:
		n.log.Warn("keystore is locked: no passphrase given, so the node cannot sign for its keys",
			"keys", len(addrs), "hint", "set CHAIND_PASSPHRASE or --passphrase-file")
	case len(addrs) > 0:
		keys, err := ks.UnlockAll(passphrase)
		if err != nil {
			return fmt.Errorf("unlock keystore: %w", err)
		}
		for _, k := range keys {
			n.keys.add(k)
			n.log.Info("wallet key unlocked", "address", chain.FormatAddress(hrp, k.Address()))
		}
	}
	if !dev || len(n.keys.addresses()) > 0 {
		return nil
	}
	k, err := wallet.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	if err = wallet.SaveDevKey(path, k); err != nil {
		return fmt.Errorf("save development key: %w", err)
	}
	n.keys.add(k)
	n.devKey = k.Address()
	n.log.Warn("CREATED AN UNENCRYPTED DEVELOPMENT KEY: anyone who can read this file can spend its coins; fine for devnet, never for real value",
		"file", path, "address", chain.FormatAddress(hrp, k.Address()))
	return nil
}

// ErrNoFaucet is returned by Faucet on a node without a faucet: not on a
// development network, or without a key to pay from.
var ErrNoFaucet = errors.New("this node has no faucet: it runs only on development networks (devnet, regtest), paid from the node's development key")

// FaucetMemo is the memo of the faucet's transactions.
const FaucetMemo = "faucet"

// FaucetAddress returns the address the faucet pays from: the development
// key, or on a development network without one the node's first key. ok is
// false when the node has no faucet.
func (n *Node) FaucetAddress() (chain.Address, bool) {
	if !n.cfg.Params.Development {
		return chain.Address{}, false
	}
	if n.devKey != (chain.Address{}) {
		return n.devKey, true
	}
	if addrs := n.keys.addresses(); len(addrs) > 0 {
		return addrs[0], true
	}
	return chain.Address{}, false
}

// Faucet pays amount base units to to from the faucet's key (a local
// transaction, no fee) and returns the pending transaction.
func (n *Node) Faucet(to chain.Address, amount uint64) (*chain.Tx, error) {
	from, ok := n.FaucetAddress()
	if !ok {
		return nil, ErrNoFaucet
	}
	return n.Send(from, to, amount, 0, FaucetMemo)
}
