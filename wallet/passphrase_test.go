package wallet

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSources returns passphrase sources with the given environment,
// standard input and terminal behaviour.
func fakeSources(env map[string]string, stdin io.Reader, terminal []byte, stderr *bytes.Buffer) passphraseSources {
	return passphraseSources{
		lookupEnv: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		},
		stdin:        stdin,
		stderr:       stderr,
		isTerminal:   func() bool { return terminal != nil },
		readPassword: func() ([]byte, error) { return terminal, nil },
	}
}

func TestReadPassphraseOrder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pass")
	if err := os.WriteFile(file, []byte("from file\r\nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PW": "from env", "EMPTY": ""}
	var stderr bytes.Buffer
	cases := []struct {
		name     string
		file     string
		envVar   string
		prompt   bool
		stdin    string
		terminal []byte
		want     string
		wantErr  error
	}{
		{"file wins", file, "PW", true, "from stdin\n", []byte("typed"), "from file", nil},
		{"env next", "", "PW", true, "from stdin\n", []byte("typed"), "from env", nil},
		{"env set empty", "", "EMPTY", true, "x\n", nil, "", nil},
		{"env unset, terminal", "", "UNSET", true, "from stdin\n", []byte("typed"), "typed", nil},
		{"pipe", "", "", true, "from stdin\nmore\n", nil, "from stdin", nil},
		{"pipe without newline", "", "", true, "last", nil, "last", nil},
		{"pipe crlf", "", "", true, "dos\r\n", nil, "dos", nil},
		{"pipe empty", "", "", true, "", nil, "", ErrNoPassphrase},
		{"no prompt", "", "UNSET", false, "x\n", []byte("typed"), "", ErrNoPassphrase},
	}
	for _, c := range cases {
		stderr.Reset()
		got, err := fakeSources(env, strings.NewReader(c.stdin), c.terminal, &stderr).read(c.file, c.envVar, c.prompt)
		if c.wantErr != nil {
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("%s: err = %v, want %v", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Fatalf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
		if c.name == "env unset, terminal" && !strings.Contains(stderr.String(), passphrasePrompt) {
			t.Fatalf("terminal read without a prompt on stderr (%q)", stderr.String())
		}
	}
}

func TestReadPassphraseErrors(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	src := fakeSources(nil, strings.NewReader(""), nil, &stderr)
	if _, err := src.read(filepath.Join(dir, "missing"), "", true); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing passphrase file: %v", err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("a"), maxPassphraseSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := src.read(big, "", true); err == nil {
		t.Fatal("oversized passphrase file accepted")
	}
	long := fakeSources(nil, strings.NewReader(strings.Repeat("a", maxPassphraseSize+1)+"\n"), nil, &stderr)
	if _, err := long.read("", "", true); err == nil {
		t.Fatal("oversized passphrase on stdin accepted")
	}
	longEnv := fakeSources(map[string]string{"PW": strings.Repeat("a", maxPassphraseSize+1)}, nil, nil, &stderr)
	if _, err := longEnv.read("", "PW", false); err == nil {
		t.Fatal("oversized passphrase in environment accepted")
	}
	failing := fakeSources(nil, nil, []byte{}, &stderr)
	failing.readPassword = func() ([]byte, error) { return nil, io.ErrUnexpectedEOF }
	if _, err := failing.read("", "", true); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("terminal read error: %v", err)
	}
}

func TestReadLineLeavesRestOfInput(t *testing.T) {
	r := strings.NewReader("secret\nnext command\n")
	got, err := readLine(r)
	if err != nil || string(got) != "secret" {
		t.Fatalf("readLine = %q, %v", got, err)
	}
	rest, _ := io.ReadAll(r)
	if string(rest) != "next command\n" {
		t.Fatalf("readLine consumed past the line; rest = %q", rest)
	}
}

func TestReadPassphraseFromFileAndEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadPassphrase(file, "", false); err != nil || string(got) != "hunter2" {
		t.Fatalf("ReadPassphrase(file) = %q, %v", got, err)
	}
	t.Setenv("CHAIND_WALLET_TEST_PW", "env secret")
	if got, err := ReadPassphrase("", "CHAIND_WALLET_TEST_PW", false); err != nil || string(got) != "env secret" {
		t.Fatalf("ReadPassphrase(env) = %q, %v", got, err)
	}
	if _, err := ReadPassphrase("", "CHAIND_WALLET_TEST_UNSET_PW", false); !errors.Is(err, ErrNoPassphrase) {
		t.Fatalf("no source: %v", err)
	}
}
