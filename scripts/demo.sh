#!/usr/bin/env bash
# make demo: start a local nginx serving a small file, run a short open-loop ramp against it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release/bottleneck}
work=$(mktemp -d /tmp/bottleneck-demo.XXXXXX)
trap 'kill $(cat "$work/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
scripts/local-nginx.sh "$work" 18480
echo "demo: nginx on http://127.0.0.1:18480/ ; running a ramp of 4 steps"
"$bin" load --target http://127.0.0.1:18480/small.txt --ramp 200..2000/4 --duration 3s --name demo-ramp
