#!/usr/bin/env bash
# Lints Dockerfiles with npm dockerfilelint, pinned by silo/lint/package.json and package-lock.json (installed there
# with `npm ci` when missing; Debian's nodejs and npm first when those are missing).
#   silo/lint-dockerfile.sh              lints silo/Dockerfile
#   silo/lint-dockerfile.sh FILE...      lints those files
#   silo/lint-dockerfile.sh --self-test  what CI runs: silo/Dockerfile must be clean, and silo/testdata/Dockerfile.broken
#                                        must fail with issues (proof that the linter and this script catch them)
# Prints every issue as FILE:LINE: title [category], then a summary line. Exits 0 when every file is clean, 1 when
# any issue is found, 2 when a file is missing. The rules are dockerfilelint's defaults; a .dockerfilelintrc in
# silo/ (none today) would apply to every file linted here, wherever it lies.
# silo/testdata/Dockerfile.broken must fail: it proves that the linter and this script's exit status work.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=1.8.0
tool_dir="$here/lint"
tool="$tool_dir/node_modules/dockerfilelint"

if [ "${1:-}" = --self-test ]; then
  "$0" "$here/Dockerfile" || exit 1
  status=0
  "$0" "$here/testdata/Dockerfile.broken" > /dev/null || status=$?
  if [ "$status" -ne 1 ]; then
    echo "lint-dockerfile: silo/testdata/Dockerfile.broken should fail with issues (exit 1); got exit $status" >&2
    exit 1
  fi
  echo "lint-dockerfile: silo/Dockerfile is clean; silo/testdata/Dockerfile.broken fails, as it must"
  exit 0
fi

files=()
if [ "$#" -eq 0 ]; then
  files=("$here/Dockerfile")
else
  for f in "$@"; do
    # dockerfilelint lints a missing file's name as if it were a Dockerfile's text: check first
    if [ ! -f "$f" ]; then
      echo "lint-dockerfile: no such file: $f" >&2
      exit 2
    fi
    files+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
  done
fi

if ! grep -qs "\"version\": \"$version\"" "$tool/package.json"; then
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "Installing Debian packages: nodejs npm" >&2
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  echo "Installing npm dockerfilelint@$version under silo/lint/ (npm ci)" >&2
  (cd "$tool_dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

# dockerfilelint's exit status is its issue count, which wraps at 256: count the issues in its JSON report instead.
# The report goes to a file, which node writes whole before it exits (a pipe may be cut short).
report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
node "$tool/bin/dockerfilelint" --config "$here" --output json "${files[@]}" > "$report" || status=$?
if [ ! -s "$report" ]; then
  echo "lint-dockerfile: dockerfilelint printed no report (exit status $status)" >&2
  exit 2
fi
node - "$report" "$PWD" <<'EOF'
const fs = require('fs');
const path = require('path');
const [report, cwd] = process.argv.slice(2);
const result = JSON.parse(fs.readFileSync(report, 'utf8'));
let issues = 0;
for (const file of result.files) {
  const name = path.relative(cwd, file.file) || file.file;
  for (const issue of file.issues) {
    issues++;
    console.log(`${name}:${issue.line}: ${issue.title} [${issue.category}]`);
    console.log(`    ${String(issue.content).trim()}`);
  }
}
const files = result.files.length;
console.log(`dockerfilelint: ${issues} issue(s) in ${files} file(s)`);
process.exitCode = issues === 0 ? 0 : 1;
EOF
