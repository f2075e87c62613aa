#!/usr/bin/env bash
# Benchmark: `helm-cloud health` against the plugin's way (shared/bench/health_baseline.py:
# one status call and one GetMetricStatistics per metric per resource), on the same
# emulator, the same registry of N resources of mixed kinds, in one run.
# Prints AWS requests (counted in the emulator's request log) and wall time for both, and
# the ratios.
#
#   bash scripts/bench/health.sh [N=200] [BASELINE=../shared/bench/health_baseline.py]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
n="${1:-200}"
baseline="${2:-$repo/../shared/bench/health_baseline.py}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/helm-cloud/target}"
[ -f "$baseline" ] || { echo "bench: baseline $baseline not found (pass its path)" >&2; exit 1; }

cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p helm-cloud
helm="$CARGO_TARGET_DIR/release/helm-cloud"
py="$("$repo/scripts/emulator.sh" venv)"

work="$(mktemp -d)"
log="$work/requests.jsonl"
export HELM_EMULATOR_STATE="$work/emulator" HELM_EMULATOR_REQUEST_LOG="$log"
endpoint="$("$repo/scripts/emulator.sh" start)"
trap '"$repo/scripts/emulator.sh" stop; rm -rf "$work"' EXIT

"$py" "$repo/scripts/bench/seed_health_fleet.py" "$endpoint" "$n" >"$work/deployments.json"
mkdir -p "$work/project/.fractary/registry" "$work/project/.fractary/shared"
cp "$work/deployments.json" "$work/project/.fractary/registry/deployments.json"
echo '{"version":"1.0.0","aws":{"account_id":"123456789012","region":"us-east-1"}}' >"$work/project/.fractary/shared/aws-credentials.json"

export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_DEFAULT_REGION=us-east-1
unset AWS_REGION AWS_PROFILE

count() { wc -l <"$log" | tr -d ' '; }

: >"$log"
start=$(date +%s.%N)
set +e
"$helm" --root "$work/project" health --env test --format json >"$work/health.json"
code=$?
set -e
end=$(date +%s.%N)
helm_requests=$(count)
helm_wall=$(echo "$end - $start" | bc)
ops=$(python3 -c "import json,collections,sys; c=collections.Counter(json.loads(l)['operation'] for l in open('$log')); print(', '.join(f'{k} {v}' for k,v in c.most_common()))")
overall=$(python3 -c "import json; r=json.load(open('$work/health.json')); print(r['overall_health'], r['resources'])")

: >"$log"
base_out=$("$py" "$baseline" "$work/deployments.json" --env test)
base_requests=$(count)
base_wall=$(echo "$base_out" | sed -n 's/.*wall_s=\([0-9.]*\).*/\1/p')

echo "resources:            $n"
echo "helm-cloud health:    requests=$helm_requests wall_s=$(printf %.2f "$helm_wall") exit=$code overall=$overall"
echo "  by operation:       $ops"
echo "baseline (plugin):    requests=$base_requests wall_s=$base_wall   ($base_out)"
python3 -c "print(f'ratio: {$base_requests/$helm_requests:.1f}x fewer requests, {$base_wall/$helm_wall:.2f}x the speed (baseline wall / helm wall)')"
