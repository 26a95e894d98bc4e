#!/usr/bin/env bash
# Installs the Debian 12 packages Bora's build and tests need. Idempotent: when everything is present it only
# checks (dpkg-query, well under a second) and installs nothing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  librdkafka-dev libhiredis-dev libsimdjson-dev prometheus-cpp-dev
  libyaml-cpp-dev libspdlog-dev libcli11-dev libcurl4-openssl-dev libssh-dev
  libgtest-dev libgmock-dev libbenchmark-dev duktape-dev
  python3 redis-server default-jre-headless maven
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when an install fails on stale ones, to keep repeat runs quick.
if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/bora-setup.log 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup: done"
