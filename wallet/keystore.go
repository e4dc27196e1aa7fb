package wallet

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"

	"github.com/chaind/chaind/chain"
)

// Errors returned by the keystore; they are wrapped with the file or
// address they concern, so test with errors.Is.
var (
	// ErrWrongPassphrase is returned when a key file does not decrypt: the
	// passphrase is wrong, or the salt, nonce, KDF parameters or
	// ciphertext were altered (the two cannot be told apart).
	ErrWrongPassphrase = errors.New("wrong passphrase or damaged key file")
	// ErrBadKeyFile is returned for a key file that is not a well-formed
	// keystore file: truncated, corrupt, of an unknown version, or whose
	// address and public key do not match.
	ErrBadKeyFile = errors.New("malformed keystore file")
	// ErrKeyNotFound is returned by Unlock for an address with no file.
	ErrKeyNotFound = errors.New("no key for address")
	// ErrKeyExists is returned by Import when the address already has a file.
	ErrKeyExists = errors.New("key already in keystore")
)

// Keystore file format and bounds.
const (
	// KeystoreVersion is the version of the key file format written.
	KeystoreVersion = 1
	// kdfScrypt and cipherXChaCha are the only algorithms of version 1.
	kdfScrypt     = "scrypt"
	cipherXChaCha = "xchacha20-poly1305"
	// saltSize is the length of the random scrypt salt.
	saltSize = 32
	// keySize is the length of the derived encryption key.
	keySize = chacha20poly1305.KeySize
	// ciphertextSize is the encrypted seed plus its authentication tag.
	ciphertextSize = SeedSize + chacha20poly1305.Overhead
	// maxKeyFileSize bounds a key file read from disk; a real one is
	// about 500 bytes.
	maxKeyFileSize = 16 << 10
	// keyFileExt ends every key file name; the name is the hex address.
	keyFileExt = ".json"
)

// Scrypt cost parameters.
const (
	// DefaultScryptN, DefaultScryptR and DefaultScryptP are the cost of
	// new key files: about 32 MiB and a few tens of milliseconds per
	// unlock on one core.
	DefaultScryptN = 1 << 15
	DefaultScryptR = 8
	DefaultScryptP = 1
	// LightScryptN is a cost for tests and throw-away devnet keystores
	// (4 MiB); it protects a stolen file far less.
	LightScryptN = 1 << 12
	// MaxScryptN, MaxScryptR, MaxScryptP and maxScryptMemory bound the
	// parameters accepted from a file, so a tampered file cannot make an
	// unlock take gigabytes or minutes.
	MaxScryptN      = 1 << 20
	MaxScryptR      = 32
	MaxScryptP      = 4
	maxScryptMemory = 1 << 30
	// minScryptN is the smallest cost scrypt itself allows.
	minScryptN = 2
)

// ScryptParams are the scrypt cost parameters of a key file.
type ScryptParams struct {
	N, R, P int
}

// DefaultScryptParams returns the cost used for new key files unless
// WithScrypt says otherwise.
func DefaultScryptParams() ScryptParams {
	return ScryptParams{N: DefaultScryptN, R: DefaultScryptR, P: DefaultScryptP}
}

// Validate checks that p is a cost this package will compute: N a power of
// two within [2, MaxScryptN], R within [1, MaxScryptR], P within
// [1, MaxScryptP], and at most 1 GiB of memory (128*N*R bytes).
func (p ScryptParams) Validate() error {
	if p.N < minScryptN || p.N > MaxScryptN || p.N&(p.N-1) != 0 {
		return fmt.Errorf("scrypt N=%d must be a power of two from %d to %d", p.N, minScryptN, MaxScryptN)
	}
	if p.R < 1 || p.R > MaxScryptR {
		return fmt.Errorf("scrypt r=%d must be from 1 to %d", p.R, MaxScryptR)
	}
	if p.P < 1 || p.P > MaxScryptP {
		return fmt.Errorf("scrypt p=%d must be from 1 to %d", p.P, MaxScryptP)
	}
	if 128*int64(p.N)*int64(p.R) > maxScryptMemory {
		return fmt.Errorf("scrypt N=%d r=%d needs more than %d bytes of memory", p.N, p.R, maxScryptMemory)
	}
	return nil
}

// keyFileJSON is the on-disk form of a key file.
type keyFileJSON struct {
	Version   int        `json:"version"`
	Address   string     `json:"address"`
	PublicKey string     `json:"public_key"`
	Crypto    cryptoJSON `json:"crypto"`
}

type cryptoJSON struct {
	KDF        string     `json:"kdf"`
	KDFParams  scryptJSON `json:"kdf_params"`
	Cipher     string     `json:"cipher"`
	Nonce      string     `json:"nonce"`
	Ciphertext string     `json:"ciphertext"`
}

type scryptJSON struct {
	N    int    `json:"n"`
	R    int    `json:"r"`
	P    int    `json:"p"`
	Salt string `json:"salt"`
}

// keyFile is a parsed, structurally valid key file.
type keyFile struct {
	address    chain.Address
	publicKey  chain.PublicKey
	scrypt     ScryptParams
	salt       [saltSize]byte
	nonce      [chacha20poly1305.NonceSizeX]byte
	ciphertext [ciphertextSize]byte
}

// parseKeystoreFile parses and checks a key file without decrypting it.
// Every error wraps ErrBadKeyFile.
func parseKeystoreFile(data []byte) (*keyFile, error) {
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrBadKeyFile, len(data), maxKeyFileSize)
	}
	var j keyFileJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKeyFile, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrBadKeyFile)
	}
	if j.Version != KeystoreVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads version %d", ErrBadKeyFile, j.Version, KeystoreVersion)
	}
	if j.Crypto.KDF != kdfScrypt {
		return nil, fmt.Errorf("%w: kdf %q, want %q", ErrBadKeyFile, j.Crypto.KDF, kdfScrypt)
	}
	if j.Crypto.Cipher != cipherXChaCha {
		return nil, fmt.Errorf("%w: cipher %q, want %q", ErrBadKeyFile, j.Crypto.Cipher, cipherXChaCha)
	}
	kf := &keyFile{scrypt: ScryptParams{N: j.Crypto.KDFParams.N, R: j.Crypto.KDFParams.R, P: j.Crypto.KDFParams.P}}
	if err := kf.scrypt.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKeyFile, err)
	}
	for _, f := range []struct {
		name string
		hex  string
		dst  []byte
	}{
		{"address", j.Address, kf.address[:]},
		{"public_key", j.PublicKey, kf.publicKey[:]},
		{"kdf_params.salt", j.Crypto.KDFParams.Salt, kf.salt[:]},
		{"nonce", j.Crypto.Nonce, kf.nonce[:]},
		{"ciphertext", j.Crypto.Ciphertext, kf.ciphertext[:]},
	} {
		if err := decodeHexExact(f.hex, f.dst); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBadKeyFile, f.name, err)
		}
	}
	if chain.AddressOf(kf.publicKey) != kf.address {
		return nil, fmt.Errorf("%w: address %x is not the address of public key %x", ErrBadKeyFile, kf.address, kf.publicKey)
	}
	return kf, nil
}

// decodeHexExact decodes s into dst, which it must fill exactly.
func decodeHexExact(s string, dst []byte) error {
	if len(s) != 2*len(dst) {
		return fmt.Errorf("want %d hex characters, got %d", 2*len(dst), len(s))
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return err
	}
	return nil
}

// deriveKey stretches passphrase with scrypt.
func deriveKey(passphrase []byte, salt []byte, p ScryptParams) ([]byte, error) {
	k, err := scrypt.Key(passphrase, salt, p.N, p.R, p.P, keySize)
	if err != nil {
		return nil, fmt.Errorf("scrypt: %w", err)
	}
	return k, nil
}

// encryptKey returns the key file of key under passphrase, with a fresh
// salt and nonce read from rnd.
func encryptKey(key *Key, passphrase []byte, p ScryptParams, rnd io.Reader) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var salt [saltSize]byte
	var nonce [chacha20poly1305.NonceSizeX]byte
	if _, err := io.ReadFull(rnd, salt[:]); err != nil {
		return nil, fmt.Errorf("read random salt: %w", err)
	}
	if _, err := io.ReadFull(rnd, nonce[:]); err != nil {
		return nil, fmt.Errorf("read random nonce: %w", err)
	}
	dk, err := deriveKey(passphrase, salt[:], p)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(dk)
	if err != nil {
		return nil, fmt.Errorf("cipher: %w", err)
	}
	addr := key.Address()
	pub := key.PublicKey()
	ct := aead.Seal(nil, nonce[:], key.priv.Seed(), addr[:])
	j := keyFileJSON{
		Version:   KeystoreVersion,
		Address:   hex.EncodeToString(addr[:]),
		PublicKey: hex.EncodeToString(pub[:]),
		Crypto: cryptoJSON{
			KDF:        kdfScrypt,
			KDFParams:  scryptJSON{N: p.N, R: p.R, P: p.P, Salt: hex.EncodeToString(salt[:])},
			Cipher:     cipherXChaCha,
			Nonce:      hex.EncodeToString(nonce[:]),
			Ciphertext: hex.EncodeToString(ct),
		},
	}
	out, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode key file: %w", err)
	}
	return append(out, '\n'), nil
}

// decrypt returns the key of kf under passphrase.
func (kf *keyFile) decrypt(passphrase []byte) (*Key, error) {
	dk, err := deriveKey(passphrase, kf.salt[:], kf.scrypt)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(dk)
	if err != nil {
		return nil, fmt.Errorf("cipher: %w", err)
	}
	seed, err := aead.Open(nil, kf.nonce[:], kf.ciphertext[:], kf.address[:])
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	key, err := KeyFromSeed(seed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKeyFile, err)
	}
	if key.PublicKey() != kf.publicKey {
		return nil, fmt.Errorf("%w: decrypted key has public key %x, file says %x", ErrBadKeyFile, key.PublicKey(), kf.publicKey)
	}
	return key, nil
}

// Keystore is a directory of passphrase-encrypted key files, one per
// address, named by the address in hex. It is safe for concurrent use by
// one process; two processes writing the same address race, and the last
// complete file wins.
type Keystore struct {
	dir    string
	scrypt ScryptParams
	mu     sync.Mutex // serialises Create and Import
}

// Option configures a Keystore.
type Option func(*Keystore)

// WithScrypt sets the scrypt cost of key files the keystore writes (files
// already written keep their own). OpenKeystore rejects a cost outside
// ScryptParams.Validate's bounds.
func WithScrypt(n, r, p int) Option {
	return func(ks *Keystore) { ks.scrypt = ScryptParams{N: n, R: r, P: p} }
}

// OpenKeystore opens the keystore in dir, creating the directory with mode
// 0700 if it does not exist.
func OpenKeystore(dir string, opts ...Option) (*Keystore, error) {
	ks := &Keystore{dir: dir, scrypt: DefaultScryptParams()}
	for _, o := range opts {
		o(ks)
	}
	if err := ks.scrypt.Validate(); err != nil {
		return nil, fmt.Errorf("open keystore %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("open keystore: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open keystore: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open keystore: %s is not a directory", dir)
	}
	return ks, nil
}

// Dir returns the keystore's directory.
func (ks *Keystore) Dir() string { return ks.dir }

// Path returns the file that holds (or would hold) the key of addr.
func (ks *Keystore) Path(addr chain.Address) string {
	return filepath.Join(ks.dir, hex.EncodeToString(addr[:])+keyFileExt)
}

// Create generates a new key, stores it encrypted under passphrase and
// returns it.
func (ks *Keystore) Create(passphrase []byte) (*Key, error) {
	key, err := GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	if err := ks.Import(key, passphrase); err != nil {
		return nil, err
	}
	return key, nil
}

// Import stores key encrypted under passphrase. It returns ErrKeyExists if
// the keystore already holds a file for the key's address.
func (ks *Keystore) Import(key *Key, passphrase []byte) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	path := ks.Path(key.Address())
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("import %x: %w (%s)", key.Address(), ErrKeyExists, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("import %x: %w", key.Address(), err)
	}
	data, err := encryptKey(key, passphrase, ks.scrypt, rand.Reader)
	if err != nil {
		return fmt.Errorf("import %x: %w", key.Address(), err)
	}
	if err := writeFileAtomic(path, data); err != nil {
		return fmt.Errorf("import %x: %w", key.Address(), err)
	}
	return nil
}

// List returns the addresses of the key files in the keystore, in
// ascending byte order. It reads only file names; Unlock checks contents.
// Other files in the directory are ignored.
func (ks *Keystore) List() ([]chain.Address, error) {
	entries, err := os.ReadDir(ks.dir)
	if err != nil {
		return nil, fmt.Errorf("list keystore: %w", err)
	}
	var addrs []chain.Address
	for _, e := range entries {
		if addr, ok := addressOfFileName(e.Name()); ok && e.Type().IsRegular() {
			addrs = append(addrs, addr)
		}
	}
	return addrs, nil
}

// addressOfFileName parses a key file name: 40 lower-case hex characters
// and the extension.
func addressOfFileName(name string) (chain.Address, bool) {
	var addr chain.Address
	h, ok := strings.CutSuffix(name, keyFileExt)
	if !ok || decodeHexExact(h, addr[:]) != nil || h != hex.EncodeToString(addr[:]) {
		return chain.Address{}, false
	}
	return addr, true
}

// Unlock decrypts the key of addr with passphrase. It returns an error
// wrapping ErrKeyNotFound, ErrBadKeyFile or ErrWrongPassphrase when there is
// no such key, its file is damaged, or the passphrase does not open it.
func (ks *Keystore) Unlock(addr chain.Address, passphrase []byte) (*Key, error) {
	path := ks.Path(addr)
	data, err := readFileLimited(path, maxKeyFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("unlock %x: %w", addr, ErrKeyNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("unlock %x: %w", addr, err)
	}
	kf, err := parseKeystoreFile(data)
	if err != nil {
		return nil, fmt.Errorf("unlock %x: %s: %w", addr, path, err)
	}
	if kf.address != addr {
		return nil, fmt.Errorf("unlock %x: %s: %w: file holds address %x", addr, path, ErrBadKeyFile, kf.address)
	}
	key, err := kf.decrypt(passphrase)
	if err != nil {
		return nil, fmt.Errorf("unlock %x: %s: %w", addr, path, err)
	}
	return key, nil
}

// UnlockAll decrypts every key in the keystore with the one passphrase, in
// List order. It fails, returning no keys, if any one does not unlock.
func (ks *Keystore) UnlockAll(passphrase []byte) ([]*Key, error) {
	addrs, err := ks.List()
	if err != nil {
		return nil, err
	}
	keys := make([]*Key, 0, len(addrs))
	for _, a := range addrs {
		k, err := ks.Unlock(a, passphrase)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}
