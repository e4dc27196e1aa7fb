package systest

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/state"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/store/pebble"
)

// crashChildEnv makes the test binary act as the crash test's writer.
const crashChildEnv = "CHAIND_CRASH_CHILD_DIR"

// crashKills is how many times the writer is killed.
const crashKills = 50

func crashParams() (*consensus.Params, int) {
	const nkeys = 6
	return chaintest.Params(chaintest.Keys(nkeys), 1_000_000_000), nkeys
}

func openPebbleChain(t testing.TB, dir string, p *consensus.Params) (*pebble.Store, *blockchain.Blockchain) {
	st, err := pebble.Open(dir, p.Name, p.GenesisHash())
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: st})
	if err != nil {
		st.Close()
		t.Fatalf("reload chain: %v", err)
	}
	return st, bc
}

// crashChild writes blocks to the store in dir until it is killed: rounds
// of two competing branches from the tip, the second one block longer, so
// it is killed in the middle of connects, disconnects and reorgs alike.
func crashChild(dir string) {
	p, nkeys := crashParams()
	keys := chaintest.Keys(nkeys)
	st, err := pebble.Open(dir, p.Name, p.GenesisHash())
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: st})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child chain:", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for round := 0; ; round++ {
		base := chaintest.BranchOn(p, keys, recentBlocks(bc), chainState(bc))
		a, b := base.Fork(fmt.Sprintf("a%d-%d", round, rng.Int())), base.Fork(fmt.Sprintf("b%d-%d", round, rng.Int()))
		depth := 1 + rng.Intn(6)
		a.Extend(rng, depth, 1+rng.Intn(8))
		b.Extend(rng, depth+1, 1+rng.Intn(8))
		for _, blk := range append(a.Blocks[len(base.Blocks):], b.Blocks[len(base.Blocks):]...) {
			if _, err := bc.ProcessBlock(blk, blockchain.Requested); err != nil {
				fmt.Fprintln(os.Stderr, "child process:", err)
				os.Exit(3)
			}
		}
	}
}

func recentBlocks(bc *blockchain.Blockchain) []*chain.Block {
	tip := bc.Height()
	from := uint32(0)
	if tip >= consensus.MedianTimeBlocks {
		from = tip - consensus.MedianTimeBlocks + 1
	}
	var out []*chain.Block
	for h := from; h <= tip; h++ {
		b, err := bc.BlockAt(h)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return out
}

// TestKilledWriterReopensConsistent kills a writing process with SIGKILL
// at random moments, then checks after every kill that the reopened store's
// tip, state, height index, tx index and undo records agree with a replay
// of its main chain.
func TestKilledWriterReopensConsistent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 50 processes")
	}
	p, _ := crashParams()
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	var heights []uint32
	for i := 0; i < crashKills; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("kill %d: child did not start: %q %v", i, line, err)
		}
		time.Sleep(time.Duration(rng.Intn(150)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("kill %d: child ended on its own: %v", i, err)
		}
		heights = append(heights, verifyAgainstReplay(t, dir, p))
	}
	if heights[len(heights)-1] < 20 {
		t.Fatalf("the writer made little progress (heights %v); the test did not exercise much", heights)
	}
	t.Logf("tip heights after each kill: %v", heights)
}

func verifyAgainstReplay(t *testing.T, dir string, p *consensus.Params) uint32 {
	t.Helper()
	st, bc := openPebbleChain(t, dir, p)
	defer st.Close()
	tip := bc.Tip()
	replay := newChain(t, p)
	for h := uint32(0); h <= tip.Height; h++ {
		hash, err := st.MainHash(h)
		if err != nil {
			t.Fatalf("height index %d: %v", h, err)
		}
		b, err := st.Block(hash)
		if err != nil {
			t.Fatalf("block %d: %v", h, err)
		}
		if b.Header.Height != h {
			t.Fatalf("height index %d points at a block of height %d", h, b.Header.Height)
		}
		for i, tx := range b.Txs {
			loc, err := st.TxLocation(tx.ID())
			if h > 0 && (err != nil || loc.Block != hash || loc.Height != h || loc.Index != i) {
				t.Fatalf("tx index of %s: %+v %v, want block %d index %d", tx.ID(), loc, err, h, i)
			}
		}
		if h == 0 {
			continue
		}
		if _, err := st.Undo(hash); err != nil {
			t.Fatalf("undo record of block %d: %v", h, err)
		}
		if _, err := replay.ProcessBlock(b, blockchain.Requested); err != nil {
			t.Fatalf("replay of block %d: %v", h, err)
		}
	}
	if replay.Tip().Hash != tip.Hash {
		t.Fatalf("replay tip %s, store tip %s", replay.Tip().Hash, tip.Hash)
	}
	if ok, diff := chainState(bc).Equal(chainState(replay)); !ok {
		t.Fatalf("state after reopen differs from the replay: %s", diff)
	}
	stored := state.New()
	if err := st.ForEachAccount(func(a chain.Address, acct state.Account) error { stored.Set(a, acct); return nil }); err != nil {
		t.Fatal(err)
	}
	if ok, diff := stored.Equal(chainState(replay)); !ok {
		t.Fatalf("stored accounts differ from the replay: %s", diff)
	}
	if _, err := st.MainHash(tip.Height + 1); err == nil {
		t.Fatalf("height index has an entry above the tip %d", tip.Height)
	}
	return tip.Height
}

func TestReopenRestoresTip(t *testing.T) {
	p, nkeys := crashParams()
	dir := t.TempDir()
	st, bc := openPebbleChain(t, dir, p)
	br := chaintest.NewBranch(p, chaintest.Keys(nkeys))
	mustProcess(t, bc, br.Extend(rand.New(rand.NewSource(9)), 30, 4)...)
	want := bc.Tip()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, bc = openPebbleChain(t, dir, p)
	defer st.Close()
	if got := bc.Tip(); got.Hash != want.Hash || got.Work.Cmp(want.Work) != 0 {
		t.Fatalf("reopened tip %d %s, want %d %s", got.Height, got.Hash, want.Height, want.Hash)
	}
	if ok, diff := chainState(bc).Equal(br.State); !ok {
		t.Fatalf("reopened state: %s", diff)
	}
}

// chainState copies the chain's tip state.
func chainState(bc *blockchain.Blockchain) *state.State {
	s := state.New()
	bc.Accounts(func(a chain.Address, acct state.Account) { s.Set(a, acct) })
	return s
}

// newChain returns a chain on a memory store.
func newChain(t testing.TB, p *consensus.Params) *blockchain.Blockchain {
	t.Helper()
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: store.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	return bc
}

func mustProcess(t testing.TB, bc *blockchain.Blockchain, blocks ...*chain.Block) {
	t.Helper()
	for _, b := range blocks {
		if _, err := bc.ProcessBlock(b, blockchain.Requested); err != nil {
			t.Fatalf("block %d %s: %v", b.Header.Height, b.Hash(), err)
		}
	}
}
