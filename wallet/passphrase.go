package wallet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// maxPassphraseSize bounds a passphrase from any source.
const maxPassphraseSize = 4 << 10

// passphrasePrompt is shown on standard error before reading a passphrase
// from a terminal.
const passphrasePrompt = "Passphrase: "

// ErrNoPassphrase is returned by ReadPassphrase when no source gives one.
var ErrNoPassphrase = errors.New("no passphrase given: use a passphrase file, the environment variable, or an interactive terminal")

// ReadPassphrase returns a passphrase from the first source that has one:
//
//  1. file, if not empty: its first line (without the line ending);
//  2. the environment variable envVar, if not empty and set (even to "");
//  3. if prompt is true, standard input: typed without echo after a prompt
//     on standard error when it is a terminal, else its first line.
//
// It returns ErrNoPassphrase when none applies, and an error for a file
// that cannot be read or a passphrase longer than 4 KiB.
func ReadPassphrase(file string, envVar string, prompt bool) ([]byte, error) {
	fd := int(os.Stdin.Fd())
	return passphraseSources{
		lookupEnv:    os.LookupEnv,
		stdin:        os.Stdin,
		stderr:       os.Stderr,
		isTerminal:   func() bool { return term.IsTerminal(fd) },
		readPassword: func() ([]byte, error) { return term.ReadPassword(fd) },
	}.read(file, envVar, prompt)
}

// passphraseSources are the process resources ReadPassphrase uses, so
// tests can replace them.
type passphraseSources struct {
	lookupEnv    func(string) (string, bool)
	stdin        io.Reader
	stderr       io.Writer
	isTerminal   func() bool
	readPassword func() ([]byte, error)
}

func (s passphraseSources) read(file, envVar string, prompt bool) ([]byte, error) {
	if file != "" {
		data, err := readFileLimited(file, maxPassphraseSize)
		if err != nil {
			return nil, fmt.Errorf("passphrase file: %w", err)
		}
		line, _, _ := bytes.Cut(data, []byte{'\n'})
		return bytes.TrimSuffix(line, []byte{'\r'}), nil
	}
	if envVar != "" {
		if v, ok := s.lookupEnv(envVar); ok {
			if len(v) > maxPassphraseSize {
				return nil, fmt.Errorf("passphrase in $%s is longer than %d bytes", envVar, maxPassphraseSize)
			}
			return []byte(v), nil
		}
	}
	if !prompt {
		return nil, ErrNoPassphrase
	}
	if s.isTerminal() {
		fmt.Fprint(s.stderr, passphrasePrompt)
		p, err := s.readPassword()
		fmt.Fprintln(s.stderr)
		if err != nil {
			return nil, fmt.Errorf("read passphrase from terminal: %w", err)
		}
		if len(p) > maxPassphraseSize {
			return nil, fmt.Errorf("passphrase is longer than %d bytes", maxPassphraseSize)
		}
		return p, nil
	}
	return readLine(s.stdin)
}

// readLine reads one line from r a byte at a time, so that nothing after
// the line is consumed, and strips its line ending. End of input ends the
// line; empty input is ErrNoPassphrase.
func readLine(r io.Reader) ([]byte, error) {
	var line []byte
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				return bytes.TrimSuffix(line, []byte{'\r'}), nil
			}
			if len(line) == maxPassphraseSize {
				return nil, fmt.Errorf("passphrase on standard input is longer than %d bytes", maxPassphraseSize)
			}
			line = append(line, b[0])
		}
		if err == io.EOF {
			if line == nil {
				return nil, fmt.Errorf("standard input is empty: %w", ErrNoPassphrase)
			}
			return bytes.TrimSuffix(line, []byte{'\r'}), nil
		}
		if err != nil {
			return nil, fmt.Errorf("read passphrase from standard input: %w", err)
		}
	}
}
