package deploy

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// swarmEnv turns the Swarm test on; it needs a Docker engine.
const swarmEnv = "CHAIND_SWARM"

// swarmReplicas is how many replicas of the chaind service the test runs.
const swarmReplicas = 10

// buildImage builds the static binary and the FROM-scratch image as
// deploy/build.sh does, under a tag of the test's own.
func buildImage(t *testing.T, image string) {
	t.Helper()
	ctx := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(ctx, "chaind"), "../cmd/chaind")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), df, 0o644); err != nil {
		t.Fatal(err)
	}
	docker(t, "build", "-q", "-t", image, ctx)
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", image).Run() })
}

// freePort returns a TCP port nothing listens on now (and the next one,
// for WebSocket, is free too).
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+1)); err == nil {
			l2.Close()
			return p
		}
	}
	t.Fatal("no free port pair")
	return 0
}

// nodeStatus asks the node in a container for its status through the
// binary itself (the image has no shell).
func nodeStatus(ctr string) (status, error) {
	var s status
	out, err := exec.Command("docker", "exec", ctr, "/chaind", "status", "--json").Output()
	if err != nil {
		return s, fmt.Errorf("status of %s: %w", ctr, err)
	}
	return s, json.Unmarshal(out, &s)
}

// TestSwarmStack deploys deploy/stack.yml on a one-machine swarm (made for
// the test when the engine is not in one, and left again afterwards) with
// ten replicas of the chaind service plus the edge node, mines on one
// replica, waits until every node has the same tip, kills a replica's
// container, mines again elsewhere, and waits until every node, the
// replica Swarm started in its place included, has the new tip.
func TestSwarmStack(t *testing.T) {
	if os.Getenv(swarmEnv) == "" {
		t.Skipf("set %s=1 to deploy the Swarm stack (needs a Docker engine)", swarmEnv)
	}
	start := time.Now()
	if state := docker(t, "info", "--format", "{{.Swarm.LocalNodeState}}"); state != "active" {
		docker(t, "swarm", "init", "--advertise-addr", "127.0.0.1")
		t.Cleanup(func() {
			if out, err := exec.Command("docker", "swarm", "leave", "--force").CombinedOutput(); err != nil {
				t.Logf("swarm leave: %v\n%s", err, out)
			}
		})
	}
	id := fmt.Sprintf("chaindswarm%d", time.Now().UnixNano()%1_000_000)
	image := id + ":test"
	buildImage(t, image)

	p2p, api := freePort(t), freePort(t)
	deploy := exec.Command("docker", "stack", "deploy", "--resolve-image", "never", "-c", "stack.yml", id)
	deploy.Env = append(os.Environ(),
		"CHAIND_IMAGE="+image,
		"CHAIND_REPLICAS="+strconv.Itoa(swarmReplicas),
		"CHAIND_P2P_PORT="+strconv.Itoa(p2p),
		"CHAIND_P2P_WS_PORT="+strconv.Itoa(p2p+1),
		"CHAIND_API_PORT="+strconv.Itoa(api),
	)
	if out, err := deploy.CombinedOutput(); err != nil {
		t.Fatalf("stack deploy: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, svc := range []string{"chaind", "edge"} {
				out, _ := exec.Command("docker", "service", "ps", "--no-trunc", id+"_"+svc).CombinedOutput()
				t.Logf("%s tasks:\n%s", svc, out)
				logs, _ := exec.Command("docker", "service", "logs", "--tail", "10", id+"_"+svc).CombinedOutput()
				t.Logf("%s logs:\n%s", svc, logs)
			}
		}
		exec.Command("docker", "stack", "rm", id).Run()
		// The stack's network goes once its containers are gone.
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=com.docker.stack.namespace="+id).Output()
			if len(strings.TrimSpace(string(out))) == 0 {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		exec.Command("docker", "network", "rm", id+"_chain").Run()
		out, _ := exec.Command("docker", "volume", "ls", "-q", "--filter", "dangling=true").Output()
		for _, v := range strings.Fields(string(out)) {
			exec.Command("docker", "volume", "rm", v).Run()
		}
	})

	// containers lists the running containers of the stack (all services).
	containers := func() []string {
		out, err := exec.Command("docker", "ps", "-q", "--filter", "label=com.docker.stack.namespace="+id,
			"--filter", "status=running").Output()
		if err != nil {
			return nil
		}
		return strings.Fields(string(out))
	}
	// converged: every node of the stack runs and has the tip of height >= min.
	converged := func(min uint32) (bool, string) {
		ctrs := containers()
		if len(ctrs) != swarmReplicas+1 {
			return false, fmt.Sprintf("%d of %d containers running", len(ctrs), swarmReplicas+1)
		}
		tips := map[string]int{}
		for _, c := range ctrs {
			s, err := nodeStatus(c)
			if err != nil {
				return false, err.Error()
			}
			if s.Height < min {
				return false, fmt.Sprintf("%s at height %d", c[:12], s.Height)
			}
			tips[s.Tip]++
		}
		return len(tips) == 1, fmt.Sprintf("tips %v", tips)
	}
	wait := func(timeout time.Duration, what string, min uint32) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for {
			ok, why := converged(min)
			if ok {
				t.Logf("%s after %v", what, time.Since(start).Round(time.Second))
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v: %s", what, timeout, why)
			}
			time.Sleep(time.Second)
		}
	}
	mine := func(ctr string, n int) {
		t.Helper()
		for range n {
			docker(t, "exec", ctr, "/chaind", "mine", "--datadir", "/data")
		}
	}

	wait(60*time.Second, "all nodes up", 0)
	ctrs := containers()
	mine(ctrs[0], 3)
	wait(40*time.Second, "all nodes on the 3-block tip", 3)

	victim := ctrs[1]
	docker(t, "kill", victim)
	// Swarm starts a new task in the victim's place (with a fresh volume).
	deadline := time.Now().Add(40 * time.Second)
	for {
		now := containers()
		replaced := len(now) == swarmReplicas+1
		for _, c := range now {
			if c == victim {
				replaced = false
			}
		}
		if replaced {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the killed replica was not replaced within 40s: %v", now)
		}
		time.Sleep(500 * time.Millisecond)
	}
	mine(ctrs[2], 2)
	wait(60*time.Second, "all nodes, the replacement included, on the 5-block tip", 5)
	if d := time.Since(start); d > 3*time.Minute {
		t.Errorf("the test took %v; keep it under 3 minutes for CI", d.Round(time.Second))
	}
}
