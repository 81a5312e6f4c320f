#!/usr/bin/env bash
# Installs what bottleneck needs to build, test and run its benchmarks on a fresh
# Debian machine. Idempotent: a second run only checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libpcap-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev pkg-config
          nginx-light wrk nghttp2-client tcpdump nftables iproute2 procps python3-venv openssl
          chromium)   # headless browser for the HTML report test
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]}; run 'sudo make setup'" >&2
    exit 2
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian nginx package tries to start a system nginx; the project never uses it.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi

# Python's HdrHistogram reader: the tests check our .hlog files with an independent decoder.
[[ -x .build-venv-hdr/bin/python3 ]] || python3 -m venv .build-venv-hdr
.build-venv-hdr/bin/python3 -c 'import hdrh' 2>/dev/null || .build-venv-hdr/bin/pip install -q 'hdrhistogram==0.10.8'

if [[ -x testbed/setup.sh ]]; then testbed/setup.sh; fi
echo "setup: ok"
