#!/usr/bin/env bash
# Benchmark: `helm-cloud slo` and `watch` cycles against a naive evaluator that reads every
# window every cycle (scripts/bench/slo_naive.py), on the same emulator and fleet of N
# resources (scripts/bench/seed_health_fleet.py), in one run. Prints AWS requests (the
# emulator's request log), datapoints requested and wall time, and the ratios.
#
#   bash scripts/bench/slo.sh [N=200]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
n="${1:-200}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/helm-cloud/target}"
cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p helm-cloud
helm="$CARGO_TARGET_DIR/release/helm-cloud"
py="$("$repo/scripts/emulator.sh" venv)"

work="$(mktemp -d)"
log="$work/requests.jsonl"
export HELM_EMULATOR_STATE="$work/emulator" HELM_EMULATOR_REQUEST_LOG="$log"
endpoint="$("$repo/scripts/emulator.sh" start)"
trap '"$repo/scripts/emulator.sh" stop; rm -rf "$work"' EXIT

"$py" "$repo/scripts/bench/seed_health_fleet.py" "$endpoint" "$n" >"$work/deployments.json"
p="$work/project"
mkdir -p "$p/.fractary/registry" "$p/.fractary/shared" "$p/.fractary/plugins/helm-cloud/config"
cp "$work/deployments.json" "$p/.fractary/registry/deployments.json"
echo '{"version":"1.0.0","aws":{"account_id":"123456789012","region":"us-east-1"}}' >"$p/.fractary/shared/aws-credentials.json"
printf '[helm-cloud]\nenvironments = ["test"]\n' >"$p/.fractary/plugins/helm-cloud/config/monitoring.toml"
export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_DEFAULT_REGION=us-east-1
unset AWS_REGION AWS_PROFILE

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
later=$(date -u -d "$now + 5 minutes" +%Y-%m-%dT%H:%M:%SZ)
count() { wc -l <"$log" | tr -d ' '; }
gmd() { grep -c '"GetMetricData"' "$log" || true; }
timed() { local s e; s=$(date +%s.%N); "$@" >"$work/out" 2>"$work/err" || true; e=$(date +%s.%N); echo "$e - $s" | bc; }

: >"$log"; w=$(timed "$helm" --root "$p" --now "$now" slo --format json)
slo_dp=$(python3 -c "import json; print(json.load(open('$work/out'))['slo_report']['requests']['datapoints_requested'])")
echo "slo (full period):     requests=$(count) GetMetricData=$(gmd) datapoints=$slo_dp wall_s=$(printf %.2f "$w")"

: >"$log"; w=$(timed "$helm" --root "$p" --now "$now" watch --once)
first_dp=$(sed -n 's/.*queries, \([0-9]*\) datapoints.*/\1/p' "$work/out")
echo "watch cycle 1 (cold):  requests=$(count) GetMetricData=$(gmd) datapoints=$first_dp wall_s=$(printf %.2f "$w")"

: >"$log"; w=$(timed "$helm" --root "$p" --now "$later" watch --once)
steady_dp=$(sed -n 's/.*queries, \([0-9]*\) datapoints.*/\1/p' "$work/out")
steady_slo_s=$(sed -n 's/.*datapoints, \([0-9.]*\)s).*/\1/p' "$work/out")
steady_req=$(count); steady_gmd=$(gmd); steady_w=$w
echo "watch cycle 2 (steady): requests=$steady_req GetMetricData=$steady_gmd datapoints=$steady_dp wall_s=$(printf %.2f "$w") (of which the SLO evaluation ${steady_slo_s}s)"
grep -h "cycle" "$work/out" | head -2

: >"$log"; naive=$("$py" "$repo/scripts/bench/slo_naive.py" "$endpoint" "$work/deployments.json" "$later")
echo "naive (every window):  $naive  (log: $(count) requests)"
naive_dp=$(echo "$naive" | sed -n 's/.*datapoints=\([0-9]*\).*/\1/p')
naive_req=$(echo "$naive" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
naive_w=$(echo "$naive" | sed -n 's/.*wall_s=\([0-9.]*\).*/\1/p')
python3 -c "print(f'ratio (naive / steady watch cycle): {$naive_dp/max($steady_dp,1):.0f}x fewer datapoints, {$naive_req/max($steady_gmd,1):.1f}x fewer GetMetricData calls (steady cycle, health included); SLO wall: naive {$naive_w:.2f}s vs {$steady_slo_s:.2f}s = {$naive_w/max($steady_slo_s,0.001):.1f}x')"
