#!/usr/bin/env bash
# Records the .pcap fixtures of BottleneckCaptureTests from real loopback traffic.
# Needs root (tcpdump, nft), nginx and python3. Everything listens on 127.0.0.1 / ::1 only.
# Usage: record-fixtures.sh [OUT_DIR [FILE.pcap...]]  (the named fixtures only; default all)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${1:-$HERE}"
ONLY=("${@:2}")
want() { [ ${#ONLY[@]} -eq 0 ] || [[ " ${ONLY[*]} " == *" $1 "* ]]; }
WORK=$(mktemp -d /tmp/bn-fixtures.XXXX)
PY="python3 $HERE/fixture_servers.py"
mkdir -p "$WORK/html"; chmod 755 "$WORK" "$WORK/html"
printf 'hello\n' > "$WORK/html/small"
head -c 80000 /dev/zero | tr '\0' 'z' > "$WORK/html/big"
cat > "$WORK/nginx.conf" <<NGX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/error.log;
events { worker_connections 64; }
http {
  access_log off;
  keepalive_requests 1000;
  server {
    listen 127.0.0.1:28480;
    listen [::1]:28480;
    root $WORK/html;
    location = /post { return 200 "posted\n"; }
    location = /small { add_header Server-Timing "app;dur=0.1"; }
  }
}
NGX
nginx -c "$WORK/nginx.conf"
trap 'nginx -c "$WORK/nginx.conf" -s stop || true; kill $(jobs -p) 2>/dev/null || true; nft delete table inet bnfix 2>/dev/null || true; ip netns del bnfix-dupack 2>/dev/null || true' EXIT
sleep 0.5

rec() { # [REC_OPTS="more tcpdump options"] [IN_NS=netns] rec FILE IFACE SNAP FILTER -- command...
  local file=$1 iface=$2 snap=$3 filter=$4; shift 5
  want "$file" || return 0
  # shellcheck disable=SC2086  # REC_OPTS is a list of options
  ${IN_NS:+ip netns exec $IN_NS} tcpdump -i "$iface" ${REC_OPTS:-} -s "$snap" --time-stamp-precision=nano --immediate-mode -U -w "$OUT/$file" "$filter" 2>"$WORK/$file.err" &
  local pid=$!
  until grep -q "listening on" "$WORK/$file.err" 2>/dev/null; do sleep 0.1; done
  sleep 0.3
  "$@"
  sleep 1.5   # let libpcap hand over its last block before tcpdump is interrupted
  kill -INT $pid; wait $pid || true
  tail -1 "$WORK/$file.err"
}

rec keepalive.pcap lo 0 "tcp port 28480" -- $PY client 127.0.0.1 28480 GET:/small POST:/post:3000 GET:/big GET:/small
rec keepalive-headers.pcap lo 400 "tcp port 28480" -- $PY client 127.0.0.1 28480 GET:/small POST:/post:3000 GET:/big GET:/small
rec pipelined.pcap lo 0 "tcp port 28480" -- $PY pipeline 127.0.0.1 28480 3
rec ipv6.pcap lo 0 "tcp port 28480" -- $PY client ::1 28480 GET:/small GET:/small
rec any-sll2.pcap any 0 "tcp port 28480" -- $PY client 127.0.0.1 28480 GET:/small GET:/small
REC_OPTS="-y LINUX_SLL" rec any-sll.pcap any 0 "tcp port 28480" -- $PY client 127.0.0.1 28480 GET:/small GET:/small

$PY chunked-server 28481 & sleep 0.5
rec chunked.pcap lo 0 "tcp port 28481" -- $PY client 127.0.0.1 28481 GET:/c GET:/c
$PY chunked-onewrite 28482 & sleep 0.5
rec chunked-snap.pcap lo 150 "tcp port 28482" -- $PY client 127.0.0.1 28482 GET:/c
$PY reset-server 28483 & sleep 0.5
rec reset.pcap lo 0 "tcp port 28483" -- $PY client 127.0.0.1 28483 GET:/a GET:/b

# Retransmission: drop request segments after the capture tap (ingress hook) for 100 ms, so the
# capture holds the original and TCP's retransmission(s) ~200 ms later.
retrans_client() {
  nft add table inet bnfix
  nft add chain inet bnfix input '{ type filter hook input priority -300; }'
  nft add rule inet bnfix input tcp dport 28480 tcp flags '& psh == psh' drop
  $PY client 127.0.0.1 28480 GET:/small GET:/small &
  local c=$!
  sleep 0.4
  nft delete table inet bnfix
  wait $c
}
rec retransmission.pcap lo 0 "tcp port 28480" -- retrans_client

# Requests and responses written in pieces (TCP_NODELAY, 5 ms apart): one segment per piece,
# cut inside header names and values, between CR and LF, in chunk-size lines and chunk data.
$PY split-server 28484 & sleep 0.5
rec split-segments.pcap lo 0 "tcp port 28484" -- $PY split-client 127.0.0.1 28484

# A response without Content-Length, delimited by the server's close (curl as the client).
$PY close-server 28485 & sleep 0.5
rec close-delimited.pcap lo 0 "tcp port 28485" -- curl -s -o /dev/null -H "X-Request-Id: close-1" http://127.0.0.1:28485/close

# Zero windows: a 200 kB response to a client with a 4 kB receive buffer that reads only after
# 300 ms; the client advertises a zero window and the server probes it. Headers only (-s 200).
$PY bulk-server 28486 200000 & sleep 0.5
rec zero-window.pcap lo 200 "tcp port 28486" -- $PY slow-reader 127.0.0.1 28486 4096 0.3

# Duplicate ACKs need a receiver that gets segments beyond a gap; with SACK and RACK the sender
# repairs the gap at the first of them. So this one is recorded in a throw-away network namespace
# with both off (per-namespace sysctls: the root namespace is untouched). The first body piece
# (1111 bytes, IP length 20 + 32 + 1111) is dropped after the capture tap; each of the next
# pieces (20 ms apart) draws a duplicate ACK, the third one the fast retransmission.
DUPNS=bnfix-dupack
dupack_client() {
  ip netns exec $DUPNS nft add table inet bnfix
  ip netns exec $DUPNS nft add chain inet bnfix input '{ type filter hook input priority -300; }'
  ip netns exec $DUPNS nft add rule inet bnfix input tcp dport 28487 ip length 1163 counter drop
  ip netns exec $DUPNS $PY pieces-client 127.0.0.1 28487 1111 100 100 100 100 &
  local c=$!
  for _ in $(seq 500); do ip netns exec $DUPNS nft list table inet bnfix | grep -q "counter packets [1-9]" && break; sleep 0.01; done
  ip netns exec $DUPNS nft delete table inet bnfix
  wait $c
}
if want dup-acks.pcap; then
  ip netns add $DUPNS
  ip -n $DUPNS link set lo up
  ip netns exec $DUPNS sysctl -q -w net.ipv4.tcp_sack=0 net.ipv4.tcp_recovery=0
  ip netns exec $DUPNS $PY bulk-server 28487 3 & sleep 0.5
  IN_NS=$DUPNS rec dup-acks.pcap lo 0 "tcp port 28487" -- dupack_client
fi

# Derived files: the fixture just recorded here, else the committed one.
source_of() { if [ -s "$OUT/$1" ]; then echo "$OUT/$1"; else echo "$HERE/$1"; fi; }
# Raw IPv4 and raw IPv6 framing (LINKTYPE_IPV4/IPV6): the Ethernet header of real loopback
# captures cut off by editcap, nanosecond pcap kept.
if want raw-ipv4.pcap; then editcap -F nsecpcap -C 14 -T rawip4 "$(source_of pipelined.pcap)" "$OUT/raw-ipv4.pcap"; fi
if want raw-ipv6.pcap; then editcap -F nsecpcap -C 14 -T rawip6 "$(source_of ipv6.pcap)" "$OUT/raw-ipv6.pcap"; fi
# Truncated file: keepalive.pcap cut in the middle of its last-but-two record.
if want truncated.pcap; then
  size=$(stat -c %s "$(source_of keepalive.pcap)")
  head -c $((size - 150)) "$(source_of keepalive.pcap)" > "$OUT/truncated.pcap"
fi
ls -l "$OUT"/*.pcap
