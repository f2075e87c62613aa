#!/usr/bin/env bash
# Benchmark: `helm-cloud audit --type all --scope account` against Prowler (PyPI `prowler`,
# in a venv of its own under ~/.cache/helm-cloud) on the same emulator state, in one run:
# an account of N resources over three regions (scripts/emulator/seed_account.py fleet)
# plus one resource failing each account check (seed_account.py bad).
# Prints wall time and AWS requests (counted in the emulator's request log) of each, their
# ratio, and the checks each tool reported as failing.
#
#   bash scripts/bench/audit.sh [N=500]
#
# Prowler runs with --scan-unused-services (moto attaches security groups to nothing) and
# without awslambda_function_no_secrets_in_code (it downloads function code from an AWS host).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
n="${1:-500}"
regions="us-east-1,eu-west-1,ap-southeast-2"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/helm-cloud/target}"
cache="${HELM_CACHE:-$HOME/.cache/helm-cloud}"

prowler_venv="$cache/venv-prowler"
if [ ! -x "$prowler_venv/bin/prowler" ]; then
  echo "bench: installing prowler into $prowler_venv (once)" >&2
  python3 -m venv "$prowler_venv"
  "$prowler_venv/bin/pip" install -q prowler >&2
fi

cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p helm-cloud
helm="$CARGO_TARGET_DIR/release/helm-cloud"
py="$("$repo/scripts/emulator.sh" venv)"

work="$(mktemp -d)"
log="$work/requests.jsonl"
export HELM_EMULATOR_STATE="$work/emulator" HELM_EMULATOR_REQUEST_LOG="$log"
endpoint="$("$repo/scripts/emulator.sh" start)"
trap '"$repo/scripts/emulator.sh" stop; rm -rf "$work"' EXIT

"$py" "$repo/scripts/emulator/seed_account.py" "$endpoint" fleet --prefix fleet --regions "$regions" --resources "$n" >"$work/fleet.json"
"$py" "$repo/scripts/emulator/seed_account.py" "$endpoint" bad --prefix bench --regions "$regions" >/dev/null
mkdir -p "$work/project"
"$helm" --root "$work/project" init -q >/dev/null
echo '{"version":"1.0.0","aws":{"account_id":"123456789012","region":"us-east-1"}}' >"$work/project/.fractary/shared/aws-credentials.json"

export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
unset AWS_REGION AWS_PROFILE

count() { wc -l <"$log" | tr -d ' '; }
now() { date +%s.%N; }

: >"$log"
start=$(now)
set +e
"$helm" --root "$work/project" audit --type all --scope account --regions "$regions" --format json >"$work/helm.json"
code=$?
set -e
helm_wall=$(echo "$(now) - $start" | bc)
helm_requests=$(count)

: >"$log"
start=$(now)
set +e
"$prowler_venv/bin/prowler" aws --region ${regions//,/ } --scan-unused-services --no-banner \
  --output-formats json-ocsf --output-directory "$work/prowler" --output-filename scan \
  --excluded-check awslambda_function_no_secrets_in_code >"$work/prowler.log" 2>&1
pcode=$?
set -e
prowler_wall=$(echo "$(now) - $start" | bc)
prowler_requests=$(count)

python3 - "$work/helm.json" "$work/prowler/scan.ocsf.json" "$work/fleet.json" <<'EOF'
import json, sys
helm = json.load(open(sys.argv[1]))
fails = {}
for sev in ("critical", "high", "medium", "low"):
    for f in helm["findings"]["by_severity"][sev]:
        fails[f["check"]] = fails.get(f["check"], 0) + 1
try:
    prow = json.load(open(sys.argv[2]))
except (OSError, ValueError) as e:
    prow = []
    print(f"prowler output unreadable: {e}")
pf, passed = {}, 0
for f in prow:
    if f.get("status_code") == "FAIL":
        c = f["metadata"]["event_code"]
        pf[c] = pf.get(c, 0) + 1
    elif f.get("status_code") == "PASS":
        passed += 1
print("seeded fleet:", open(sys.argv[3]).read().strip())
print(f"helm-cloud: {sum(fails.values())} failing findings, {len(fails)} failing checks; "
      f"{len(helm['checks_evaluated'])} catalogue checks evaluated; evaluation {helm['summary']['evaluation']}")
print("  " + ", ".join(f"{k} {v}" for k, v in sorted(fails.items())))
print(f"prowler:    {sum(pf.values())} FAIL findings, {len(pf)} failing checks, {passed} PASS findings")
print("  " + ", ".join(f"{k} {v}" for k, v in sorted(pf.items())))
EOF
echo "helm-cloud audit --type all --scope account: wall_s=$(printf %.2f "$helm_wall") requests=$helm_requests exit=$code"
echo "prowler aws ($(grep -c . "$work/prowler.log" || true) log lines):            wall_s=$(printf %.2f "$prowler_wall") requests=$prowler_requests exit=$pcode"
python3 -c "print(f'ratio: {$prowler_wall/$helm_wall:.1f}x faster, {$prowler_requests/max($helm_requests,1):.1f}x fewer requests (prowler / helm-cloud)')"
