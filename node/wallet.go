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

// loadKeys unlocks the keystore's keys with the passphrase (when the
// keystore has keys and a passphrase is given) and, on a development
// network with no keystore keys, loads or makes the development key.
func (n *Node) loadKeys(passphrase []byte) error {
	ks, err := wallet.OpenKeystore(filepath.Join(n.cfg.DataDir, "keystore"))
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	addrs, err := ks.List()
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	hrp := n.cfg.Params.AddressPrefix
	if len(addrs) > 0 {
		if passphrase == nil {
			n.log.Warn("keystore is locked: no passphrase given, so the node cannot sign transactions",
				"keys", len(addrs), "hint", "set CHAIND_PASSPHRASE or --passphrase-file")
			return nil
		}
		keys, err := ks.UnlockAll(passphrase)
		if err != nil {
			return fmt.Errorf("unlock keystore: %w", err)
		}
		for _, k := range keys {
			n.keys.add(k)
			n.log.Info("wallet key unlocked", "address", chain.FormatAddress(hrp, k.Address()))
		}
		return nil
	}
	if !n.cfg.Params.Development {
		return nil
	}
	path := filepath.Join(n.cfg.DataDir, DevKeyFile)
	k, err := wallet.LoadDevKey(path)
	if errors.Is(err, os.ErrNotExist) {
		if k, err = wallet.GenerateKey(rand.Reader); err != nil {
			return err
		}
		if err = wallet.SaveDevKey(path, k); err != nil {
			return fmt.Errorf("save development key: %w", err)
		}
		n.log.Warn("CREATED AN UNENCRYPTED DEVELOPMENT KEY: anyone who can read this file can spend its coins; fine for devnet, never for real value",
			"file", path, "address", chain.FormatAddress(hrp, k.Address()))
	} else if err != nil {
		return fmt.Errorf("development key: %w", err)
	} else {
		n.log.Warn("using the UNENCRYPTED development key", "file", path, "address", chain.FormatAddress(hrp, k.Address()))
	}
	n.keys.add(k)
	return nil
}
