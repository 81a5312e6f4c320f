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
# The service's own address behind nginx, as a user with a proxy knows it: diagnose finds both
# process trees by their listening sockets (no PIDs given) and measures what the proxy adds.
backend=$(python3 -c 'import json,sys; b=json.load(sys.stdin); print(b["service"]["url"] + "/predict")' <<<"$bed")
echo "demo: target $target (nginx in front of the service at $backend); diagnosing (about a minute) ..."
echo "demo: $ bottleneck diagnose --target $target --backend $backend --payload image:w=224..640,format=jpeg --budget 60s"
"$bin" diagnose --target "$target" --backend "$backend" --payload "image:w=224..640,format=jpeg" --budget 60s
