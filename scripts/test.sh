#!/usr/bin/env bash
# Every test: installs what is missing (Rust crates through cargo, the emulator's Python
# venv), then runs the emulator launcher's own tests and the whole Rust workspace.
#
#   bash scripts/test.sh [extra cargo test args]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/helm-cloud/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

command -v cargo >/dev/null || { echo "test: cargo is needed (https://rustup.rs)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "test: python3 is needed" >&2; exit 1; }

echo "==> emulator venv" >&2
HELM_EMULATOR_PYTHON="$("$repo/scripts/emulator.sh" venv)"
export HELM_EMULATOR_PYTHON

# The dashboard's browser test needs Debian's Chromium.
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian's chromium (the web dashboard's browser test)" >&2
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2 \
      || echo "test: chromium could not be installed; the browser test will say SKIPPED" >&2
  else
    echo "test: chromium is missing and cannot be installed here (needs root and apt-get); the browser test will say SKIPPED" >&2
  fi
fi

echo "==> emulator launcher tests" >&2
"$HELM_EMULATOR_PYTHON" -m unittest discover -s "$repo/scripts/emulator" -p 'test_*.py'

# Snapshots are found from this clone, even when the target folder holds test binaries
# built from another clone of the same sources (cargo keeps those fresh).
export INSTA_WORKSPACE_ROOT="$repo"

echo "==> cargo test (target: $CARGO_TARGET_DIR)" >&2
cd "$repo"
start=$(date +%s)
cargo build --workspace --all-targets
echo "==> built in $(( $(date +%s) - start ))s" >&2
# The Rust tests, then one closing line with the totals of every test binary.
log="$(mktemp)"
# The fault tests record what they observed; the "What it survives" table is made from it.
HELM_SURVIVES_OUT="$(mktemp)"
export HELM_SURVIVES_OUT
set +e
cargo test --workspace "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -eq 0 ] && [ -s "$HELM_SURVIVES_OUT" ]; then
    echo "==> what it survives (this run; scripts/survives.sh update puts it in the README)" >&2
    bash "$repo/scripts/survives.sh" render "$HELM_SURVIVES_OUT" | tee "$CARGO_TARGET_DIR/survives.md"
fi
rm -f "$HELM_SURVIVES_OUT"
passed=$(grep -Eo '^test result: .* [0-9]+ passed' "$log" | grep -Eo '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '^test result: .* [0-9]+ failed' "$log" | grep -Eo '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
rm -f "$log"
echo "rust: $passed passed, $failed failed"
exit "$status"
