package version

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestGetStamped(t *testing.T) {
	called := false
	got := get("v1.2.3", "abc1234", func() (*debug.BuildInfo, bool) { called = true; return nil, false })
	if got.Version != "v1.2.3" || got.Commit != "abc1234" || got.Go != runtime.Version() {
		t.Fatalf("got %+v", got)
	}
	if called {
		t.Fatal("a stamped commit must not be replaced by the VCS information")
	}
	if s := got.String(); s != "v1.2.3 (commit abc1234, "+runtime.Version()+")" {
		t.Fatalf("String() = %q", s)
	}
}

func TestGetFromVCS(t *testing.T) {
	bi := &debug.BuildInfo{Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"},
		{Key: "vcs.modified", Value: "true"},
	}}
	got := get("", "", func() (*debug.BuildInfo, bool) { return bi, true })
	if got.Version != "dev" || got.Commit != "0123456789ab" || !got.Modified {
		t.Fatalf("got %+v", got)
	}
	if !strings.Contains(got.String(), "commit 0123456789ab+modified") {
		t.Fatalf("String() = %q", got.String())
	}
	none := get("dev", "", func() (*debug.BuildInfo, bool) { return nil, false })
	if none.Commit != "" || none.String() != "dev ("+runtime.Version()+")" {
		t.Fatalf("no build info: %+v %q", none, none.String())
	}
}

// TestLinkerStamp builds a program with the README's -ldflags -X line and
// checks that the stamped values come out of Get.
func TestLinkerStamp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	dir := t.TempDir()
	main := `package main

import (
	"fmt"

	"github.com/chaind/chaind/internal/version"
)

func main() { fmt.Print(version.Get().String()) }
`
	// The program must live inside the module to import an internal package.
	src, err := os.MkdirTemp(".", "stampmain")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(src) })
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "stamped")
	const pkg = "github.com/chaind/chaind/internal/version"
	cmd := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X "+pkg+".Version=v9.8.7 -X "+pkg+".Commit=feedbee", "./"+src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "v9.8.7 (commit feedbee, " + runtime.Version() + ")"; string(out) != want {
		t.Fatalf("stamped binary says %q, want %q", out, want)
	}
}
