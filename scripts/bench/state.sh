#!/usr/bin/env bash
# S3 requests of commands run with `[state] backend = "s3"` (a session: lock, pull, run,
# push, release) on a project of N resources, in one run on a fresh emulator; requests are
# counted in the emulator's request log, by operation. A request count, not a speed: the
# dev build is used. The local backend makes no S3 request; the AWS requests of the
# command itself (CloudWatch, SQS…) are the same on both and are counted apart.
#
#   bash scripts/bench/state.sh [N=200]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
n="${1:-200}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/helm-cloud/target}"
cargo build --quiet --manifest-path "$repo/Cargo.toml" --workspace
helm="$CARGO_TARGET_DIR/debug/helm-cloud"
py="$("$repo/scripts/emulator.sh" venv)"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
unset AWS_REGION AWS_PROFILE

work="$(mktemp -d)"; log="$work/requests.jsonl"
trap '"$repo/scripts/emulator.sh" stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
export HELM_EMULATOR_STATE="$work/emulator" HELM_EMULATOR_REQUEST_LOG="$log"
endpoint="$("$repo/scripts/emulator.sh" start)"
export AWS_ENDPOINT_URL="$endpoint"
"$py" "$repo/scripts/bench/seed_mixed_kinds.py" "$endpoint" "$work/project" "$n" sqs,dynamodb,s3 >/dev/null
"$helm" --root "$work/project" init >/dev/null 2>&1 || true
"$py" -c "import boto3,sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1').create_bucket(Bucket='helm-bench-state')" "$endpoint"
cfg="$work/project/.fractary/plugins/helm-cloud/config/monitoring.toml"

count() { # LABEL: the S3 and other requests since the last count
  "$py" - "$log" "$1" <<'PY'
import json, sys, collections
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
# The state bucket's requests by what they touch; the rest is the command's own work.
state = collections.Counter()
for l in lines:
    op = l["operation"]
    if l["service"] != "s3" or not op.startswith("/helm-bench-state/"):
        continue
    key = op.split("/", 3)[3] if op.count("/") >= 3 else ""
    state["lock" if key.startswith("locks/") else "listing" if key in ("", "helm-cloud/") else "objects"] += 1
other = sum(1 for l in lines if not (l["service"] == "s3" and l["operation"].startswith("/helm-bench-state/")))
ops = ", ".join(f"{k} {v}" for k, v in sorted(state.items()))
print(f"{sys.argv[2]}: {sum(state.values())} state-bucket requests ({ops or 'none'}); {other} other AWS requests")
PY
  : >"$log"
}
step() { # LABEL ARGS…: run a command, then count its requests
  local label="$1"; shift
  : >"$log"
  "$helm" --root "$work/project" "$@" >"$work/out" 2>"$work/err" || echo "    (exit $?: $(head -c 300 "$work/err"))"
  count "$label"
  grep -h "shared state" "$work/err" | sed 's/^/    /' || true
}

step "health, local backend" health
if grep -q '^\[state\]' "$cfg"; then
  sed -i -e 's/^backend = "local"/backend = "s3"/' -e 's/^bucket = ""/bucket = "helm-bench-state"/' "$cfg"
else
  printf '\n[state]\nbackend = "s3"\nbucket = "helm-bench-state"\n' >>"$cfg"
fi
# `state migrate` runs outside a session; the files it copies are counted once.
step "state migrate --to s3 (copies the project's state once)" state migrate --to s3
files=$(find "$work/project/.fractary" -type f | wc -l | tr -d ' ')
step "health, s3 backend, first session of this copy (no base yet)" -v health
step "health, s3 backend, steady (one report written)" -v health
step "issues, s3 backend (reads only)" -v issues
step "registry list, s3 backend (reads only)" -v registry list
# A team-mate's clone: the configuration only; its first session pulls every state object.
mkdir -p "$work/mate/.fractary/plugins/helm-cloud"
cp -r "$work/project/.fractary/shared" "$work/mate/.fractary/"
cp -r "$work/project/.fractary/plugins/helm-cloud/config" "$work/mate/.fractary/plugins/helm-cloud/"
objects=$(find "$work/project/.fractary" -type f -path '*monitoring/*' | wc -l | tr -d ' ')
: >"$log"
"$helm" --root "$work/mate" -v issues >/dev/null 2>"$work/err" || echo "    (exit $?: $(head -c 300 "$work/err"))"
count "issues in a team-mate's new clone (pulls everything)"
grep -h "shared state" "$work/err" | sed 's/^/    /' || true
echo "($files files under .fractary/ after migrate, $objects reports now; $n resources)"
