package libp2p

import (
	"log/slog"
	"os"
	"testing"

	"github.com/libp2p/go-libp2p/gologshim"
)

func TestMain(m *testing.M) {
	// libp2p logs expected shutdown noise at error level; keep test output
	// readable unless CHAIND_P2P_LOG=debug.
	if os.Getenv("CHAIND_P2P_LOG") != "debug" {
		gologshim.SetDefaultHandler(slog.DiscardHandler)
	}
	os.Exit(m.Run())
}
