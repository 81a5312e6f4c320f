#!/usr/bin/env bash
# Offline capture analysis against tshark (issue "Capture"), for `make bench`.
#
# Records >= 1,000,000 packets of keep-alive HTTP (wrk -t1 -c8 -> nginx on 127.0.0.1, tcpdump on
# lo at nanosecond precision, whole packets), then times, on the same file,
#   bottleneck capture analyze FILE --ports P --json > out.jsonl      (every exchange, t1..t4)
#   tshark -r FILE -d tcp.port==P,http -Y http.response -T fields -e http.time
# and compares each exchange's t4 - t2 with tshark's http.time. Exchanges are paired by client
# port and response time (tshark's response frame time is our t4: the last response byte).
# Must show: >= 10x faster than tshark, and agreement within 1 us on every matched exchange.
#
# Needs root (tcpdump), nginx, wrk, tshark. Traffic: 127.0.0.1 only, bounded by wrk -d.
# The capture (~200 MB) lives in a temporary directory that is removed at the end.
# Usage: scripts/bench/capture_offline.sh BOTTLENECK_BIN
#        env: DURATION (wrk seconds, default 30), PORT (default 18491), MIN_PACKETS (default 1000000),
#             KEEP=FILE.pcap keeps (or, when it exists, reuses) the recording at FILE.pcap
set -euo pipefail
BIN=$(realpath "${1:?usage: capture_offline.sh BOTTLENECK_BIN}")
PORT=${PORT:-18491}
DURATION=${DURATION:-30}
MIN_PACKETS=${MIN_PACKETS:-1000000}

for tool in tshark tcpdump wrk nginx; do
  if ! command -v "$tool" >/dev/null; then
    echo "CAPTURE OFFLINE: SKIPPED: $tool is not installed (make setup installs it: apt-get install -y tshark tcpdump wrk nginx)"
    exit 0
  fi
done
if [[ $(id -u) != 0 ]]; then
  echo "CAPTURE OFFLINE: SKIPPED: recording on lo with tcpdump needs root"
  exit 0
fi

WORK=$(mktemp -d /tmp/bottleneck-capture-bench-XXXXXX)
chmod 755 "$WORK"   # nginx workers run unprivileged and must read the config directory
PCAP=${KEEP:-$WORK/wrk-nginx.pcap}
cleanup() {
  [[ -s "$WORK/nginx.pid" ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# A response with a Server-Timing header, like the services bottleneck is meant for.
cat > "$WORK/nginx.conf" <<NGX
worker_processes 1;
worker_cpu_affinity 10;
daemon on;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 10000000;
  client_body_temp_path $WORK/tmp;
  server {
    listen 127.0.0.1:$PORT;
    location / { add_header Server-Timing "app;dur=0.01"; return 200 "hello from nginx\n"; }
  }
}
NGX
mkdir -p "$WORK/tmp"
if [[ -s "$PCAP" ]]; then
  echo "reusing $PCAP"
else
  nginx -c "$WORK/nginx.conf"

  echo "recording: wrk -t1 -c8 -d${DURATION}s -> nginx 127.0.0.1:$PORT, tcpdump -i lo -s 0 --time-stamp-precision=nano"
  tcpdump -i lo -s 0 -B 262144 --time-stamp-precision=nano -w "$PCAP" "tcp port $PORT" 2>"$WORK/tcpdump.err" &
  TCPDUMP=$!
  for _ in $(seq 100); do grep -q "listening on" "$WORK/tcpdump.err" 2>/dev/null && break; sleep 0.1; done
  taskset -c 0 wrk -t1 -c8 -d"${DURATION}s" "http://127.0.0.1:$PORT/" | grep -E "requests in|Requests/sec" | sed 's/^ */  wrk: /'
  sleep 1
  kill -INT "$TCPDUMP"; wait "$TCPDUMP" || true
  grep -E "captured|dropped" "$WORK/tcpdump.err" | sed 's/^/  tcpdump: /'
  kill "$(cat "$WORK/nginx.pid")"; rm -f "$WORK/nginx.pid"
fi

PACKETS=$(capinfos -c -M "$PCAP" | awk -F: '/Number of packets/ { gsub(/ /, "", $2); print $2 }')
echo "capture: $PACKETS packets, $(du -h "$PCAP" | cut -f1)"
if (( PACKETS < MIN_PACKETS )); then
  echo "CAPTURE OFFLINE: FAIL: only $PACKETS packets (< $MIN_PACKETS); rerun with a longer DURATION"
  exit 1
fi

# measure OUT CMD...: runs CMD with stdout to OUT under run_measured.py and prints
# "WALL CPU" in seconds (CPU = user+sys from wait4). Both tools are single-threaded, so CPU time
# is the fair comparison on a shared machine; wall time is printed beside it.
measure() {
  local out=$1; shift
  BENCH_STDOUT=$out python3 "$(dirname "$0")/run_measured.py" -- "$@" | tail -1 |
    python3 -c 'import json, sys; m = json.load(sys.stdin); print("%.2f %.2f" % (m["wall_seconds"], m["cpu_seconds"]))'
}
# Read the file once first, so neither tool pays for a cold page cache.
cat "$PCAP" > /dev/null
read -r OURS_WALL OURS_CPU < <(measure "$WORK/ours.jsonl" "$BIN" capture analyze "$PCAP" --ports "$PORT" --json)
echo "bottleneck capture analyze --json: wall ${OURS_WALL} s, CPU ${OURS_CPU} s, $(wc -l < "$WORK/ours.jsonl") exchanges"
read -r TSHARK_WALL TSHARK_CPU < <(measure "$WORK/tshark.txt" tshark -r "$PCAP" -d "tcp.port==$PORT,http" -Y http.response -T fields -e http.time)
echo "tshark -Y http.response -e http.time:  wall ${TSHARK_WALL} s, CPU ${TSHARK_CPU} s, $(wc -l < "$WORK/tshark.txt") responses"
# The same tshark pass with the fields needed to pair exchanges (not timed).
tshark -r "$PCAP" -d "tcp.port==$PORT,http" -Y http.response -T fields -E separator=, \
  -e tcp.dstport -e frame.time_epoch -e http.time > "$WORK/tshark-join.csv" 2>>"$WORK/stderr.log"

python3 - "$WORK/ours.jsonl" "$WORK/tshark-join.csv" "$OURS_WALL" "$OURS_CPU" "$TSHARK_WALL" "$TSHARK_CPU" <<'PY'
import json, sys
ours_path, ts_path = sys.argv[1], sys.argv[2]
ours_wall, ours_s, ts_wall, ts_s = map(float, sys.argv[3:7])

def ns(text):
    """'1795922106.777674678' as integer nanoseconds, without going through a float."""
    sec, _, frac = text.strip().partition(".")
    return int(sec) * 10**9 + int((frac + "000000000")[:9])

ours = {}
for line in open(ours_path):
    e = json.loads(line)
    if e.get("complete") and "t2" in e and "t4" in e:
        ours[(e["clientPort"], e["t4"])] = e["t4"] - e["t2"]
matched = worst = over = tshark_only = 0
for line in open(ts_path):
    parts = line.strip().split(",")
    if len(parts) < 3 or not parts[2]:
        continue
    key = (int(parts[0]), ns(parts[1]))
    if key not in ours:
        tshark_only += 1
        continue
    d = abs(ours[key] - ns(parts[2]))
    matched += 1
    worst = max(worst, d)
    over += d > 1000
speedup = ts_s / ours_s
coverage = matched / max(1, matched + tshark_only)
print(f"exchanges: ours complete {len(ours)}, matched with tshark {matched}, tshark only {tshark_only} ({coverage:.2%} of tshark's matched)")
print(f"agreement: max |(t4 - t2) - http.time| = {worst} ns, {over} exchanges over 1 us")
ok_speed = speedup >= 10
ok_agree = matched > 0 and over == 0 and coverage >= 0.999
print(f"CAPTURE OFFLINE SPEED: CPU bottleneck {ours_s:.2f} s, tshark {ts_s:.2f} s, {speedup:.1f}x "
      f"(wall {ours_wall:.2f} s vs {ts_wall:.2f} s, {ts_wall / ours_wall:.1f}x) (must be >= 10x): {'PASS' if ok_speed else 'FAIL'}")
print(f"CAPTURE OFFLINE AGREEMENT: {matched} exchanges, max difference {worst} ns (must be <= 1000 ns, >= 99.9% matched): {'PASS' if ok_agree else 'FAIL'}")
sys.exit(0 if ok_speed and ok_agree else 1)
PY
