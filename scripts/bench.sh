#!/usr/bin/env bash
# make bench: every performance claim of the project, measured side by side with a reference.
# Every benchmark runs even when one before it fails; the exit status is 1 when any failed.
# Usage: scripts/bench.sh BOTTLENECK_BIN [--quick]
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release/bottleneck}
shift || true
failed=()
echo "== load engine: efficiency against wrk, open-loop accuracy, memory =="
python3 scripts/bench/load_engine.py "$bin" "$@" || failed+=("load engine")
echo "== samplers: CPU of the sampling thread, 50 processes at 4 Hz for 60 s (must be < 1% of one core) =="
# The same flags as `make release`, so the release build is not redone with others.
if swift build -c release --product SamplingOverhead ${SWIFT_RELEASE_FLAGS:-} >/dev/null; then
  .build/release/SamplingOverhead 50 4 60 || failed+=("sampling overhead")
else
  failed+=("sampling overhead (build)")
fi
# tshark is the reference for the offline capture benchmark (not needed by anything else).
command -v tshark >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null || true
for script in scripts/bench/capture_offline.sh scripts/bench/capture_live.py; do
  echo "== $script =="
  "$script" "$bin" || failed+=("$script")
done
if (( ${#failed[@]} )); then
  echo "make bench: FAILED: ${failed[*]}"
  exit 1
fi
echo "make bench: every benchmark met its bar"
