#!/usr/bin/env bash
# Builds the static chaind binary and starts the three-node devnet of
# deploy/compose.yml. Extra arguments go to "compose up" (e.g. -d).
set -euo pipefail
cd "$(dirname "$0")"
CGO_ENABLED=0 go build -trimpath -o chaind ../cmd/chaind
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  compose=(docker-compose)
fi
exec "${compose[@]}" -p chaind -f compose.yml up --build "$@"
