#!/usr/bin/env bash
# Builds the static chaind binary with the version and commit stamped in,
# then the FROM-scratch image around it (default tag chaind:dev; set IMAGE
# to change it). The binary is compiled on this machine with its own Go
# caches, so a rebuild after a small change compiles only what changed.
set -euo pipefail
cd "$(dirname "$0")"
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
commit=$(git rev-parse --short HEAD 2>/dev/null || true)
pkg=github.com/chaind/chaind/internal/version
CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X $pkg.Version=$version -X $pkg.Commit=$commit" \
  -o chaind ../cmd/chaind
docker build -q -t "${IMAGE:-chaind:dev}" . >/dev/null
echo "image ${IMAGE:-chaind:dev}: chaind $version ($commit)"
