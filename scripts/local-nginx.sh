#!/usr/bin/env bash
# Starts a throwaway nginx on 127.0.0.1:PORT serving DIR (small.txt), for demos, tests and benchmarks.
# Usage: scripts/local-nginx.sh DIR PORT [CPU]   (CPU pins the single worker with worker_cpu_affinity)
set -euo pipefail
dir=$1 port=$2 cpu=${3:-}
mkdir -p "$dir"
chmod 755 "$dir"   # nginx workers run as www-data and must read the files
printf 'bottleneck test payload: a small static file.\n' > "$dir/small.txt"
affinity=""
if [[ -n "$cpu" ]]; then
  mask=$(printf '1%*s' "$cpu" '' | tr ' ' 0)
  affinity="worker_cpu_affinity $mask;"
fi
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
$affinity
daemon on;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  client_body_temp_path $dir/tmp;
  server {
    listen 127.0.0.1:$port backlog=4096;
    listen [::1]:$port;
    root $dir;
    location / { }
    location /echo { client_max_body_size 64m; client_body_buffer_size 64m; return 200 "ok\n"; }
  }
}
CONF
mkdir -p "$dir/tmp"
nginx -c "$dir/nginx.conf"
for _ in $(seq 50); do
  [[ -s "$dir/nginx.pid" ]] && curl -sf "http://127.0.0.1:$port/small.txt" >/dev/null && exit 0
  sleep 0.1
done
echo "local-nginx: nginx did not start on port $port; see $dir/error.log" >&2
exit 1
