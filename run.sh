#!/usr/bin/env bash
# The main job: installs what it needs, builds, starts a local OrleansVectors cluster of two silos in separate
# processes, runs the handwritten-digits job through it with the client (ingest, k-NN, threshold matches,
# agreement with an in-process faiss index), and stops the silos gracefully.
# Ports: SILO_PORTS (default "11111 11112") and GATEWAY_PORTS ("30000 30001"). Logs and state: artifacts/run/.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# glibc's malloc advises its large blocks as transparent huge pages: faiss's vectors are then touched 2 MiB at a
# time, not 4 KiB (README, Memory)
export GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1}
# libtorch and faiss each bring an OpenMP runtime; idle threads that spin slow the other one down
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

bash native/install-deps.sh torch
echo "building the silo and the client (Release)…"
dotnet build silo -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet build client/OrleansVectors.Cli -c Release --nologo -v quiet -clp:ErrorsOnly

read -r -a silo_ports <<< "${SILO_PORTS:-11111 11112}"
read -r -a gateway_ports <<< "${GATEWAY_PORTS:-30000 30001}"
if [ "${#silo_ports[@]}" -ne "${#gateway_ports[@]}" ]; then
  echo "SILO_PORTS and GATEWAY_PORTS must list as many ports each" >&2; exit 2
fi
for port in "${silo_ports[@]}" "${gateway_ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use (an earlier run still up?); free it or set SILO_PORTS / GATEWAY_PORTS" >&2; exit 2
  fi
done
run_dir=artifacts/run
rm -rf "$run_dir" && mkdir -p "$run_dir/data"
pids=()
stop_silos() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # graceful shutdown first; after 30 s, force
  for _ in $(seq 1 60); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && return
    sleep 0.5
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}
trap stop_silos EXIT
trap 'exit 143' TERM HUP INT

for i in "${!silo_ports[@]}"; do
  dotnet silo/bin/Release/net10.0/linux-x64/OrleansVectors.Silo.dll \
    --Silo:Name "silo-$i" --Silo:SiloPort "${silo_ports[$i]}" --Silo:GatewayPort "${gateway_ports[$i]}" \
    --Silo:PrimarySiloPort "${silo_ports[0]}" --Silo:DataDirectory "$run_dir/data" > "$run_dir/silo-$i.log" 2>&1 &
  pids+=($!)
  # the primary holds membership: let it come up before the others join
  for _ in $(seq 1 120); do
    [ -f "$run_dir/data/silo-$i.ready" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "silo-$i exited; see $run_dir/silo-$i.log" >&2; tail -20 "$run_dir/silo-$i.log" >&2; exit 1; }
    sleep 0.5
  done
  [ -f "$run_dir/data/silo-$i.ready" ] || { echo "silo-$i did not start within 60 s; see $run_dir/silo-$i.log" >&2; exit 1; }
  echo "silo-$i up (pid ${pids[-1]}, silo port ${silo_ports[$i]}, gateway ${gateway_ports[$i]})"
done

gateways=$(IFS=,; echo "${gateway_ports[*]}")
dotnet client/OrleansVectors.Cli/bin/Release/net10.0/ovx.dll --gateways "$gateways" demo "$@"
