#!/usr/bin/env bash
# Records playbooks/*_example.txt: each playbook run for real against the test-bed scenario
# that shows what it looks for, with a header saying how it was made and how to read it.
# Usage: scripts/record-playbook-examples.sh [BOTTLENECK_BIN] [PLAYBOOK...]   (as root; ~8 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-.build/debug/bottleneck}"); shift || true
bed=testbed/bed
only=("$@")

# playbook | scenario | extra flags | how to read it
examples=(
  "slow-endpoint|slow-model|--payload image:w=224..320,format=jpeg|The ramp stops where p99 leaves the SLO; the verdict is read at that knee. Server-Timing says the model phase is most of the service time, so the model is named first."
  "load-generator-check|starved-loadgen|--payload tensor:shape=1x192,encoding=json|The scenario runs bottleneck itself under a CPU quota of 1% of a core (testbed/bed run). The generator rules fire, the run is declared INVALID and the exit code is 3: none of its latencies may be trusted."
  "proxy-overhead|proxy-no-keepalive|--payload tensor:shape=1x192,encoding=json|nginx here has no upstream keep-alive. The client keeps its connections, but the service's port piles up TIME_WAIT sockets: one upstream connection per request."
  "input-size-and-memory|memory-per-pixel|--payload image:w=1024..2048,format=jpeg|The service keeps memory per input pixel. The server's RSS growth per megapixel served is compared with 3 MB/Mpx, the size of a decoded RGB image."
  "python-workers-and-gil|single-worker-gil|--payload tensor:shape=1x192,encoding=json|One uvicorn worker with a pure-Python loop that holds the GIL: throughput stops growing with concurrency and the busiest process carries all of the service's CPU."
  "network-check|thin-network|--payload image:w=256..1280,format=jpeg,quality=90|A TBF bandwidth limit on the client link: transfer time grows with payload bytes while the service's own phases stay flat."
  "capacity-plan|healthy|--payload image:w=224..320,format=jpeg --peak-rps 1200 --headroom 0.3 --core-hour-price 0.04|A service that meets p99 <= 300 ms at light load: the search brackets the highest rate that meets it, and the plan sizes a 1,200 req/s peak."
)

for entry in "${examples[@]}"; do
  IFS='|' read -r playbook scenario extra note <<< "$entry"
  if [ ${#only[@]} -gt 0 ] && [[ ! " ${only[*]} " == *" $playbook "* ]]; then continue; fi
  info=$("$bed" up "$scenario" --compact)  # fails, and says so, when another bed is up
  target=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["target"])' "$info")
  service_pid=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["service"]["pid"])' "$info")
  proxy_pid=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print((d.get("proxy") or {}).get("pid") or "")' "$info")
  args=(playbook run "$playbook" --target "$target" --server-pid "$service_pid" --budget 40s)
  [ -n "$proxy_pid" ] && args+=(--proxy-pid "$proxy_pid")
  backend=$(python3 -c 'import json,sys; print((json.loads(sys.argv[1]).get("service") or {}).get("url") or "")' "$info")
  [ "$playbook" = proxy-overhead ] && [ -n "$backend" ] && args+=(--backend "$backend/predict")
  # shellcheck disable=SC2206
  [ -n "$extra" ] && args+=($extra)
  prefix=()
  [ "$scenario" = starved-loadgen ] && prefix=("$bed" run --)
  out=playbooks/${playbook}_example.txt
  {
    echo "# Example: bottleneck playbook run $playbook, recorded against the test bed's $scenario scenario"
    echo "# ($(date -u +%Y-%m-%d), $(nproc) cores; scripts/record-playbook-examples.sh). Command:"
    echo "#   bottleneck ${args[*]}" | sed "s/--server-pid [0-9]*/--server-pid SERVICE_PID/; s/--proxy-pid [0-9]*/--proxy-pid PROXY_PID/"
    echo "# How to read it: $note"
    echo "# The progress lines went to stderr and are not shown; the run directory holds every number."
    echo
  } > "$out"
  set +e
  "${prefix[@]}" "$bin" "${args[@]}" >> "$out" 2>/dev/null
  code=$?
  set -e
  echo "# exit code: $code" >> "$out"
  sed -i "s#Run directory: .*#Run directory: runs/<UTC time>-$playbook#" "$out"
  echo "$playbook ($scenario): exit $code -> $out"
  "$bed" down >/dev/null 2>&1 || true
done
