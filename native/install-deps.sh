#!/usr/bin/env bash
# Installs the Debian packages OrleansVectors needs, only those that are missing; silent when all are there.
#   install-deps.sh build   what building native/ needs (the default; run by dotnet build itself)
#   install-deps.sh test    that, plus Debian's python3-faiss and numpy, the tests' reference implementation
set -euo pipefail

packages=(cmake g++ make libfaiss-dev libopenblas-dev libgomp1)
case "${1:-build}" in
  build) ;;
  test) packages+=(python3 python3-faiss python3-numpy) ;;
  *) echo "usage: $0 [build|test]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "Need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
