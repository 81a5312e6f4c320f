#!/usr/bin/env bash
# make bench: every performance claim of the project, measured side by side with a reference.
# Usage: scripts/bench.sh BOTTLENECK_BIN [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release/bottleneck}
shift || true
echo "== load engine: efficiency against wrk, open-loop accuracy, memory =="
python3 scripts/bench/load_engine.py "$bin" "$@"
