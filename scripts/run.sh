#!/usr/bin/env bash
# Start BitChange in production mode (compiled frontend, one port) on embedded SQLite, with demo
# markets and accounts. Usage: scripts/run.sh [--port 3000]
source "$(dirname "$0")/_env.sh" ""
exec python -m bitchange run "$@"
