#!/usr/bin/env bash
# Requests of `helm-cloud health` on N resources of the kinds before #20 (sqs, dynamodb, s3)
# against N resources that mix in the new ones (stepfunctions, eventbridge, alb, sns, nlb,
# targetgroup, kinesis, elasticache, asg), in one run, each
# on a fresh emulator; requests are counted in the emulator's request log. A request count,
# not a speed: the dev build is used.
#
#   bash scripts/bench/kinds.sh [N=200]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
n="${1:-200}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/helm-cloud/target}"
cargo build --quiet --manifest-path "$repo/Cargo.toml" --workspace
helm="$CARGO_TARGET_DIR/debug/helm-cloud"
py="$("$repo/scripts/emulator.sh" venv)"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
unset AWS_REGION AWS_PROFILE

measure() { # LABEL KINDS
  local work log endpoint
  work="$(mktemp -d)"; log="$work/requests.jsonl"
  export HELM_EMULATOR_STATE="$work/emulator" HELM_EMULATOR_REQUEST_LOG="$log"
  endpoint="$("$repo/scripts/emulator.sh" start)"
  "$py" "$repo/scripts/bench/seed_mixed_kinds.py" "$endpoint" "$work/project" "$n" "$2" >/dev/null
  "$helm" --root "$work/project" init >/dev/null 2>&1 || true
  : >"$log"
  AWS_ENDPOINT_URL="$endpoint" "$helm" --root "$work/project" health --format json >"$work/h.json" || true
  local checked
  checked=$(python3 -c "import json; print(len(json.load(open('$work/h.json'))['results']))")
  echo "$1: $checked resources ($2): $(wc -l <"$log" | tr -d ' ') requests"
  "$repo/scripts/emulator.sh" stop
  rm -rf "$work"
}
measure "before #20" sqs,dynamodb,s3
measure "with the new kinds" sqs,dynamodb,s3,stepfunctions,eventbridge,alb,sns
measure "with every kind since #20" sqs,dynamodb,s3,stepfunctions,eventbridge,alb,sns,nlb,targetgroup,kinesis,elasticache,asg
