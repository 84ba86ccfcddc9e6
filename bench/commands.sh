#!/usr/bin/env bash
# Raises the open-file limit for 10,000 sockets per process, then runs bench/commands.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec node_modules/.bin/node bench/commands.ts "$@"
