package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// buildKitEnv turns on the test of deploy/build.sh --docker: it needs a
// Docker engine and a client that builds with BuildKit (DOCKER names it),
// and compiles chaind inside Docker (minutes when the builder's caches are
// cold), so it is not part of the default test run.
const buildKitEnv = "CHAIND_DOCKER_BUILD"

// TestBuildInDocker builds the image with deploy/build.sh --docker (the Go
// stage with cache mounts, deploy/build.Dockerfile) and runs the binary in
// it: chaind version names the commit it was built from.
func TestBuildInDocker(t *testing.T) {
	if os.Getenv(buildKitEnv) != "1" {
		t.Skipf("set %s=1 to build the image inside Docker (BuildKit; DOCKER names the client)", buildKitEnv)
	}
	image := fmt.Sprintf("chaind-buildtest:%d", os.Getpid())
	cmd := exec.Command("./build.sh", "--docker")
	cmd.Env = append(os.Environ(), "IMAGE="+image)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("build.sh --docker: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(dockerCLI(), "rmi", image).Run() })
	commit, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(dockerCLI(), "run", "--rm", "--entrypoint", "/chaind", image, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("chaind version in %s: %v\n%s", image, err, out)
	}
	if want := "commit " + strings.TrimSpace(string(commit)); !strings.Contains(string(out), want) {
		t.Fatalf("chaind version in %s:\n%s\nwant %q", image, out, want)
	}
}

// dockerCLI is the docker client build.sh uses.
func dockerCLI() string {
	if d := os.Getenv("DOCKER"); d != "" {
		return d
	}
	return "docker"
}
