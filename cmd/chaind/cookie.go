package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CookieFile is the file in the data directory that holds the API cookie:
// a random token the node writes at each start (readable by its owner
// only) and removes at a clean stop, so that local tools such as this
// command line can use the protected routes with no setup, as Bitcoin
// Core's .cookie.
const CookieFile = ".cookie"

// writeCookie writes a fresh random cookie into datadir and returns it.
// The file is written beside and renamed into place, so a reader never
// sees half a token.
func writeCookie(datadir string) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("API cookie: %w", err)
	}
	tok := hex.EncodeToString(raw[:])
	path := filepath.Join(datadir, CookieFile)
	tmp, err := os.CreateTemp(datadir, CookieFile+".tmp*")
	if err != nil {
		return "", fmt.Errorf("write API cookie: %w", err)
	}
	_, werr := tmp.WriteString(tok + "\n")
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o600), os.Rename(tmp.Name(), path)); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("write API cookie %s: %w", path, err)
	}
	return tok, nil
}

// removeCookie deletes the cookie file at a clean stop.
func removeCookie(datadir string) error {
	err := os.Remove(filepath.Join(datadir, CookieFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove API cookie: %w", err)
	}
	return nil
}

// readCredential returns the token a local tool should send to the node
// of datadir: the cookie when the node is running, else the API token
// file; "" when there is neither.
func readCredential(datadir string) string {
	for _, name := range []string{CookieFile, TokenFile} {
		if b, err := os.ReadFile(filepath.Join(datadir, name)); err == nil {
			if tok := strings.TrimSpace(string(b)); tok != "" {
				return tok
			}
		}
	}
	return ""
}
