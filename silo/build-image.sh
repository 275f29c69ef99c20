#!/usr/bin/env bash
# Builds the silo image (silo/Dockerfile, the repository root as context) with the first container engine that
# works here, starts a silo from it and checks that it comes up, then stops it:
#   1. GET /healthz/live answers 200 (the process serves HTTP), then /healthz/ready answers 200 (the silo joined
#      its cluster: localhost clustering, nothing external needed) and /metrics answers 200;
#   2. `ovx demo` runs inside the container against that silo (the digits job: faiss, OpenBLAS, the gateway);
#   3. SIGTERM stops the silo gracefully (exit status 0).
#
# usage: silo/build-image.sh [options]
#   --tag NAME          the image (default orleansvectors/silo:latest; orleansvectors/silo:latest-gpu with --gpu)
#   --gpu               the CUDA variant: --build-arg TORCH_BACKEND=cuda (needs NuGet's libtorch-cuda-12.8-linux-x64)
#   --build-arg K=V     passed to the build, repeatable: base images (BASE_IMAGE/BASE_TAG, DOTNET_SDK_IMAGE/…_TAG,
#                       DOTNET_RUNTIME_IMAGE/…_TAG, RUNTIME_BASE_IMAGE/…_TAG; see silo/Dockerfile)
#   --engine E          docker, podman or buildah, instead of the first one that works
#   --no-build          check an image built before
#   --no-check          build only
#   --no-demo           skip step 2
#   --timeout S         seconds to wait for each of live and ready (default 180)
# Engines, in order: docker (its daemon must be running: `docker info` works), podman, buildah. Where podman's or
# buildah's default OCI runtime cannot start containers (crun refuses hybrid cgroups; rlimits the host forbids), a
# working runtime (runc) and rlimits are found by probing the base image once and are printed.
# Exit status: 0 built and checked; 1 the build or a check failed; 2 usage; 3 no container engine can run here.
# NUGET_CERT_REVOCATION_MODE, when set in the environment, is passed to the build (NuGet behind a TLS-inspecting
# proxy: offline). The silo's log is kept in artifacts/image-check/silo.log.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=""
gpu=0
build=1
check=1
demo=1
timeout=180
engine=""
build_args=()
usage() { sed -n '/^# usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    --tag) [ "$#" -ge 2 ] || usage; tag=$2; shift 2 ;;
    --gpu) gpu=1; shift ;;
    --build-arg) [ "$#" -ge 2 ] || usage; build_args+=(--build-arg "$2"); shift 2 ;;
    --engine) [ "$#" -ge 2 ] || usage; engine=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --no-check) check=0; shift ;;
    --no-demo) demo=0; shift ;;
    --timeout) [ "$#" -ge 2 ] || usage; timeout=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "build-image: unknown option $1" >&2; usage ;;
  esac
done
if [ "$gpu" -eq 1 ]; then
  build_args+=(--build-arg TORCH_BACKEND=cuda)
  tag=${tag:-orleansvectors/silo:latest-gpu}
fi
tag=${tag:-orleansvectors/silo:latest}
# a machine whose NuGet access cannot check certificate revocation online says so in its environment: pass it on
if [ -n "${NUGET_CERT_REVOCATION_MODE:-}" ]; then
  build_args+=(--build-arg "NUGET_CERT_REVOCATION_MODE=$NUGET_CERT_REVOCATION_MODE")
fi
say() { printf 'build-image: %s\n' "$*"; }
run() { printf '+ %s\n' "$*" >&2; "$@"; }

# --- the engine --------------------------------------------------------------------------------------------------
why_not=()
usable() {
  local e=$1 out
  if ! command -v "$e" >/dev/null; then why_not+=("$e: not installed"); return 1; fi
  if ! out=$(timeout 60 "$e" info 2>&1 >/dev/null); then
    why_not+=("$e: '$e info' failed: $(printf '%s' "$out" | grep -v '^\s*$' | head -2 | tr '\n' ' ')")
    return 1
  fi
}
if [ -n "$engine" ]; then
  case "$engine" in docker|podman|buildah) ;; *) echo "build-image: --engine takes docker, podman or buildah" >&2; exit 2 ;; esac
  usable "$engine" || { say "no usable engine: ${why_not[*]}"; exit 3; }
else
  for e in docker podman buildah; do
    if usable "$e"; then engine=$e; break; fi
  done
  if [ -z "$engine" ]; then
    say "no container engine can run here:"
    printf '  %s\n' "${why_not[@]}"
    cat <<'EOF'
  On Debian 12 (as root): apt-get install docker.io, then start the daemon (dockerd &, or systemctl start docker);
  or apt-get install podman runc (or buildah runc). Base images are pulled from their registries; on a machine
  without those, import them first (see the comments in silo/Dockerfile on --build-arg).
EOF
    exit 3
  fi
fi
say "engine: $engine ($("$engine" --version 2>/dev/null | head -1))"

# podman and buildah: find an OCI runtime (and for podman run, rlimits) that can start a container here, by starting
# `true` in the build's base image
runtime_flags=()
rlimit_flags=()
base_image() {
  local name=docker.io/library/debian tagv=bookworm-slim a
  for a in "${build_args[@]}"; do
    case "$a" in BASE_IMAGE=*) name=${a#BASE_IMAGE=} ;; BASE_TAG=*) tagv=${a#BASE_TAG=} ;; esac
  done
  printf '%s:%s\n' "$name" "$tagv"
}
probe_image=""
if [ "$engine" != docker ]; then
  if [ "$build" -eq 1 ]; then probe_image=$(base_image); else probe_image=$tag; fi
  if ! { [ "$engine" = podman ] && podman image exists "$probe_image"; } \
      && ! { [ "$engine" = buildah ] && buildah inspect --type image "$probe_image" >/dev/null 2>&1; }; then
    run "$engine" pull "$probe_image" >/dev/null || { say "cannot pull $probe_image (the probe's and the build's base image)"; exit 1; }
  fi
  runtimes=("")
  command -v runc >/dev/null && runtimes+=(runc)
  command -v crun >/dev/null && runtimes+=(crun)
  nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
  [ "$nofile" = unlimited ] && nofile=1048576
  [ "$nproc" = unlimited ] && nproc=4194304
  limit_sets=("" "--ulimit nofile=$nofile:$nofile --ulimit nproc=$nproc:$nproc"
              "--ulimit nofile=$nofile:$nofile --ulimit nproc=32768:32768" "--ulimit nofile=4096:4096 --ulimit nproc=4096:4096")
  found=0
  last_error=""
  for rt in "${runtimes[@]}"; do
    rt_flags=(); [ -n "$rt" ] && rt_flags=(--runtime "$rt")
    if [ "$engine" = podman ]; then
      for limits in "${limit_sets[@]}"; do
        # shellcheck disable=SC2206 # the limit sets are word lists
        lim=($limits)
        if last_error=$(podman run --rm "${rt_flags[@]}" "${lim[@]}" --entrypoint true "$probe_image" 2>&1); then
          runtime_flags=("${rt_flags[@]}"); rlimit_flags=("${lim[@]}"); found=1; break 2
        fi
      done
    else
      ctr=$(buildah from --pull=never "$probe_image")
      if last_error=$(buildah run "${rt_flags[@]}" "$ctr" -- true 2>&1); then
        runtime_flags=("${rt_flags[@]}"); found=1
      fi
      buildah rm "$ctr" >/dev/null
      [ "$found" -eq 1 ] && break
    fi
  done
  if [ "$found" -eq 0 ]; then
    say "$engine cannot start a container here: $last_error"
    exit 3
  fi
  say "containers start with: ${runtime_flags[*]:-the default runtime} ${rlimit_flags[*]:-}"
fi

# --- build -------------------------------------------------------------------------------------------------------
if [ "$build" -eq 1 ]; then
  say "building $tag from silo/Dockerfile (compiles native/ and publishes the silo and ovx: minutes, CPU-heavy)"
  start=$SECONDS
  case "$engine" in
    docker) run docker build -f silo/Dockerfile -t "$tag" "${build_args[@]}" . ;;
    podman) run podman build "${runtime_flags[@]}" --layers -f silo/Dockerfile -t "$tag" "${build_args[@]}" . ;;
    buildah) run buildah build "${runtime_flags[@]}" --layers -f silo/Dockerfile -t "$tag" "${build_args[@]}" . ;;
  esac || { say "the build failed"; exit 1; }
  say "built $tag in $((SECONDS - start)) s"
fi
[ "$check" -eq 1 ] || exit 0

# --- check -------------------------------------------------------------------------------------------------------
log_dir=artifacts/image-check
mkdir -p "$log_dir"
log="$log_dir/silo.log"

# GET URL: prints the HTTP status, "000" when nothing answers
http_status() {
  if command -v curl >/dev/null; then
    curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" 2>/dev/null || true
  else
    local hostport=${1#http://}; hostport=${hostport%%/*}; local path=/${1#http://*/}
    (exec 3<>"/dev/tcp/${hostport%:*}/${hostport#*:}" && printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$hostport" >&3 \
      && head -1 <&3 | awk '{print $2}') 2>/dev/null || echo 000
  fi
}
http_body() { if command -v curl >/dev/null; then curl -s -m 5 "$1" 2>/dev/null | head -c 300; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

name="ovx-image-check-$$"
pid=""   # buildah: the process of `buildah run`
cid=""
alive() {
  if [ "$engine" = buildah ]; then kill -0 "$pid" 2>/dev/null
  else [ "$("$engine" inspect -f '{{.State.Running}}' "$cid" 2>/dev/null)" = true ]; fi
}
in_container() {  # runs a command in the silo's container (as its user)
  if [ "$engine" = buildah ]; then buildah run "${runtime_flags[@]}" --network host --user 10001:10001 "$cid" -- "$@"
  else "$engine" exec "$cid" "$@"; fi
}
cleanup() {
  if [ -n "$cid" ]; then
    if [ "$engine" = buildah ]; then
      if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
      buildah rm "$cid" >/dev/null 2>&1 || true
    else
      "$engine" logs "$cid" > "$log" 2>&1 || true
      "$engine" rm -f "$cid" >/dev/null 2>&1 || true
    fi
  fi
}
trap cleanup EXIT
fail() {
  say "FAILED: $*"
  [ "$engine" = buildah ] || "$engine" logs "$cid" > "$log" 2>&1 || true
  echo "--- last lines of $log:"; tail -40 "$log" 2>/dev/null || true
  exit 1
}

if [ "$engine" = buildah ]; then
  # buildah runs a build container, not a service: host network, the silo on free ports of this machine
  http_port=$(free_port); silo_port=$(free_port); gateway_port=$(free_port)
  cid=$(buildah from --pull=never --name "$name" "$tag")
  say "starting the silo: buildah run --network host (HTTP $http_port, silo $silo_port, gateway $gateway_port)"
  buildah run "${runtime_flags[@]}" --network host --user 10001:10001 \
    --env Silo__HttpPort="$http_port" --env Silo__SiloPort="$silo_port" --env Silo__PrimarySiloPort="$silo_port" \
    --env Silo__GatewayPort="$gateway_port" "$cid" -- dotnet /app/silo/OrleansVectors.Silo.dll > "$log" 2>&1 &
  pid=$!
  ovx_args=(--gateways "$gateway_port")
else
  http_port=""
  cid=$(run "$engine" run -d --name "$name" "${runtime_flags[@]}" "${rlimit_flags[@]}" -p 127.0.0.1::8080 "$tag") \
    || fail "the container did not start"
  http_port=$("$engine" port "$cid" 8080/tcp 2>/dev/null | head -1 | sed 's/.*://') || true
  [ -n "$http_port" ] || fail "the container has no port 8080 published (did it exit at once?)"
  say "container ${cid:0:12} started; its port 8080 is 127.0.0.1:$http_port"
  ovx_args=()
fi
base="http://127.0.0.1:$http_port"

wait_for() {  # wait_for PATH: until it answers 200
  local path=$1 start=$SECONDS status=000
  while [ $((SECONDS - start)) -lt "$timeout" ]; do
    alive || fail "the silo exited before $path answered"
    status=$(http_status "$base$path")
    if [ "$status" = 200 ]; then say "GET $path: 200 after $((SECONDS - start)) s $(http_body "$base$path" | tr '\n' ' ' | head -c 120)"; return 0; fi
    sleep 1
  done
  fail "GET $path did not answer 200 within $timeout s (last: $status $(http_body "$base$path"))"
}
wait_for /healthz/live
wait_for /healthz/ready
status=$(http_status "$base/metrics")
[ "$status" = 200 ] || fail "GET /metrics answered $status"
say "GET /metrics: 200 ($(curl -s -m 5 "$base/metrics" 2>/dev/null | grep -vc '^#' || true) samples)"

if [ "$demo" -eq 1 ]; then
  say "running ovx demo inside the container"
  in_container ovx --connect-timeout 30 "${ovx_args[@]}" demo || fail "ovx demo failed"
fi

say "stopping the silo (SIGTERM; it leaves the cluster gracefully)"
if [ "$engine" = buildah ]; then
  # the silo is a descendant of the `buildah run` started above (buildah, runc, the silo): signal it by its id
  silo_pid=""
  todo=("$pid")
  while [ "${#todo[@]}" -gt 0 ] && [ -z "$silo_pid" ]; do
    p=${todo[0]}; todo=("${todo[@]:1}")
    cmd=$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null || true)
    case "$cmd" in
      buildah*|*/buildah*|runc*|*/runc*|crun*|*/crun*|conmon*|*/conmon*) ;;
      *" /app/silo/OrleansVectors.Silo.dll"*) silo_pid=$p; break ;;
    esac
    mapfile -t children < <(pgrep -P "$p" || true)
    todo+=("${children[@]}")
  done
  if [ -n "$silo_pid" ]; then kill -TERM "$silo_pid"; else kill -TERM "$pid"; fi
  code=0; wait "$pid" || code=$?
else
  "$engine" stop -t 45 "$cid" >/dev/null
  code=$("$engine" inspect -f '{{.State.ExitCode}}' "$cid")
fi
[ "$code" = 0 ] || fail "the silo exited with status $code after SIGTERM"
[ "$build" -eq 1 ] && built="builds, " || built=""
[ "$demo" -eq 1 ] && demo_done="runs ovx demo, " || demo_done=""
say "OK: $tag ${built}serves /healthz/live, /healthz/ready and /metrics, ${demo_done}and stops gracefully (engine $engine)"
