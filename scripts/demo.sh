#!/usr/bin/env bash
# make demo: start the test bed's slow-model scenario (Python model service behind nginx, each in
# its own network namespace), diagnose it with bottleneck, print the verdict, tear the test bed down.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release/bottleneck}
scenario=${SCENARIO:-slow-model}
trap 'testbed/bed down >/dev/null 2>&1 || true' EXIT
testbed/bed down >/dev/null 2>&1 || true
echo "demo: starting the test bed scenario '$scenario' ..."
bed=$(testbed/bed up "$scenario" --compact)
target=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["target"])' <<<"$bed")
pid=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["service"]["pid"])' <<<"$bed")
echo "demo: target $target (service pid $pid); diagnosing (about a minute) ..."
"$bin" diagnose --target "$target" --server-pid "$pid" --payload "image:w=224..640,format=jpeg" --budget 60s
