#!/usr/bin/env bash
# Idempotent set-up of the bottleneck test bed: system packages + virtualenv.
# Fast no-op when everything is already present. Needs root for apt-get.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
REQ="$HERE/requirements.txt"

# command -> Debian package
declare -A PKGS=(
  [nginx]=nginx-light [wrk]=wrk [nft]=nftables [ip]=iproute2 [tc]=iproute2
  [tcpdump]=tcpdump [curl]=curl
)
missing=()
for cmd in "${!PKGS[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ] && ! [ -x "/sbin/$cmd" ]; then
    missing+=("${PKGS[$cmd]}")
  fi
done

# a python3 with venv + ensurepip
PYTHON="${BNK_PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for cand in python3.11 python3 /usr/bin/python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import venv, ensurepip, sys; assert sys.version_info >= (3, 10)' 2>/dev/null; then
      PYTHON="$(command -v "$cand")"; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  missing+=(python3 python3-venv)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "setup: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then echo "setup: need root to apt-get install ${missing[*]}" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # the Debian nginx package starts a system nginx on :80; the test bed runs its own
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
  if [ -z "$PYTHON" ]; then PYTHON=/usr/bin/python3; fi
fi

# virtualenv, rebuilt only when requirements.txt changed
stamp="$VENV/.requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
# An existing virtualenv is brought up to requirements.txt in place (pip installs only what is
# missing or pinned differently, e.g. Flask when it was added); a broken one is made anew.
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  echo "setup: updating $VENV to $REQ" >&2
else
  echo "setup: creating $VENV with $PYTHON" >&2
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
"$VENV/bin/python" -c 'import fastapi, uvicorn, gunicorn, uvicorn_worker, flask, sklearn, PIL, numpy, yaml, multipart'
echo "$want" > "$stamp"
echo "setup: ready" >&2
