#!/usr/bin/env bash
# make bench: every performance claim of the project, measured side by side with a reference.
# Usage: scripts/bench.sh BOTTLENECK_BIN [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release/bottleneck}
shift || true
echo "== load engine: efficiency against wrk, open-loop accuracy, memory =="
python3 scripts/bench/load_engine.py "$bin" "$@"
echo "== samplers: CPU of the sampling thread, 50 processes at 4 Hz for 60 s (must be < 1% of one core) =="
# The same flags as `make release`, so the release build is not redone with others.
swift build -c release --product SamplingOverhead ${SWIFT_RELEASE_FLAGS:-} >/dev/null
.build/release/SamplingOverhead 50 4 60 || echo "SAMPLING OVERHEAD: FAIL (see figure above)"
# tshark is the reference for the offline capture benchmark (not needed by anything else).
command -v tshark >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null || true
for script in scripts/bench/capture_offline.sh scripts/bench/capture_live.py; do
  if [[ -x $script ]]; then echo "== $script =="; "$script" "$bin" || echo "$script: FAIL"; fi
done
