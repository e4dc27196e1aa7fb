package wallet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaind/chaind/chain"
)

// testScryptN keeps key files cheap in tests.
const testScryptN = 1 << 4

var testPass = []byte("correct horse battery staple")

func openTestKeystore(t *testing.T) *Keystore {
	t.Helper()
	ks, err := OpenKeystore(filepath.Join(t.TempDir(), "keys"), WithScrypt(testScryptN, 8, 1))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestKeystoreCreateListUnlock(t *testing.T) {
	ks := openTestKeystore(t)
	if addrs, err := ks.List(); err != nil || len(addrs) != 0 {
		t.Fatalf("new keystore List = %v, %v", addrs, err)
	}
	var want []chain.Address
	keys := map[chain.Address]*Key{}
	for i := 0; i < 3; i++ {
		k, err := ks.Create(testPass)
		if err != nil {
			t.Fatal(err)
		}
		keys[k.Address()] = k
		want = append(want, k.Address())
	}
	got, err := ks.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("List = %x, want %d addresses", got, len(want))
	}
	for i := 1; i < len(got); i++ {
		if bytes.Compare(got[i-1][:], got[i][:]) >= 0 {
			t.Fatalf("List not sorted: %x", got)
		}
	}
	for _, a := range got {
		k, ok := keys[a]
		if !ok {
			t.Fatalf("List returned unknown address %x", a)
		}
		u, err := ks.Unlock(a, testPass)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(u.Seed(), k.Seed()) {
			t.Fatalf("unlocked key of %x differs from the created one", a)
		}
	}
	all, err := ks.UnlockAll(testPass)
	if err != nil || len(all) != 3 {
		t.Fatalf("UnlockAll = %d keys, %v", len(all), err)
	}
}

func TestKeystorePermissionsAndNoTempFiles(t *testing.T) {
	ks := openTestKeystore(t)
	k, err := ks.Create(testPass)
	if err != nil {
		t.Fatal(err)
	}
	di, err := os.Stat(ks.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if perm := di.Mode().Perm(); perm&^dirPerm != 0 {
		t.Fatalf("keystore directory mode %o, want at most %o", perm, dirPerm)
	}
	fi, err := os.Stat(ks.Path(k.Address()))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != filePerm {
		t.Fatalf("key file mode %o, want %o", perm, filePerm)
	}
	entries, _ := os.ReadDir(ks.Dir())
	if len(entries) != 1 {
		t.Fatalf("keystore holds %d entries after one Create, want 1", len(entries))
	}
}

func TestKeystoreFileFormat(t *testing.T) {
	ks := openTestKeystore(t)
	k := testKey(t, 8)
	if err := ks.Import(k, testPass); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(ks.Path(k.Address()))
	if err != nil {
		t.Fatal(err)
	}
	var j keyFileJSON
	if err := json.Unmarshal(data, &j); err != nil {
		t.Fatal(err)
	}
	addr, pub := k.Address(), k.PublicKey()
	if j.Version != 1 || j.Address != hex.EncodeToString(addr[:]) || j.PublicKey != hex.EncodeToString(pub[:]) ||
		j.Crypto.KDF != "scrypt" || j.Crypto.Cipher != "xchacha20-poly1305" ||
		j.Crypto.KDFParams.N != testScryptN || j.Crypto.KDFParams.R != 8 || j.Crypto.KDFParams.P != 1 ||
		len(j.Crypto.KDFParams.Salt) != 64 || len(j.Crypto.Nonce) != 48 || len(j.Crypto.Ciphertext) != 96 {
		t.Fatalf("unexpected key file:\n%s", data)
	}
	if bytes.Contains(data, []byte(hex.EncodeToString(k.Seed()))) {
		t.Fatal("key file contains the seed in clear")
	}
	// Same key and passphrase again: fresh salt and nonce.
	ks2 := openTestKeystore(t)
	if err := ks2.Import(k, testPass); err != nil {
		t.Fatal(err)
	}
	data2, _ := os.ReadFile(ks2.Path(k.Address()))
	var j2 keyFileJSON
	if err := json.Unmarshal(data2, &j2); err != nil {
		t.Fatal(err)
	}
	if j2.Crypto.KDFParams.Salt == j.Crypto.KDFParams.Salt || j2.Crypto.Nonce == j.Crypto.Nonce {
		t.Fatal("salt or nonce repeated across two encryptions")
	}
}

func TestKeystoreDefaultScrypt(t *testing.T) {
	ks, err := OpenKeystore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k, err := ks.Create(testPass)
	if err != nil {
		t.Fatal(err)
	}
	kf := readKeyFile(t, ks, k.Address())
	if kf.scrypt != DefaultScryptParams() || kf.scrypt.N != 1<<15 {
		t.Fatalf("default cost %+v, want N=2^15 r=8 p=1", kf.scrypt)
	}
	if _, err := ks.Unlock(k.Address(), testPass); err != nil {
		t.Fatal(err)
	}
}

func readKeyFile(t *testing.T, ks *Keystore, a chain.Address) *keyFile {
	t.Helper()
	data, err := os.ReadFile(ks.Path(a))
	if err != nil {
		t.Fatal(err)
	}
	kf, err := parseKeystoreFile(data)
	if err != nil {
		t.Fatal(err)
	}
	return kf
}

func TestKeystoreErrors(t *testing.T) {
	ks := openTestKeystore(t)
	k := testKey(t, 5)
	if err := ks.Import(k, testPass); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Unlock(k.Address(), []byte("wrong")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := ks.Unlock(k.Address(), nil); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("empty passphrase: %v", err)
	}
	if err := ks.Import(k, []byte("other")); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("second import: %v", err)
	}
	if u, err := ks.Unlock(k.Address(), testPass); err != nil || u.PublicKey() != k.PublicKey() {
		t.Fatalf("first file changed by refused import: %v", err)
	}
	if _, err := ks.Unlock(chain.Address{1}, testPass); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("missing key: %v", err)
	}
	// One key under another passphrase makes UnlockAll fail as a whole.
	if err := ks.Import(testKey(t, 6), []byte("different")); err != nil {
		t.Fatal(err)
	}
	if keys, err := ks.UnlockAll(testPass); !errors.Is(err, ErrWrongPassphrase) || keys != nil {
		t.Fatalf("UnlockAll with mixed passphrases = %d keys, %v", len(keys), err)
	}
}

func TestKeystoreEmptyPassphrase(t *testing.T) {
	ks := openTestKeystore(t)
	k, err := ks.Create(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Unlock(k.Address(), []byte{}); err != nil {
		t.Fatalf("empty passphrase round trip: %v", err)
	}
	if _, err := ks.Unlock(k.Address(), []byte(" ")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("non-empty passphrase opened a file made with an empty one: %v", err)
	}
}

func TestOpenKeystoreBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, p := range [][3]int{{0, 8, 1}, {3, 8, 1}, {1 << 21, 8, 1}, {1 << 15, 0, 1}, {1 << 15, 33, 1}, {1 << 15, 8, 0}, {1 << 15, 8, 5}, {1 << 20, 32, 1}} {
		if _, err := OpenKeystore(dir, WithScrypt(p[0], p[1], p[2])); err == nil {
			t.Fatalf("scrypt %v accepted", p)
		}
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenKeystore(file); err == nil {
		t.Fatal("a regular file opened as a keystore")
	}
}

func TestKeystoreListIgnoresOtherFiles(t *testing.T) {
	ks := openTestKeystore(t)
	k, err := ks.Create(testPass)
	if err != nil {
		t.Fatal(err)
	}
	addr := k.Address()
	lower := hex.EncodeToString(addr[:])
	for _, name := range []string{"README", lower + ".json.bak", strings.ToUpper(lower) + ".json", ".tmp-" + lower + ".json-123", "abcd.json"} {
		if err := os.WriteFile(filepath.Join(ks.Dir(), name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(ks.Dir(), "00112233445566778899aabbccddeeff00112233.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	got, err := ks.List()
	if err != nil || len(got) != 1 || got[0] != addr {
		t.Fatalf("List = %x, %v; want only %x", got, err, addr)
	}
}

// tamper rewrites the key file of k in ks through edit of its JSON.
func tamper(t *testing.T, ks *Keystore, a chain.Address, edit func(*keyFileJSON)) {
	t.Helper()
	path := ks.Path(a)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var j keyFileJSON
	if err := json.Unmarshal(data, &j); err != nil {
		t.Fatal(err)
	}
	edit(&j)
	out, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// flipHex changes the first hex digit of s.
func flipHex(s string) string {
	b := []byte(s)
	if b[0] == '0' {
		b[0] = '1'
	} else {
		b[0] = '0'
	}
	return string(b)
}

func TestKeystoreTamperedFiles(t *testing.T) {
	other := testKey(t, 77)
	otherAddr, otherPub := other.Address(), other.PublicKey()
	cases := []struct {
		name string
		edit func(*keyFileJSON)
		want error
	}{
		{"ciphertext", func(j *keyFileJSON) { j.Crypto.Ciphertext = flipHex(j.Crypto.Ciphertext) }, ErrWrongPassphrase},
		{"tag", func(j *keyFileJSON) {
			// Change the last hex digit to another hex digit (flipping a
			// bit of the character could make 'f' a 'g', not hex at all).
			c := []byte(j.Crypto.Ciphertext)
			if c[len(c)-1] == '0' {
				c[len(c)-1] = '1'
			} else {
				c[len(c)-1] = '0'
			}
			j.Crypto.Ciphertext = string(c)
		}, ErrWrongPassphrase},
		{"nonce", func(j *keyFileJSON) { j.Crypto.Nonce = flipHex(j.Crypto.Nonce) }, ErrWrongPassphrase},
		{"salt", func(j *keyFileJSON) { j.Crypto.KDFParams.Salt = flipHex(j.Crypto.KDFParams.Salt) }, ErrWrongPassphrase},
		{"scrypt n", func(j *keyFileJSON) { j.Crypto.KDFParams.N *= 2 }, ErrWrongPassphrase},
		{"scrypt r", func(j *keyFileJSON) { j.Crypto.KDFParams.R = 1 }, ErrWrongPassphrase},
		{"scrypt n huge", func(j *keyFileJSON) { j.Crypto.KDFParams.N = 1 << 30 }, ErrBadKeyFile},
		{"scrypt n not power of 2", func(j *keyFileJSON) { j.Crypto.KDFParams.N = 1000 }, ErrBadKeyFile},
		{"scrypt p negative", func(j *keyFileJSON) { j.Crypto.KDFParams.P = -1 }, ErrBadKeyFile},
		{"address", func(j *keyFileJSON) { j.Address = flipHex(j.Address) }, ErrBadKeyFile},
		{"public key", func(j *keyFileJSON) { j.PublicKey = flipHex(j.PublicKey) }, ErrBadKeyFile},
		{"version", func(j *keyFileJSON) { j.Version = 2 }, ErrBadKeyFile},
		{"kdf", func(j *keyFileJSON) { j.Crypto.KDF = "pbkdf2" }, ErrBadKeyFile},
		{"cipher", func(j *keyFileJSON) { j.Crypto.Cipher = "aes-128-ctr" }, ErrBadKeyFile},
		{"short ciphertext", func(j *keyFileJSON) { j.Crypto.Ciphertext = j.Crypto.Ciphertext[:64] }, ErrBadKeyFile},
		{"non-hex nonce", func(j *keyFileJSON) { j.Crypto.Nonce = "zz" + j.Crypto.Nonce[2:] }, ErrBadKeyFile},
		// Another key's address and public key, consistent with each other,
		// over this key's ciphertext: the address is associated data, so
		// decryption fails. (The file name is the other address here.)
		{"moved to another address", func(j *keyFileJSON) {
			j.Address = hex.EncodeToString(otherAddr[:])
			j.PublicKey = hex.EncodeToString(otherPub[:])
		}, ErrWrongPassphrase},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ks := openTestKeystore(t)
			k := testKey(t, 9)
			if err := ks.Import(k, testPass); err != nil {
				t.Fatal(err)
			}
			tamper(t, ks, k.Address(), c.edit)
			target := k.Address()
			if c.name == "moved to another address" {
				if err := os.Rename(ks.Path(k.Address()), ks.Path(otherAddr)); err != nil {
					t.Fatal(err)
				}
				target = otherAddr
			}
			key, err := ks.Unlock(target, testPass)
			if !errors.Is(err, c.want) || key != nil {
				t.Fatalf("Unlock = %v, %v; want error %v", key, err, c.want)
			}
		})
	}
}

func TestKeystoreFileUnderWrongName(t *testing.T) {
	ks := openTestKeystore(t)
	a, b := testKey(t, 10), testKey(t, 11)
	if err := ks.Import(a, testPass); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(ks.Path(a.Address()))
	if err := os.WriteFile(ks.Path(b.Address()), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Unlock(b.Address(), testPass); !errors.Is(err, ErrBadKeyFile) {
		t.Fatalf("file of a under b's name: %v", err)
	}
}

func TestParseKeystoreFileTruncated(t *testing.T) {
	data, err := encryptKey(testKey(t, 12), testPass, ScryptParams{N: testScryptN, R: 8, P: 1}, bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseKeystoreFile(data); err != nil {
		t.Fatalf("intact file: %v", err)
	}
	// Every strict prefix (ignoring the final newline) is refused.
	body := bytes.TrimRight(data, "\n")
	for n := 0; n < len(body); n++ {
		if _, err := parseKeystoreFile(body[:n]); !errors.Is(err, ErrBadKeyFile) {
			t.Fatalf("prefix of %d/%d bytes: err = %v", n, len(body), err)
		}
	}
	for _, bad := range [][]byte{append(append([]byte{}, body...), '}'), append(append([]byte{}, body...), []byte(" {}")...), []byte("null"), []byte("[]"), bytes.Repeat([]byte(" "), maxKeyFileSize+1)} {
		if _, err := parseKeystoreFile(bad); !errors.Is(err, ErrBadKeyFile) {
			t.Fatalf("%.40q: err = %v", bad, err)
		}
	}
	unknown := bytes.Replace(data, []byte(`"version"`), []byte(`"extra": 1, "version"`), 1)
	if _, err := parseKeystoreFile(unknown); !errors.Is(err, ErrBadKeyFile) {
		t.Fatalf("unknown field accepted: %v", err)
	}
}

func TestKeystoreTruncatedFileOnDisk(t *testing.T) {
	ks := openTestKeystore(t)
	k := testKey(t, 13)
	if err := ks.Import(k, testPass); err != nil {
		t.Fatal(err)
	}
	path := ks.Path(k.Address())
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ks.Unlock(k.Address(), testPass)
	if !errors.Is(err, ErrBadKeyFile) || !strings.Contains(err.Error(), path) {
		t.Fatalf("truncated file: %v (want ErrBadKeyFile naming %s)", err, path)
	}
	big := bytes.Repeat([]byte(" "), maxKeyFileSize+10)
	if err := os.WriteFile(path, big, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Unlock(k.Address(), testPass); err == nil {
		t.Fatal("oversized file accepted")
	}
}

func TestKeystoreConcurrentCreate(t *testing.T) {
	ks := openTestKeystore(t)
	const n = 8
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			_, err := ks.Create(testPass)
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if keys, err := ks.UnlockAll(testPass); err != nil || len(keys) != n {
		t.Fatalf("UnlockAll = %d keys, %v; want %d", len(keys), err, n)
	}
}

func TestKeystoreWriteFailures(t *testing.T) {
	ks := openTestKeystore(t)
	if err := os.RemoveAll(ks.Dir()); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Create(testPass); err == nil {
		t.Fatal("Create succeeded in a removed directory")
	}
	if _, err := ks.List(); err == nil {
		t.Fatal("List succeeded on a removed directory")
	}
	if _, err := encryptKey(testKey(t, 1), testPass, ScryptParams{N: testScryptN, R: 8, P: 1}, bytes.NewReader(make([]byte, 10))); err == nil {
		t.Fatal("encryptKey succeeded with a short random source")
	}
	if _, err := encryptKey(testKey(t, 1), testPass, ScryptParams{N: 3, R: 8, P: 1}, bytes.NewReader(make([]byte, 100))); err == nil {
		t.Fatal("encryptKey accepted scrypt N=3")
	}
	// A path under a regular file cannot become a directory.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SaveDevKey(filepath.Join(file, "dev.json"), testKey(t, 1)); err == nil {
		t.Fatal("SaveDevKey succeeded under a regular file")
	}
	if _, err := OpenKeystore(filepath.Join(file, "keys")); err == nil {
		t.Fatal("OpenKeystore succeeded under a regular file")
	}
	if err := writeFileAtomic(filepath.Join(t.TempDir(), "missing", "f"), []byte("x")); err == nil {
		t.Fatal("writeFileAtomic succeeded in a missing directory")
	}
}
