#!/usr/bin/env bash
# Renders kustomizations with `kubectl kustomize` and validates every rendered object offline: the Kubernetes
# schemas, unknown fields at any depth, the API server's own rules (names, labels, selectors, ports, volumes) and
# what the OrleansVectors silos need (see k8s/validator/validate.mjs).
#
#   k8s/validate.sh               the base, every overlay and k8s/testdata/with-components (the optional components)
#   k8s/validate.sh DIR...        the given kustomization directories
#   k8s/validate.sh --self-test   k8s/testdata/broken must be rejected, naming every problem in its expected.txt
#
# Prints one line per object ("ok" or "FAIL" with the field path and the reason under it) and a final line; exits
# 0 when everything is valid, 1 when something is not, 2 when the tools are missing.
# Needs kubectl (installed with apt-get when missing and running as root) and node + npm: the validator's packages
# are installed once, with `npm ci`, into k8s/validator/node_modules (again when package-lock.json changes).
set -euo pipefail

k8s="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$k8s/.." && pwd)"
validator="$k8s/validator"

die() {
  echo "k8s/validate.sh: $*" >&2
  exit 2
}

ensure_kubectl() {
  if ! command -v kubectl >/dev/null 2>&1; then
    echo "k8s/validate.sh: kubectl not found; installing the Debian package kubectl" >&2
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q kubectl >&2 \
        || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q kubectl >&2; } \
        || true
    fi
    command -v kubectl >/dev/null 2>&1 \
      || die "kubectl is required to render the manifests (kubectl kustomize, offline) and could not be installed: install kubectl >= 1.27 (apt-get install kubectl from the Kubernetes apt repository) and run again"
  fi
  kubectl kustomize --help >/dev/null 2>&1 || die "$(command -v kubectl) has no 'kustomize' subcommand: kubectl >= 1.27 is needed"
}

ensure_validator() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    die "node and npm are required for the validator (apt-get install nodejs npm; node >= 18)"
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 18 ] || die "node $(node --version) is too old for the validator: node >= 18 is needed (tested with 20)"
  local stamp="$validator/node_modules/.package-lock.sha256" want
  want="$(sha256sum "$validator/package-lock.json" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "k8s/validate.sh: installing the validator's packages (npm ci in k8s/validator)" >&2
    (cd "$validator" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed in k8s/validator"
    echo "$want" >"$stamp"
  fi
}

# label: the directory relative to the repository root when it is inside it
label_of() {
  local abs
  abs="$(cd "$1" && pwd)"
  case "$abs" in
    "$repo"/*) echo "${abs#"$repo"/}" ;;
    *) echo "$abs" ;;
  esac
}

# validate DIR...: render each, then validate all renderings in one run of the validator
validate() {
  local i=0 dir label args=()
  for dir in "$@"; do
    i=$((i + 1))
    if [ ! -d "$dir" ]; then
      args+=(--failed "$dir" "not a directory")
      continue
    fi
    label="$(label_of "$dir")"
    if [ ! -f "$dir/kustomization.yaml" ] && [ ! -f "$dir/kustomization.yml" ] && [ ! -f "$dir/Kustomization" ]; then
      args+=(--failed "$label" "no kustomization.yaml")
      continue
    fi
    if kubectl kustomize "$dir" >"$tmp/$i.yaml" 2>"$tmp/$i.err"; then
      args+=(--source "$label" "$tmp/$i.yaml")
    else
      args+=(--failed "$label" "kubectl kustomize failed: $(tr -s '\n' ' ' <"$tmp/$i.err")")
    fi
  done
  node "$validator/validate.mjs" "${args[@]}"
}

self_test() {
  local broken="$k8s/testdata/broken" out status=0 missing=0 line count=0
  out="$(validate "$broken")" || status=$?
  printf '%s\n' "$out"
  if [ "$status" -ne 1 ]; then
    echo "self-test FAILED: the validator exited $status on k8s/testdata/broken (expected 1)"
    return 1
  fi
  while IFS= read -r line; do
    case "$line" in '' | '#'*) continue ;; esac
    count=$((count + 1))
    if ! grep -qF -- "$line" <<<"$out"; then
      echo "self-test FAILED: not reported: $line"
      missing=$((missing + 1))
    fi
  done <"$broken/expected.txt"
  if [ "$missing" -ne 0 ]; then
    return 1
  fi
  echo "self-test passed: k8s/testdata/broken rejected with all $count expected problems"
}

ensure_kubectl
ensure_validator
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [ "${1:-}" = "--self-test" ]; then
  [ $# -eq 1 ] || die "--self-test takes no directories"
  self_test
  exit $?
fi

if [ $# -eq 0 ]; then
  set -- "$k8s/base"
  for dir in "$k8s"/overlays/*/; do
    set -- "$@" "${dir%/}"
  done
  set -- "$@" "$k8s/testdata/with-components"
fi
validate "$@"
