#!/usr/bin/env bash
# Installs the Debian packages the native faiss binding and its reference tests need, only when missing.
# Idempotent and quiet when everything is present; run as root (or with sudo available).
set -euo pipefail

packages=(cmake g++ make libfaiss-dev libopenblas-dev python3-faiss python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
