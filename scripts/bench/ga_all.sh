#!/usr/bin/env bash
# Grouping accuracy of helm-cloud's miner on the ten Loghub-2k systems, one default
# configuration, scored by ../shared/bench/ga.py.
#   bash scripts/bench/ga_all.sh [DATA=../shared/data/loghub-2k] [BENCH=../shared/bench]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
data="${1:-$repo/../shared/data/loghub-2k}"
bench="${2:-$repo/../shared/bench}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/helm-cloud/target}"
cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p helm-patterns --example mine
mine="$CARGO_TARGET_DIR/release/examples/mine"
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
total=0; n=0; worst=1
for sys in HDFS Hadoop Spark Zookeeper BGL Windows Linux Apache OpenSSH HealthApp; do
  "$mine" "$data/$sys/${sys}_2k.log_content.txt" >"$out/$sys.csv" 2>/dev/null
  ga=$(python3 "$bench/ga.py" "$data/$sys/${sys}_2k.log_structured.csv" "$out/$sys.csv" | sed -n 's/^GA=//p')
  printf '%-10s %s\n' "$sys" "$ga"
  total=$(python3 -c "print($total + $ga)"); n=$((n + 1))
  worst=$(python3 -c "print(min($worst, $ga))")
done
python3 -c "print(f'mean       {$total / $n:.4f}   (worst {$worst})')"
