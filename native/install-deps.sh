#!/usr/bin/env bash
# Installs the Debian packages OrleansVectors needs, only those that are missing; silent when all are there.
#   install-deps.sh build   what building native/ needs (the default; run by dotnet build itself)
#   install-deps.sh torch   that, plus what makes TorchSharp load on Debian 12 (patchelf, python3)
#   install-deps.sh test    all of that, plus Debian's python3-faiss and numpy, the tests' reference implementation
#   install-deps.sh fixtures  all of that, plus python3-torch (and scipy, tqdm, which the seed imports), to regenerate the committed test fixtures
set -euo pipefail

packages=(cmake g++ make libfaiss-dev libopenblas-dev libgomp1)
case "${1:-build}" in
  build) ;;
  torch) packages+=(patchelf python3) ;;
  test) packages+=(patchelf python3 python3-faiss python3-numpy) ;;
  fixtures) packages+=(patchelf python3 python3-faiss python3-numpy python3-torch python3-scipy python3-tqdm) ;;
  *) echo "usage: $0 [build|torch|test|fixtures]" >&2; exit 2 ;;
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
  sudo="sudo -n"   # never wait for a password inside a build
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
