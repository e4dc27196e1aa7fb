// Package version holds the version and commit that a build stamps into the
// binary with the linker:
//
//	go build -ldflags "-X github.com/chaind/chaind/internal/version.Version=v0.3.0 \
//	  -X github.com/chaind/chaind/internal/version.Commit=$(git rev-parse --short HEAD)" ./cmd/chaind
//
// Without the flags, Version is "dev" and Commit comes from the VCS
// information the go command records (empty when it records none, as with
// -buildvcs=false or a build outside a repository).
package version

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Set by the linker (-ldflags -X); see the package comment.
var (
	// Version is the release name, "dev" for an unstamped build.
	Version = "dev"
	// Commit is the source revision, empty when unknown.
	Commit = ""
)

// Info is what a binary knows about its own build.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	// Modified is true when the go command recorded uncommitted changes
	// (only known without a stamped Commit).
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
}

// Get returns the build's version, commit and Go version.
func Get() Info {
	return get(Version, Commit, readBuildInfo)
}

var readBuildInfo = debug.ReadBuildInfo

func get(version, commit string, read func() (*debug.BuildInfo, bool)) Info {
	info := Info{Version: version, Commit: commit, Go: runtime.Version()}
	if info.Version == "" {
		info.Version = "dev"
	}
	if info.Commit != "" {
		return info
	}
	bi, ok := read()
	if !ok {
		return info
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
			if len(info.Commit) > 12 {
				info.Commit = info.Commit[:12]
			}
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the one-line form: "dev (commit 1a2b3c4d, go1.26.8)".
func (i Info) String() string {
	var b strings.Builder
	b.WriteString(i.Version)
	b.WriteString(" (")
	if i.Commit != "" {
		b.WriteString("commit ")
		b.WriteString(i.Commit)
		if i.Modified {
			b.WriteString("+modified")
		}
		b.WriteString(", ")
	}
	b.WriteString(i.Go)
	b.WriteString(")")
	return b.String()
}
