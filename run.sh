#!/usr/bin/env bash
# The main job: installs what it needs, builds, and runs OrleansVectors over the handwritten-digits data set.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

bash native/install-deps.sh build
dotnet build bench/OrleansVectors.Bench -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet bench/OrleansVectors.Bench/bin/Release/net10.0/linux-x64/OrleansVectors.Bench.dll digits "$@"
