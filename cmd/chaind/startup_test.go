package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestStartupTimes measures, over CHAIND_STARTUP runs (e.g. 5) of the real
// binary, the time from starting "chaind run" to its first answer on
// /healthz and to its first dial of a --peer (a TCP listener standing in
// for the peer records when the dial arrives), on a fresh data directory
// and on a restart of it. It prints the medians and, with -v, when each
// log line of the last run appeared. CHAIND_STARTUP_BIN runs another
// chaind binary instead of the one built for the tests (to compare);
// CHAIND_STARTUP_KEYSTORE=1 gives each data directory an encrypted wallet
// key that the node unlocks at start (scrypt), as a miner's node does.
func TestStartupTimes(t *testing.T) {
	runs := 0
	fmt.Sscan(os.Getenv("CHAIND_STARTUP"), &runs)
	if runs <= 0 {
		t.Skip("set CHAIND_STARTUP=runs to measure the startup times")
	}
	// A stand-in peer: any peer id; the dial is seen at the TCP accept.
	peerLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peerLn.Close()
	accepted := make(chan time.Time, 64)
	go func() {
		for {
			c, err := peerLn.Accept()
			if err != nil {
				return
			}
			accepted <- time.Now()
			c.Close()
		}
	}()
	peerAddr := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq", peerLn.Addr().(*net.TCPAddr).Port)

	bin := chaindBin
	if b := os.Getenv("CHAIND_STARTUP_BIN"); b != "" {
		bin = b
	}
	var health, dial [2][]time.Duration
	var lastLog [2][]string
	keystore := os.Getenv("CHAIND_STARTUP_KEYSTORE") == "1"
	for i := 0; i < runs; i++ {
		dir := t.TempDir()
		if keystore {
			cmd := exec.Command(bin, "wallet", "new", "--datadir", dir)
			cmd.Env = append(os.Environ(), "CHAIND_PASSPHRASE=startup")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("wallet new: %v\n%s", err, out)
			}
		}
		for phase := 0; phase < 2; phase++ { // fresh, restart
			h, d, logs := startOnce(t, bin, dir, peerAddr, accepted)
			health[phase] = append(health[phase], h)
			dial[phase] = append(dial[phase], d)
			lastLog[phase] = logs
		}
	}
	for phase, name := range []string{"fresh data directory", "restart"} {
		t.Logf("%s: /healthz %v (runs %v), first dial %v (runs %v)", name,
			median(health[phase]), health[phase], median(dial[phase]), dial[phase])
	}
	for phase, name := range []string{"fresh data directory", "restart"} {
		t.Logf("the last start on a %s:", name)
		for _, l := range lastLog[phase] {
			t.Log(l)
		}
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// startOnce starts chaind on dir, waits for /healthz and the first dial,
// stops it and returns both times and its log lines, each stamped with
// when it was read.
func startOnce(t *testing.T, bin, dir, peer string, accepted <-chan time.Time) (health, dial time.Duration, logs []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := ln.Addr().String()
	ln.Close()
	for len(accepted) > 0 {
		<-accepted
	}
	cmd := exec.Command(bin, "run", "--datadir", dir, "--http", httpAddr, "--p2p", "127.0.0.1:0",
		"--mine=false", "--log-level", "debug", "--peer", peer)
	if os.Getenv("CHAIND_STARTUP_KEYSTORE") == "1" {
		cmd.Env = append(os.Environ(), "CHAIND_PASSPHRASE=startup")
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "msg="); i >= 0 {
				line = line[i:]
			}
			logs = append(logs, fmt.Sprintf("%7.1f ms  %s", float64(time.Since(start).Microseconds())/1000, line))
		}
	}()
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		<-done
		_ = cmd.Wait()
	}()
	client := &http.Client{Timeout: time.Second}
	deadline := start.Add(60 * time.Second)
	for health == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no /healthz answer in 60 s")
		}
		resp, err := client.Get("http://" + httpAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				health = time.Since(start)
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case at := <-accepted:
		dial = at.Sub(start)
	case <-time.After(60 * time.Second):
		t.Fatal("no dial of the --peer in 60 s")
	}
	return health, dial, logs
}
