#!/usr/bin/env bash
# Builds the image (deploy/build.sh) and starts the devnet of
# deploy/compose.yml in the background: a mining seed and the "node"
# service's replicas. Extra arguments go to "compose up", e.g.
#   deploy/up.sh --scale node=9
# It prints the seed's API token; deploy/down.sh tears everything down.
set -euo pipefail
cd "$(dirname "$0")"
./build.sh
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  compose=(docker-compose)
fi
compose+=(-p chaind -f compose.yml)
"${compose[@]}" up -d --no-build "$@"
seed=$("${compose[@]}" ps -q seed)
for _ in $(seq 50); do
  if token=$(docker cp "$seed:/data/api.token" - 2>/dev/null | tar -xO 2>/dev/null) && [[ -n $token ]]; then
    break
  fi
  sleep 0.2
done
echo "seed API: http://127.0.0.1:3001  token: ${token:-(not written yet: run this script's docker cp line again)}"
echo "  curl -s -X POST -H 'Authorization: Bearer ${token:-TOKEN}' 127.0.0.1:3001/mine"
echo "nodes: ${compose[*]} port --index=N node 3001;  tear down: deploy/down.sh"
