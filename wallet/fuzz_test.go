package wallet

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fuzzPass is the passphrase of the valid seeds, so the fuzzer can reach
// successful decryption.
var fuzzPass = []byte("fuzz")

// maxFuzzScryptWork bounds N*r*p of files the fuzz target decrypts, so
// each input stays fast.
const maxFuzzScryptWork = 1 << 10

// FuzzParseKeystoreFile checks that no input makes parsing or decryption
// panic, that every refusal is one of the package's errors, and that a
// file that decrypts yields the key it names. Seeds: testdata/fuzz and a
// freshly encrypted file.
func FuzzParseKeystoreFile(f *testing.F) {
	valid, err := encryptKey(testKey(f, 30), fuzzPass, ScryptParams{N: 16, R: 1, P: 1}, bytes.NewReader(bytes.Repeat([]byte{1}, 64)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)/3])
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		kf, err := parseKeystoreFile(data)
		if err != nil {
			if !errors.Is(err, ErrBadKeyFile) {
				t.Fatalf("parse error does not wrap ErrBadKeyFile: %v", err)
			}
			return
		}
		if kf.scrypt.N*kf.scrypt.R*kf.scrypt.P > maxFuzzScryptWork {
			return
		}
		key, err := kf.decrypt(fuzzPass)
		if err != nil {
			if !errors.Is(err, ErrWrongPassphrase) && !errors.Is(err, ErrBadKeyFile) {
				t.Fatalf("decrypt error is neither ErrWrongPassphrase nor ErrBadKeyFile: %v", err)
			}
			return
		}
		if key.PublicKey() != kf.publicKey || key.Address() != kf.address {
			t.Fatalf("decrypted key %x does not match the file's %x", key.PublicKey(), kf.publicKey)
		}
	})
}

// TestFuzzCorpusValidSeed checks that the committed "valid" seed still
// parses and decrypts with fuzzPass, so the corpus reaches the decryption
// path and follows format changes.
func TestFuzzCorpusValidSeed(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzParseKeystoreFile", "valid"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(raw), "\n", 3)
	if len(lines) < 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") {
		t.Fatalf("unexpected corpus file format: %.60q", raw)
	}
	data, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		t.Fatal(err)
	}
	kf, err := parseKeystoreFile([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kf.decrypt(fuzzPass); err != nil {
		t.Fatal(err)
	}
}
