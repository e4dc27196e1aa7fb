#!/usr/bin/env bash
# Builds the FROM-scratch chaind image (default tag chaind:dev; set IMAGE to
# change it) with the version and commit stamped in.
#
#   deploy/build.sh           compile on this machine with its Go caches,
#                             then copy the binary in (deploy/Dockerfile)
#   deploy/build.sh --docker  compile inside Docker with BuildKit cache
#                             mounts (deploy/build.Dockerfile): no Go needed
#                             on the host, and a rebuild after a small change
#                             reuses the builder's Go caches
#
# --docker needs BuildKit: a docker client with buildx, or one older than 23
# (BuildKit built in; Debian's docker.io 20.10 is one: DOCKER=/usr/bin/docker).
# GO_IMAGE names the Go image of the build stage (default golang:1.26.8);
# when it cannot be pulled, one is made from this machine's Go (GOROOT, the
# CA certificates and busybox-static for the stage's shell).
set -euo pipefail
cd "$(dirname "$0")"
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
commit=$(git rev-parse --short HEAD 2>/dev/null || true)
pkg=github.com/chaind/chaind/internal/version
image=${IMAGE:-chaind:dev}
docker=${DOCKER:-docker}

if [[ ${1:-} != --docker ]]; then
  CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X $pkg.Version=$version -X $pkg.Commit=$commit" \
    -o chaind ../cmd/chaind
  "$docker" build -q -t "$image" . >/dev/null
  echo "image $image: chaind $version ($commit)"
  exit 0
fi

go_image=${GO_IMAGE:-golang:1.26.8}
if ! "$docker" image inspect "$go_image" >/dev/null 2>&1 && ! timeout 60 "$docker" pull -q "$go_image" >/dev/null 2>&1; then
  goroot=$(go env GOROOT)
  go_image=chaind-go:$(go env GOVERSION)
  if ! "$docker" image inspect "$go_image" >/dev/null 2>&1; then
    busybox=$(command -v busybox) || { echo "no busybox for the Go image's shell (Debian: apt-get install busybox-static)" >&2; exit 1; }
    stage=$(mktemp -d)
    trap 'rm -rf "$stage"' EXIT
    mkdir -p "$stage/bin" "$stage/tmp" "$stage/etc/ssl/certs"
    chmod 1777 "$stage/tmp"
    cp "$busybox" "$stage/bin/busybox"
    ln -s busybox "$stage/bin/sh"
    cp /etc/ssl/certs/ca-certificates.crt "$stage/etc/ssl/certs/"
    echo "making $go_image from $goroot (no registry reachable for ${GO_IMAGE:-golang:1.26.8})"
    base=$(basename "$goroot")
    tar -c -C "$stage" bin tmp etc -C "$(dirname "$goroot")" --transform "s,^$base\(/\|\$\),usr/local/go\1," "$base" |
      "$docker" import -c 'ENV PATH=/usr/local/go/bin:/bin' -c 'ENV HOME=/tmp' - "$go_image" >/dev/null
  fi
fi
DOCKER_BUILDKIT=1 "$docker" build -q -f build.Dockerfile -t "$image" \
  --build-arg GO_IMAGE="$go_image" --build-arg VERSION="$version" --build-arg COMMIT="$commit" .. >/dev/null
echo "image $image: chaind $version ($commit), compiled in $go_image"
