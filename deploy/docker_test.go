// Package deploy holds the container image and Compose file of a chaind
// devnet, and a test that runs real nodes as Docker containers.
package deploy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dockerEnv turns the container test on; it needs a Docker engine and
// builds an image, so it is not part of the default test run.
const dockerEnv = "CHAIND_DOCKER"

func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

type status struct {
	Height uint32 `json:"height"`
	Tip    string `json:"tip"`
	Peers  int    `json:"peers"`
}

func getStatus(base string) (status, error) {
	var s status
	resp, err := http.Get(base + "/api/v1/status")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestContainersPartitionAndHeal runs three devnet nodes as containers of
// the FROM-scratch image on a private Docker network (node1 mines, the
// others join through http://node1:3001), cuts node3 off the network while
// node1 mines on, reconnects it, and checks that it catches up to node1's
// chain.
func TestContainersPartitionAndHeal(t *testing.T) {
	if os.Getenv(dockerEnv) == "" {
		t.Skipf("set %s=1 to run nodes as Docker containers", dockerEnv)
	}
	bin := filepath.Join(t.TempDir(), "chaind")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "../cmd/chaind")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx := t.TempDir()
	for _, f := range []string{bin, "Dockerfile"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ctx, filepath.Base(f)), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	id := fmt.Sprintf("chaindtest%d", time.Now().UnixNano()%1_000_000)
	image := id + ":test"
	docker(t, "build", "-q", "-t", image, ctx)
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", image).Run() })
	network := id + "-net"
	docker(t, "network", "create", network)
	t.Cleanup(func() { exec.Command("docker", "network", "rm", network).Run() })

	names := []string{id + "-node1", id + "-node2", id + "-node3"}
	flags := [][]string{
		{"--mine", "--threads", "1"},
		{"--mine=false", "--peer", "http://" + names[0] + ":3001"},
		{"--mine=false", "--peer", "http://" + names[0] + ":3001"},
	}
	apis := make([]string, len(names))
	for i, name := range names {
		// The other containers ask this node's API by its container name,
		// so that name must pass the Host check.
		args := append([]string{"run", "-d", "--name", name, "--network", network, "-p", "127.0.0.1::3001", image,
			"--http-vhosts", name}, flags[i]...)
		docker(t, args...)
		t.Cleanup(func() {
			if t.Failed() {
				logs, _ := exec.Command("docker", "logs", "--tail", "30", name).CombinedOutput()
				t.Logf("%s logs:\n%s", name, logs)
			}
			exec.Command("docker", "rm", "-f", name).Run()
		})
		apis[i] = "http://" + docker(t, "port", name, "3001/tcp")
	}
	inStep := func(min uint32) bool {
		var tips []status
		for _, a := range apis {
			s, err := getStatus(a)
			if err != nil {
				return false
			}
			tips = append(tips, s)
		}
		return tips[0].Height >= min && tips[1].Tip == tips[0].Tip && tips[2].Tip == tips[0].Tip
	}
	waitFor(t, 60*time.Second, "three containers on one chain", func() bool { return inStep(10) })
	if s, _ := getStatus(apis[2]); s.Peers < 1 {
		t.Fatalf("node3 has no peers")
	}

	// Cut node3 off; node1 mines on.
	docker(t, "network", "disconnect", network, names[2])
	before, err := getStatus(apis[0])
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "node1 mines while node3 is cut off", func() bool {
		s, err := getStatus(apis[0])
		return err == nil && s.Height >= before.Height+20
	})

	// Heal: node3 rejoins (it redials node1's API URL) and catches up.
	docker(t, "network", "connect", network, names[2])
	apis[2] = "http://" + docker(t, "port", names[2], "3001/tcp")
	waitFor(t, 90*time.Second, "node3 catches up after the heal", func() bool { return inStep(before.Height + 20) })
}
