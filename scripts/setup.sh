#!/usr/bin/env bash
# Installs the Debian 12 packages Bora's build and tests need, the Python SDK's virtualenv
# (${BORA_VENV:-$HOME/.cache/bora/venv}, with sdk/python/requirements.txt) and the web console's npm
# packages (ui/node_modules, from ui/package-lock.json). Idempotent: when everything is present it only
# checks (dpkg-query and hashes of the requirements and the lock file, about a second).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache clang
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  librdkafka-dev libhiredis-dev libsimdjson-dev prometheus-cpp-dev libjemalloc-dev
  libyaml-cpp-dev libspdlog-dev libcli11-dev libcurl4-openssl-dev libssh-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev duktape-dev librocksdb-dev libsqlite3-dev libre2-dev
  python3 python3-venv redis-server default-jre-headless maven iproute2
  python3-mistralclient wrk prometheus
  # Keystone and Glance of scripts/openstack.sh (tests/openstack): libraries and uwsgi only, no daemon package;
  # ~190 MB, ~100 s with downloads.
  python3-keystone python3-glance python3-glanceclient uwsgi-core uwsgi-plugin-python3
  # The python clients of the OpenStack action pack (sdk/openstack: its catalog is generated from them).
  python3-novaclient python3-keystoneclient python3-heatclient python3-aodhclient python3-neutronclient
  python3-cinderclient python3-ironicclient python3-swiftclient python3-zaqarclient python3-keystoneauth1
  python3-openstacksdk
  zsh man-db adduser systemd
  chromium
)
# Node.js and npm build the web console (ui/). Debian's packages unless a Node.js is already installed
# (Debian's npm conflicts with an npm installed beside another Node.js).
if ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when an install fails on stale ones, to keep repeat runs quick.
  if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      >/tmp/bora-setup.log 2>&1; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  echo "setup: done"
fi

# The Python SDK's virtualenv (used by the python_sdk_* tests). pip runs only when the requirements
# changed since the last successful install (a stamp file holds their hash).
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQUIREMENTS="$REPO/sdk/python/requirements.txt"
VENV="${BORA_VENV:-$HOME/.cache/bora/venv}"
STAMP="$VENV/.bora-requirements.sha256"
want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "setup: python venv $VENV"
  if [ ! -x "$VENV/bin/python" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQUIREMENTS"
  echo "$want" >"$STAMP"
fi

# The web console's packages (Vite, TypeScript, Preact, elkjs; playwright-core for the browser tests, which
# drive Debian's chromium). npm ci runs only when the lock file changed since the last install.
UI="$REPO/ui"
UI_STAMP="$UI/node_modules/.bora-lock.sha256"
want="$(sha256sum "$UI/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$UI_STAMP" 2>/dev/null)" != "$want" ]; then
  echo "setup: npm ci in ui/"
  (cd "$UI" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$UI_STAMP"
fi
