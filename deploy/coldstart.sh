#!/usr/bin/env bash
# Measures a new user's first start, as on a fresh clone: an empty module
# cache, an empty build cache and an empty HOME (all in a temporary
# directory, so the machine's own caches are neither used nor touched).
#
#   deploy/coldstart.sh [SOURCE_DIR]      (default: the repository root)
#
# It prints, each from empty caches:
#   build:       wall and CPU seconds of "go build ./cmd/chaind" (downloads
#                included; CPU time is the fairer figure on a busy machine),
#                modules downloaded, their zip size, the module cache's size
#                on disk, and the binary's size;
#   first block: seconds from "go run ./cmd/chaind run" to its log line
#                "mined block" (download, compile, start, mine).
# Set COLDSTART_SKIP_RUN=1 to measure only the build. The environment
# passes through (e.g. CGO_ENABLED=0).
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/..}" && pwd)
tmp=$(mktemp -d)
run_pid=
cleanup() {
  if [[ -n $run_pid ]]; then kill -- "-$run_pid" 2>/dev/null || true; wait "$run_pid" 2>/dev/null || true; fi
  chmod -R u+w "$tmp" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

fresh() {
  chmod -R u+w "$tmp" 2>/dev/null || true
  rm -rf "$tmp"/{mod,cache,home,gopath}
  mkdir -p "$tmp"/{mod,cache,home,gopath}
  export GOMODCACHE=$tmp/mod GOCACHE=$tmp/cache HOME=$tmp/home GOPATH=$tmp/gopath
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

cd "$src"
echo "source: $src ($(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo no git))"
echo "go: $(go version), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"

fresh
/usr/bin/time -o "$tmp/time" -f '%e %U %S' go build -o "$tmp/chaind" ./cmd/chaind
read -r wall user sys <"$tmp/time"
zips=$(find "$GOMODCACHE/cache/download" -name '*.zip' | wc -l)
zipbytes=$(find "$GOMODCACHE/cache/download" -name '*.zip' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
echo "build: $wall s wall, $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f", u + s }') s CPU (user+sys); modules downloaded: $zips ($((zipbytes / 1000000)) MB zipped); module cache on disk: $(du -sm "$GOMODCACHE" | cut -f1) MB; binary: $(($(stat -c %s "$tmp/chaind") / 1000000)) MB"

if [[ -n ${COLDSTART_SKIP_RUN:-} ]]; then exit 0; fi
fresh
log=$tmp/run.log
t0=$(now)
setsid go run ./cmd/chaind run --http 127.0.0.1:0 --p2p 127.0.0.1:0 >"$log" 2>&1 &
run_pid=$!
until grep -q 'mined block' "$log"; do
  if ! kill -0 "$run_pid" 2>/dev/null; then
    echo "chaind run exited before mining:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.2
done
t1=$(now)
echo "first block: $(secs "$t0" "$t1") s after \"go run ./cmd/chaind run\""
