package wallet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/chaind/chaind/chain"
)

// Development key file format.
const (
	// devKeyType names the format in the file itself.
	devKeyType = "chaind-dev-key-unencrypted"
	// devKeyWarning is written into every development key file.
	devKeyWarning = "UNENCRYPTED development key: anyone who can read this file can spend its funds. Use it only on a devnet."
	// maxDevKeyFileSize bounds a development key file read from disk.
	maxDevKeyFileSize = 4 << 10
)

// ErrBadDevKeyFile is returned for a development key file that is not
// well-formed or whose fields do not match each other.
var ErrBadDevKeyFile = errors.New("malformed development key file")

// devKeyJSON is the on-disk form of a development key.
type devKeyJSON struct {
	Type      string `json:"type"`
	Warning   string `json:"warning"`
	Address   string `json:"address"`
	PublicKey string `json:"public_key"`
	Seed      string `json:"seed"`
}

// SaveDevKey writes key unencrypted to path (mode 0600, atomically),
// creating the parent directory with mode 0700 if needed. The file states
// that it is unencrypted. It is meant for devnet nodes that mine and send
// without a passphrase; use a Keystore for anything of value.
func SaveDevKey(path string, key *Key) error {
	if err := os.MkdirAll(filepath.Dir(path), dirPerm); err != nil {
		return fmt.Errorf("save development key: %w", err)
	}
	addr, pub := key.Address(), key.PublicKey()
	out, err := json.MarshalIndent(devKeyJSON{
		Type:      devKeyType,
		Warning:   devKeyWarning,
		Address:   hex.EncodeToString(addr[:]),
		PublicKey: hex.EncodeToString(pub[:]),
		Seed:      hex.EncodeToString(key.priv.Seed()),
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("save development key: %w", err)
	}
	if err := writeFileAtomic(path, append(out, '\n')); err != nil {
		return fmt.Errorf("save development key: %w", err)
	}
	return nil
}

// LoadDevKey reads a development key written by SaveDevKey. It checks that
// the address and public key in the file belong to its seed.
func LoadDevKey(path string) (*Key, error) {
	data, err := readFileLimited(path, maxDevKeyFileSize)
	if err != nil {
		return nil, fmt.Errorf("load development key: %w", err)
	}
	key, err := parseDevKey(data)
	if err != nil {
		return nil, fmt.Errorf("load development key %s: %w", path, err)
	}
	return key, nil
}

// parseDevKey decodes and checks a development key file.
func parseDevKey(data []byte) (*Key, error) {
	var j devKeyJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadDevKeyFile, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrBadDevKeyFile)
	}
	if j.Type != devKeyType {
		return nil, fmt.Errorf("%w: type %q, want %q", ErrBadDevKeyFile, j.Type, devKeyType)
	}
	var seed [SeedSize]byte
	var addr chain.Address
	var pub chain.PublicKey
	for _, f := range []struct {
		name string
		hex  string
		dst  []byte
	}{
		{"seed", j.Seed, seed[:]},
		{"address", j.Address, addr[:]},
		{"public_key", j.PublicKey, pub[:]},
	} {
		if err := decodeHexExact(f.hex, f.dst); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBadDevKeyFile, f.name, err)
		}
	}
	key, err := KeyFromSeed(seed[:])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadDevKeyFile, err)
	}
	if key.PublicKey() != pub {
		return nil, fmt.Errorf("%w: public key %x does not belong to the seed (want %x)", ErrBadDevKeyFile, pub, key.PublicKey())
	}
	if key.Address() != addr {
		return nil, fmt.Errorf("%w: address %x does not belong to the seed (want %x)", ErrBadDevKeyFile, addr, key.Address())
	}
	return key, nil
}
