#!/usr/bin/env bash
# The main job: installs what it needs, builds, starts a local OrleansVectors cluster of two silos in separate
# processes in the production topology (membership in Azure Table storage, snapshots and logs in blobs, both on a
# local Azurite), runs the handwritten-digits job through it with the client (ingest, k-NN, threshold matches,
# agreement with an in-process faiss index), and stops the silos and Azurite gracefully.
# Ports: SILO_PORTS (default "11111 11112"), GATEWAY_PORTS ("30000 30001"), HTTP_PORTS ("8080 8081": health and
# /metrics), AZURITE_PORTS ("10000 10001 10002": blob, queue, table). Logs and state: artifacts/run/.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# glibc's malloc advises its large blocks as transparent huge pages: faiss's vectors are then touched 2 MiB at a
# time, not 4 KiB (README, Memory)
export GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1}
# libtorch and faiss each bring an OpenMP runtime; idle threads that spin slow the other one down
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

bash native/install-deps.sh torch
azurite_blob=$(bash native/install-azurite.sh)
echo "building the silo and the client (Release)…"
dotnet build silo -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet build client/OrleansVectors.Cli -c Release --nologo -v quiet -clp:ErrorsOnly

read -r -a silo_ports <<< "${SILO_PORTS:-11111 11112}"
read -r -a gateway_ports <<< "${GATEWAY_PORTS:-30000 30001}"
read -r -a http_ports <<< "${HTTP_PORTS:-8080 8081}"
read -r -a azurite_ports <<< "${AZURITE_PORTS:-10000 10001 10002}"
if [ "${#silo_ports[@]}" -ne "${#gateway_ports[@]}" ] || [ "${#silo_ports[@]}" -ne "${#http_ports[@]}" ] || [ "${#azurite_ports[@]}" -ne 3 ]; then
  echo "SILO_PORTS, GATEWAY_PORTS and HTTP_PORTS must list as many ports each, AZURITE_PORTS three" >&2; exit 2
fi
for port in "${silo_ports[@]}" "${gateway_ports[@]}" "${http_ports[@]}" "${azurite_ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use (an earlier run still up?); free it or set SILO_PORTS / GATEWAY_PORTS / HTTP_PORTS / AZURITE_PORTS" >&2; exit 2
  fi
done
run_dir=artifacts/run
rm -rf "$run_dir" && mkdir -p "$run_dir/data" "$run_dir/azurite"
pids=()
azurite_pid=""
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
stop_all() {
  stop_silos
  [ -n "$azurite_pid" ] && kill -TERM "$azurite_pid" 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 143' TERM HUP INT

# Azure Storage on loopback: the membership table and the blobs
node "$(dirname "$azurite_blob")/../azurite.js" --location "$run_dir/azurite" --skipApiVersionCheck --loose \
  --blobHost 127.0.0.1 --blobPort "${azurite_ports[0]}" --queueHost 127.0.0.1 --queuePort "${azurite_ports[1]}" \
  --tableHost 127.0.0.1 --tablePort "${azurite_ports[2]}" > "$run_dir/azurite.log" 2>&1 &
azurite_pid=$!
for _ in $(seq 1 60); do
  [ "$(grep -c "successfully listening" "$run_dir/azurite.log")" -eq 3 ] && break
  kill -0 "$azurite_pid" 2>/dev/null || { echo "Azurite exited; see $run_dir/azurite.log" >&2; exit 1; }
  sleep 0.5
done
storage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:${azurite_ports[0]}/devstoreaccount1;TableEndpoint=http://127.0.0.1:${azurite_ports[2]}/devstoreaccount1;"
echo "Azurite up (pid $azurite_pid, blob ${azurite_ports[0]}, table ${azurite_ports[2]})"

for i in "${!silo_ports[@]}"; do
  Silo__StorageConnectionString="$storage" dotnet silo/bin/Release/net10.0/linux-x64/OrleansVectors.Silo.dll \
    --Silo:Name "silo-$i" --Silo:Clustering AzureTable --Silo:AdvertisedIPAddress 127.0.0.1 \
    --Silo:SiloPort "${silo_ports[$i]}" --Silo:GatewayPort "${gateway_ports[$i]}" --Silo:HttpPort "${http_ports[$i]}" \
    --Silo:DataDirectory "$run_dir/data" > "$run_dir/silo-$i.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do
    [ -f "$run_dir/data/silo-$i.ready" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "silo-$i exited; see $run_dir/silo-$i.log" >&2; tail -20 "$run_dir/silo-$i.log" >&2; exit 1; }
    sleep 0.5
  done
  [ -f "$run_dir/data/silo-$i.ready" ] || { echo "silo-$i did not start within 60 s; see $run_dir/silo-$i.log" >&2; exit 1; }
  echo "silo-$i up (pid ${pids[-1]}, silo port ${silo_ports[$i]}, gateway ${gateway_ports[$i]}, health and metrics http://127.0.0.1:${http_ports[$i]}/healthz/ready, /metrics)"
done

# the client finds the gateways in the membership table
OVX_STORAGE="$storage" dotnet client/OrleansVectors.Cli/bin/Release/net10.0/ovx.dll demo "$@"
