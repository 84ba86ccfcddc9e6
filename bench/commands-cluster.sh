#!/usr/bin/env bash
# Raises the open-file limit (9,000 agent sockets in the load generator,
# 3,000 per node), then runs bench/commands-cluster.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec node_modules/.bin/node bench/commands-cluster.ts "$@"
