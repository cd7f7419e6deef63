#!/usr/bin/env bash
# Runs every test of the project: the Rust workspace (unit, corpus, property, integration
# and the official-SDK compatibility tests) plus a short fuzz smoke run when cargo-fuzz is
# installed. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The official Alibaba Cloud Python SDKs, in a project-local virtualenv.
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import alibabacloud_sts20150401, aliyunsdkcore' 2>/dev/null; then
  echo "==> installing the official Alibaba Cloud Python SDKs into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/sdk/requirements.txt
fi
export CLOUDWARD_TEST_PYTHON="$PWD/.venv/bin/python"

echo "==> cargo test --workspace"
cargo test --workspace --locked

if command -v cargo-fuzz >/dev/null 2>&1; then
  echo "==> fuzz smoke run (10 s per target)"
  for dir in crates/*/fuzz; do
    [ -d "$dir" ] || continue
    for target in $(cd "$dir/.." && RUSTC_BOOTSTRAP=1 cargo fuzz list 2>/dev/null); do
      (cd "$dir/.." && RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" -- -max_total_time=10 -rss_limit_mb=2048 >/dev/null 2>&1) \
        || { echo "fuzz target $target in $dir failed"; exit 1; }
      echo "    $dir: $target ok"
    done
  done
else
  echo "==> fuzz smoke run SKIPPED: cargo-fuzz is not installed (cargo install cargo-fuzz)"
fi
echo "==> all tests passed"
