package systest

import (
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/libp2p/go-libp2p/gologshim"
)

// logEnv turns the logs of hand-wired nodes and of libp2p on ("debug" or
// "info"); internal/testnet's clusters follow testnet.LogEnv.
const logEnv = "CHAIND_NETSYNC_LOG"

func TestMain(m *testing.M) {
	// The SIGKILL crash tests run this binary as their writer.
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir) // never returns
	}
	if dir := os.Getenv(catchUpDirEnv); dir != "" {
		catchUpChild(dir, os.Getenv(catchUpDataEnv)) // never returns
	}
	// libp2p logs expected shutdown noise at error level.
	if os.Getenv(logEnv) == "" {
		gologshim.SetDefaultHandler(slog.DiscardHandler)
	}
	os.Exit(m.Run())
}

// testLogger is silent unless logEnv is "debug" or "info".
func testLogger() *slog.Logger {
	switch os.Getenv(logEnv) {
	case "debug":
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	case "info":
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
