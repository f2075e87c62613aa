#!/usr/bin/env bash
# Benchmark: `helm-cloud health` on an environment that spans ACCOUNTS accounts x 3
# regions x PER queues (each account reached by assuming its role), fanned out
# (--concurrency 8, the default) against the same work one account and region at a time
# (--concurrency 1), in one run. Requests are counted in the emulator's request log.
# Twice: straight to the emulator, and through the fault proxy with 50 ms added to every
# answer (an AWS round trip; moto answers from one Python process, so without latency it
# measures moto's CPU, not the waiting that fan-out overlaps).
#
#   bash scripts/bench/accounts.sh [ACCOUNTS=10] [PER=200]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
accounts="${1:-10}"; per="${2:-200}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/helm-cloud/target}"
cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p helm-cloud
helm="$CARGO_TARGET_DIR/release/helm-cloud"
py="$("$repo/scripts/emulator.sh" venv)"

work="$(mktemp -d)"
log="$work/requests.jsonl"
export HELM_EMULATOR_STATE="$work/emulator" HELM_EMULATOR_REQUEST_LOG="$log"
endpoint="$("$repo/scripts/emulator.sh" start)"
proxy_pid=""
trap '[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null; "$repo/scripts/emulator.sh" stop; rm -rf "$work"' EXIT

n=$("$py" "$repo/scripts/bench/seed_accounts.py" "$endpoint" "$work/project" "$accounts" \
  us-east-1,eu-west-1,ap-southeast-2 "$per")
echo "fleet: $n queues in $accounts accounts x 3 regions"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
unset AWS_REGION AWS_PROFILE

run() { # ENDPOINT CONCURRENCY -> "seconds requests"
  : >"$log"
  local s e
  s=$(date +%s.%N)
  AWS_ENDPOINT_URL="$1" "$helm" --root "$work/project" health --format json --concurrency "$2" >"$work/h.json" || true
  e=$(date +%s.%N)
  python3 -c "import json; r=json.load(open('$work/h.json')); assert len(r['results'])==$n, len(r['results'])"
  echo "$(echo "$e - $s" | bc) $(wc -l <"$log" | tr -d ' ')"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # LABEL ENDPOINT
  local fan=() one=() req_fan req_one
  for _ in 1 2 3; do
    read -r t req_fan < <(run "$2" 8); fan+=("$t")
    read -r t req_one < <(run "$2" 1); one+=("$t")
  done
  local mf mo
  mf=$(printf '%s\n' "${fan[@]}" | median); mo=$(printf '%s\n' "${one[@]}" | median)
  printf '%s: fanned out (8) %.2f s, %s requests | one account x region at a time %.2f s, %s requests | %.1fx faster, requests ratio %s\n' \
    "$1" "$mf" "$req_fan" "$mo" "$req_one" "$(echo "$mo / $mf" | bc -l)" "$(echo "scale=2; $req_one / $req_fan" | bc)"
}
measure "emulator" "$endpoint"

port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
"$py" "$repo/scripts/emulator/faultproxy.py" --port "$port" --upstream "$endpoint" --rules "* latency 50ms" 2>"$work/proxy.log" &
proxy_pid=$!
for _ in $(seq 1 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port))" 2>/dev/null && break; sleep 0.1; done
measure "emulator + 50 ms per answer" "http://127.0.0.1:$port"
