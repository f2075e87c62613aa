#!/usr/bin/env bash
# Benchmark: `helm-cloud investigate` end to end on N log events (default 200,000) in the
# emulator: wall time and peak RSS of the whole command (reading every event through
# FilterLogEvents pages, mining, timeline, root cause, report).
#
#   bash scripts/bench/investigate.sh [N=200000]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
n="${1:-200000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/helm-cloud/target}"
cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p helm-cloud
helm="$CARGO_TARGET_DIR/release/helm-cloud"
py="$("$repo/scripts/emulator.sh" venv)"
work="$(mktemp -d)"
export HELM_EMULATOR_STATE="$work/emulator"
endpoint="$("$repo/scripts/emulator.sh" start)"
trap '"$repo/scripts/emulator.sh" stop; rm -rf "$work"' EXIT

"$py" - "$endpoint" "$n" <<'PY'
import sys, time, random, boto3
endpoint, n = sys.argv[1], int(sys.argv[2])
logs = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="b", aws_secret_access_key="b")
group = "/aws/lambda/bench-fn"
logs.create_log_group(logGroupName=group)
logs.create_log_stream(logGroupName=group, logStreamName="s")
rng = random.Random(7)
now = int(time.time() * 1000)
start = now - 55 * 60 * 1000
events = []
for i in range(n):
    t = start + i * (50 * 60 * 1000) // n
    r = rng.random()
    if i > n * 0.8 and r < 0.05:
        msg = f"[ERROR] Task timed out after {rng.randint(3, 9)}.00 seconds"
    elif r < 0.01:
        msg = f"[ERROR] Error: connect ECONNREFUSED 10.0.{rng.randint(0, 9)}.{rng.randint(1, 254)}:6379"
    elif r < 0.35:
        msg = f"START RequestId: {rng.getrandbits(64):016x} Version: $LATEST"
    elif r < 0.7:
        msg = f"[INFO] handled GET /orders/{rng.randint(1, 99999)} in {rng.randint(5, 900)} ms"
    else:
        msg = f"REPORT RequestId: {rng.getrandbits(64):016x}\tDuration: {rng.uniform(1, 900):.2f} ms\tBilled Duration: {rng.randint(1, 900)} ms\tMemory Size: 256 MB\tMax Memory Used: {rng.randint(60, 200)} MB"
    events.append({"timestamp": t, "message": msg})
for i in range(0, n, 5000):
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events[i:i + 5000])
print(f"seeded {n} events", file=sys.stderr)
PY

mkdir -p "$work/p/.fractary/registry" "$work/p/.fractary/shared"
echo '{"version":"1.0.0","aws":{"region":"us-east-1"}}' >"$work/p/.fractary/shared/aws-credentials.json"
cat >"$work/p/.fractary/registry/deployments.json" <<JSON
{"version": "1.0.0", "deployments": [{"id": "bench", "environment": "test", "deployed_at": "2020-01-01T00:00:00Z",
  "resources": [{"id": "fn", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:123456789012:function:bench-fn"}]}]}
JSON
export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=b AWS_SECRET_ACCESS_KEY=b
unset AWS_REGION AWS_PROFILE
/usr/bin/time -f "investigate: wall_s=%e peak_rss_kb=%M" "$helm" --root "$work/p" investigate --service fn --format json >"$work/report.json"
python3 -c "import json; r=json.load(open('$work/report.json')); print('logs_found', r['logs_found'], 'errors', r['error_count'], 'patterns', len(r['patterns']), 'root_cause', r['root_cause']['category'], r['root_cause']['confidence'])"
