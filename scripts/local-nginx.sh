#!/usr/bin/env bash
# Starts a throwaway nginx on 127.0.0.1:PORT serving DIR (small.txt), for demos, tests and benchmarks.
# Usage: scripts/local-nginx.sh DIR PORT [CPU] [TLS_PORT]
#   CPU pins the single worker with worker_cpu_affinity; TLS_PORT adds an https listener with a
#   certificate for 127.0.0.1 signed by a CA made here (DIR/tls/ca.pem, for --cacert).
set -euo pipefail
dir=$1 port=$2 cpu=${3:-} tls_port=${4:-}
mkdir -p "$dir"
chmod 755 "$dir"   # nginx workers run as www-data and must read the files
printf 'bottleneck test payload: a small static file.\n' > "$dir/small.txt"
affinity=""
if [[ -n "$cpu" ]]; then
  mask=$(printf '1%*s' "$cpu" '' | tr ' ' 0)
  affinity="worker_cpu_affinity $mask;"
fi
tls_listen=""
if [[ -n "$tls_port" ]]; then
  mkdir -p "$dir/tls"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' > "$dir/tls/san.ext"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/tls/ca.key" \
    -out "$dir/tls/ca.pem" -days 2 -subj "/CN=bottleneck local CA" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/tls/server.key" \
    -out "$dir/tls/server.csr" -subj "/CN=localhost" 2>/dev/null
  openssl x509 -req -in "$dir/tls/server.csr" -CA "$dir/tls/ca.pem" -CAkey "$dir/tls/ca.key" -CAcreateserial \
    -out "$dir/tls/server.pem" -days 2 -extfile "$dir/tls/san.ext" 2>/dev/null
  tls_listen="listen 127.0.0.1:$tls_port ssl backlog=4096; ssl_certificate $dir/tls/server.pem; ssl_certificate_key $dir/tls/server.key;"
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
    $tls_listen
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
