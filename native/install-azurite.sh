#!/usr/bin/env bash
# Installs npm azurite@3.37.0 (the Azure Storage emulator the durability tests run against) under .tools/ when it
# is missing, and Debian's nodejs and npm first when they are missing. Prints the path of Azurite's blob service.
set -euo pipefail
cd "$(dirname "$0")/.."
version=3.37.0
main=.tools/node_modules/azurite/dist/src/blob/main.js
if [ ! -f "$main" ] || ! grep -q "\"version\": \"$version\"" .tools/node_modules/azurite/package.json 2>/dev/null; then
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "Installing Debian packages: nodejs npm" >&2
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  echo "Installing npm azurite@$version under .tools/" >&2
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --loglevel=error "azurite@$version" >&2
fi
echo "$PWD/$main"
