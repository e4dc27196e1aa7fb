package systest

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/store/pebble"
)

// Environment of the catch-up crash test's child process.
const (
	catchUpDirEnv  = "CHAIND_CATCHUP_CHILD_DIR"
	catchUpDataEnv = "CHAIND_CATCHUP_CHILD_DATA"
)

// Sizes of the catch-up crash test.
const (
	catchUpBlocks     = 10_000
	catchUpKillsShort = 5
	catchUpKillsLong  = 50 // with CHAIND_LONG=1
)

// syncReporter is a store that prints "synced H" on stdout after every
// synced write, H being the tip height written so far: the parent test
// knows that everything up to H was durable before the kill.
type syncReporter struct {
	store.Store
	written atomic.Int64
}

func (r *syncReporter) wrote(u *store.Update, height int64) {
	r.written.Store(height)
	if !u.Deferred {
		fmt.Printf("synced %d\n", height)
	}
}

func (r *syncReporter) ConnectBlock(u *store.Update) error {
	if err := r.Store.ConnectBlock(u); err != nil {
		return err
	}
	r.wrote(u, int64(u.Block.Header.Height))
	return nil
}

func (r *syncReporter) DisconnectBlock(u *store.Update) error {
	if err := r.Store.DisconnectBlock(u); err != nil {
		return err
	}
	r.wrote(u, int64(u.Block.Header.Height)-1)
	return nil
}

func (r *syncReporter) Sync() error {
	if err := r.Store.Sync(); err != nil {
		return err
	}
	fmt.Printf("synced %d\n", r.written.Load())
	return nil
}

// StartSync reports the height written when the sync started, once the
// sync it started is done.
func (r *syncReporter) StartSync() (func() error, error) {
	height := r.written.Load()
	wait, err := r.Store.StartSync()
	if err != nil {
		return nil, err
	}
	return func() error {
		if err := wait(); err != nil {
			return err
		}
		fmt.Printf("synced %d\n", height)
		return nil
	}, nil
}

func writeBlocks(t *testing.T, path string, blocks []*chain.Block) {
	t.Helper()
	var buf []byte
	for _, b := range blocks {
		enc := b.Encode()
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(enc)))
		buf = append(buf, enc...)
	}
	if err := os.WriteFile(path, buf, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readBlocks(path string) ([]*chain.Block, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*chain.Block
	for len(buf) > 0 {
		if len(buf) < 4 {
			return nil, io.ErrUnexpectedEOF
		}
		n := binary.BigEndian.Uint32(buf)
		if uint32(len(buf)-4) < n {
			return nil, io.ErrUnexpectedEOF
		}
		b, err := chain.DecodeBlock(buf[4 : 4+n])
		if err != nil {
			return nil, err
		}
		out = append(out, b)
		buf = buf[4+n:]
	}
	return out, nil
}

// catchUpChild connects the blocks of the data file (heights 1..N) on top
// of the store in dir, as a download would hand them over: in runs of
// random length, each block with the number left in its run queued behind
// it. It prints "ready" once the chain is loaded and "done" at the end.
func catchUpChild(dir, data string) {
	p, _ := crashParams()
	blocks, err := readBlocks(data)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child read blocks:", err)
		os.Exit(2)
	}
	st, err := pebble.Open(dir, p.Name, p.GenesisHash())
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	rep := &syncReporter{Store: st}
	bc, err := blockchain.New(blockchain.Config{Params: p, Store: rep})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child chain:", err)
		os.Exit(2)
	}
	rep.written.Store(int64(bc.Height()))
	fmt.Println("ready")
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for h := int(bc.Height()) + 1; h <= len(blocks); {
		run := min(1+rng.Intn(300), len(blocks)-h+1)
		for i := 0; i < run; i++ {
			if _, err := bc.ProcessBlockQueued(blocks[h-1], blockchain.Requested, run-1-i); err != nil {
				fmt.Fprintln(os.Stderr, "child process:", err)
				os.Exit(3)
			}
			h++
		}
	}
	if err := bc.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "child close:", err)
		os.Exit(3)
	}
	fmt.Println("done")
	os.Exit(0)
}

// TestKilledCatchUpReopensConsistent kills a process catching up a chain of
// 10,000 blocks with grouped commits at random moments (5 times; 50 with
// CHAIND_LONG=1). After every kill the reopened store must agree with a
// replay of its main chain (tip, state, height, tx and undo indexes), be
// on the chain being downloaded, at or above every height the child had
// reported synced and at or above the tip of the previous restart; the
// next run resumes from there. A catch-up that completes is checked and
// started over in a fresh directory.
func TestKilledCatchUpReopensConsistent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts several processes")
	}
	kills := catchUpKillsShort
	if os.Getenv("CHAIND_LONG") == "1" {
		kills = catchUpKillsLong
	}
	p, nkeys := crashParams()
	br := chaintest.NewBranch(p, chaintest.Keys(nkeys))
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	blocks := br.Extend(rand.New(rand.NewSource(12)), catchUpBlocks, 2)
	data := t.TempDir() + "/blocks"
	writeBlocks(t, data, blocks)

	dir := t.TempDir()
	var prev uint32
	var tips []uint32
	completed := 0
	for killed := 0; killed < kills; {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), catchUpDirEnv+"="+dir, catchUpDataEnv+"="+data)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		rd := bufio.NewReader(out)
		for {
			// Lines before "ready" report the genesis block's sync.
			line, err := rd.ReadString('\n')
			if err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child did not start: %q %v", line, err)
			}
			if line == "ready\n" {
				break
			}
		}
		var synced atomic.Int64
		var done atomic.Bool
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				line, err := rd.ReadString('\n')
				if err != nil {
					return
				}
				if line == "done\n" {
					done.Store(true)
				} else if h, ok := strings.CutPrefix(strings.TrimSpace(line), "synced "); ok {
					if n, err := strconv.ParseInt(h, 10, 64); err == nil {
						synced.Store(max(synced.Load(), n))
					}
				}
			}
		}()
		time.Sleep(time.Duration(rng.Intn(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		werr := cmd.Wait()
		wg.Wait()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		switch {
		case ws.Signaled():
			killed++
		case done.Load():
			// Caught up before the kill: check the end and start over.
			if tip := verifyAgainstReplay(t, dir, p); tip != catchUpBlocks {
				t.Fatalf("catch-up reported done at tip %d, want %d", tip, catchUpBlocks)
			}
			completed++
			dir, prev = t.TempDir(), 0
			continue
		default:
			t.Fatalf("child failed: %v", werr)
		}
		tip := verifyAgainstReplay(t, dir, p)
		st, err := pebble.Open(dir, p.Name, p.GenesisHash())
		if err != nil {
			t.Fatal(err)
		}
		hash, _, err := st.Tip()
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		if tip > 0 && hash != blocks[tip-1].Hash() {
			t.Fatalf("kill %d: tip %d %s is not the downloaded chain's block", killed, tip, hash)
		}
		if int64(tip) < synced.Load() {
			t.Fatalf("kill %d: reopened at height %d, below height %d reported synced", killed, tip, synced.Load())
		}
		if tip < prev {
			t.Fatalf("kill %d: reopened at height %d, below the previous restart's %d", killed, tip, prev)
		}
		prev = tip
		tips = append(tips, tip)
	}
	t.Logf("tips after %d kills: %v; catch-ups completed: %d", kills, tips, completed)
	if prev == 0 && completed == 0 {
		t.Fatal("the catch-up made no progress; the test exercised nothing")
	}
}
