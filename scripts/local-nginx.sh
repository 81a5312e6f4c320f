#!/usr/bin/env bash
# Starts a throwaway nginx on 127.0.0.1:PORT serving DIR (small.txt), for demos, tests and benchmarks.
# Usage: scripts/local-nginx.sh DIR PORT [CPU] [TLS_PORT] [H2C_PORT]
#   CPU pins the single worker with worker_cpu_affinity; TLS_PORT adds an https listener with a
#   certificate for 127.0.0.1 signed by a CA made here (DIR/tls/ca.pem, for --cacert), offering
#   h2 and http/1.1 by ALPN; H2C_PORT adds a cleartext HTTP/2 listener (prior knowledge, h2c).
#   LOCAL_NGINX_KEEPALIVE_REQUESTS (default 10000000): requests per connection before nginx closes
#   it (HTTP/2: GOAWAY); LOCAL_NGINX_HTTP2_STREAMS (default 128): http2_max_concurrent_streams.
#   /upload reads the whole body (proxied to /echo, request buffering on); /echo discards it.
set -euo pipefail
dir=$1 port=$2 cpu=${3:-} tls_port=${4:-} h2c_port=${5:-}
mkdir -p "$dir"
chmod 755 "$dir"   # nginx workers run as www-data and must read the files
printf 'bottleneck test payload: a small static file.\n' > "$dir/small.txt"
# A gRPC reply (a framed ModelInferResponse naming model "m"), served to POSTs on the ModelInfer
# method with grpc-status in the trailers: a gRPC endpoint as cheap as a static file (benchmarks).
printf '\x00\x00\x00\x00\x03\x0a\x01m' > "$dir/grpc-reply.bin"
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
  tls_listen="listen 127.0.0.1:$tls_port ssl http2 backlog=4096; ssl_certificate $dir/tls/server.pem; ssl_certificate_key $dir/tls/server.key;"
fi
h2c_listen=""
if [[ -n "$h2c_port" ]]; then h2c_listen="listen 127.0.0.1:$h2c_port http2 backlog=4096;"; fi
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
$affinity
daemon on;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests ${LOCAL_NGINX_KEEPALIVE_REQUESTS:-10000000};
  http2_max_concurrent_streams ${LOCAL_NGINX_HTTP2_STREAMS:-128};
  keepalive_timeout 120s;
  client_body_temp_path $dir/tmp;
  server {
    listen 127.0.0.1:$port backlog=4096;
    listen [::1]:$port;
    $tls_listen
    $h2c_listen
    root $dir;
    location / { }
    location /echo { client_max_body_size 64m; client_body_buffer_size 64m; return 200 "ok\n"; }
    location = /inference.GRPCInferenceService/ModelInfer { error_page 405 =200 /grpc-reply.bin; return 405; }
    location = /grpc-reply.bin { internal; default_type application/grpc; add_trailer grpc-status 0; }
    location /upload { client_max_body_size 64m; client_body_buffer_size 64m; proxy_pass http://127.0.0.1:$port/echo; }
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
