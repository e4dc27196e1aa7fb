package wallet

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDevKeyRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node", "dev-key.json")
	k := testKey(t, 20)
	if err := SaveDevKey(path, k); err != nil {
		t.Fatal(err)
	}
	got, err := LoadDevKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Seed(), k.Seed()) {
		t.Fatal("loaded key differs from the saved one")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != filePerm {
		t.Fatalf("dev key file mode %o, want %o", fi.Mode().Perm(), filePerm)
	}
	data, _ := os.ReadFile(path)
	if !bytes.Contains(data, []byte("UNENCRYPTED")) || !bytes.Contains(data, []byte("unencrypted")) {
		t.Fatalf("dev key file does not say it is unencrypted:\n%s", data)
	}
	// Saving again replaces the file atomically.
	k2 := testKey(t, 21)
	if err := SaveDevKey(path, k2); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadDevKey(path); err != nil || got.PublicKey() != k2.PublicKey() {
		t.Fatalf("overwritten dev key: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want 1 (temporary file left?)", len(entries))
	}
}

func TestDevKeyBadFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dev.json")
	k := testKey(t, 22)
	if err := SaveDevKey(path, k); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	var j devKeyJSON
	if err := json.Unmarshal(good, &j); err != nil {
		t.Fatal(err)
	}
	edit := func(f func(*devKeyJSON)) []byte {
		c := j
		f(&c)
		b, _ := json.Marshal(c)
		return b
	}
	cases := map[string][]byte{
		"empty":        {},
		"truncated":    good[:len(good)/2],
		"not json":     []byte("seed=abc"),
		"trailing":     append(append([]byte{}, good...), []byte("{}")...),
		"unknown":      bytes.Replace(good, []byte(`"type"`), []byte(`"x": 1, "type"`), 1),
		"type":         edit(func(c *devKeyJSON) { c.Type = "chaind-keystore" }),
		"seed short":   edit(func(c *devKeyJSON) { c.Seed = c.Seed[:62] }),
		"seed hex":     edit(func(c *devKeyJSON) { c.Seed = "zz" + c.Seed[2:] }),
		"seed changed": edit(func(c *devKeyJSON) { c.Seed = flipHex(c.Seed) }),
		"public key":   edit(func(c *devKeyJSON) { c.PublicKey = flipHex(c.PublicKey) }),
		"address":      edit(func(c *devKeyJSON) { c.Address = flipHex(c.Address) }),
	}
	for name, data := range cases {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		key, err := LoadDevKey(path)
		if !errors.Is(err, ErrBadDevKeyFile) || key != nil {
			t.Fatalf("%s: LoadDevKey = %v, %v; want ErrBadDevKeyFile", name, key, err)
		}
	}
	if _, err := LoadDevKey(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte(strings.Repeat(" ", maxDevKeyFileSize+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDevKey(path); err == nil {
		t.Fatal("oversized dev key file accepted")
	}
}
