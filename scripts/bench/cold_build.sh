#!/usr/bin/env bash
# Cold build cost of the two README commands, in a fresh target directory (the crates.io
# download cache is reused; a brand-new machine also downloads the crates).
#
#   bash scripts/bench/cold_build.sh [before|after|both]
#
# before: what the first round did: the demo built `-p helm-cloud`, then the tests built
#         `--workspace --all-targets` (different feature unification: the SDK builds twice).
# after:  the demo builds what the tests build; the test command then compiles nothing.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
which="${1:-both}"
measure() { # label, target dir, cargo args...
  local label="$1" dir="$2"; shift 2
  local t0 t1 n
  t0=$(date +%s)
  n=$(CARGO_TARGET_DIR="$dir" cargo build --manifest-path "$repo/Cargo.toml" "$@" 2>&1 | grep -c '^ *Compiling' || true)
  t1=$(date +%s)
  printf '%-44s %5ss  %4s crates compiled\n' "$label" "$((t1 - t0))" "$n"
}
if [ "$which" = before ] || [ "$which" = both ]; then
  d="$(mktemp -d)"
  measure "before: demo (cargo build -p helm-cloud)" "$d" -p helm-cloud
  measure "before: tests (--workspace --all-targets)" "$d" --workspace --all-targets
  rm -rf "$d"
fi
if [ "$which" = after ] || [ "$which" = both ]; then
  d="$(mktemp -d)"
  measure "after: demo (--workspace --all-targets)" "$d" --workspace --all-targets
  measure "after: tests (--workspace --all-targets)" "$d" --workspace --all-targets
  rm -rf "$d"
fi
