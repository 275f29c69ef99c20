#!/usr/bin/env bash
# The test command: installs what the tests need (Debian packages, npm azurite, NuGet restore), builds everything
# (including the native faiss binding) and runs every test project. Ends with "N passed, N failed".
# Extra arguments go to dotnet test, e.g. ./test.sh --filter FullyQualifiedName~Parity
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# glibc's malloc advises its large blocks as transparent huge pages: faiss's vectors are then touched 2 MiB at a
# time, not 4 KiB (README, Memory)
export GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1}

# a set-up that fails still ends with the summary line CI reads
bash native/install-deps.sh test || { echo "0 passed, 1 failed"; exit 1; }
# the durability tests start their own Azurite (on a free loopback port) from this install
AZURITE_BLOB=$(bash native/install-azurite.sh) || { echo "0 passed, 1 failed"; exit 1; }
export AZURITE_BLOB

log=$(mktemp)
# build in parallel, then run the test projects one at a time: the failover tests time membership probes, which a
# neighbouring test project's CPU load on 2 cores would starve
dotnet build OrleansVectors.sln --nologo -v quiet -clp:ErrorsOnly 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -eq 0 ]; then
  dotnet test OrleansVectors.sln --nologo --no-build -m:1 "$@" 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
fi

# Sum the per-project summaries: "Passed!  - Failed:     0, Passed:    61, Skipped:     0, Total:    61"
read -r passed failed skipped < <(grep -E '(Passed|Failed)! +- Failed: ' "$log" | awk -F'[:,]' '
  { f += $2; p += $4; s += $6 } END { print p + 0, f + 0, s + 0 }')
# a test host that crashed prints no summary of its own
aborted=$(grep -c "Test Run Aborted" "$log" || true)
failed=$((failed + aborted))
rm -f "$log"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test failed before running every test (build or restore error above)"
  failed=1
fi
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
exit "$status"
