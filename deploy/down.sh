#!/usr/bin/env bash
# Stops the Compose devnet of deploy/up.sh and removes its containers, its
# network and every node's volume (the chains and keys are gone afterwards;
# drop -v to keep them).
set -euo pipefail
cd "$(dirname "$0")"
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  compose=(docker-compose)
fi
exec "${compose[@]}" -p chaind -f compose.yml down -v --remove-orphans
