#!/usr/bin/env bash
# The demo: helm-cloud against a local AWS emulator with a demo stack. No AWS account needed.
#
#   bash scripts/demo.sh [PROJECT_DIR]     (default: ./demo-project, recreated each run)
#
# It builds helm-cloud, creates the emulator's Python venv (once, cached), starts the
# emulator on a free loopback port, seeds the demo stack (scripts/demo/seed.py), writes a
# .fractary/ project for it, runs the helm-cloud commands that exist, and stops the
# emulator. Set HELM_DEMO_KEEP=1 to leave the emulator running (its endpoint is printed).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
project="${1:-$repo/demo-project}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/helm-cloud/target}"
export HELM_EMULATOR_STATE="${HELM_EMULATOR_STATE:-${HELM_CACHE:-$HOME/.cache/helm-cloud}/emulator-demo}"

command -v cargo >/dev/null || { echo "demo: cargo is needed (https://rustup.rs)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "demo: python3 is needed" >&2; exit 1; }

echo "==> building helm-cloud (the first build takes a while; later ones seconds)" >&2
# Exactly what scripts/test.sh builds: the same units with the same features, so the test
# command reuses every artifact (building `-p helm-cloud` alone leaves out the dev-only
# crates whose features, unified into serde and aws-smithy-http-client, made the tests
# rebuild every AWS SDK crate).
cargo build --quiet --manifest-path "$repo/Cargo.toml" --workspace --all-targets
helm="$CARGO_TARGET_DIR/debug/helm-cloud"

py="$("$repo/scripts/emulator.sh" venv)"
"$repo/scripts/emulator.sh" stop
endpoint="$("$repo/scripts/emulator.sh" start)"
if [ -z "${HELM_DEMO_KEEP:-}" ]; then
  trap '"$repo/scripts/emulator.sh" stop' EXIT
fi
echo "==> emulator at $endpoint" >&2

# Everything below talks to the emulator only.
export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
export HELM_ROOT="$project"

rm -rf "$project"
mkdir -p "$project"
step() { printf '\n\033[1m$ helm-cloud %s\033[0m\n' "$*"; }

step init
"$helm" init

echo "==> seeding the demo stack" >&2
cat >"$project/.fractary/shared/aws-credentials.json" <<JSON
{ "version": "1.0.0",
  "aws": { "account_id": "123456789012", "region": "us-east-1", "profiles": {} } }
JSON
"$py" "$repo/scripts/demo/seed.py" "$endpoint" test >"$project/deployment-acme-test.json"

step registry add --file deployment-acme-test.json
"$helm" registry add --file "$project/deployment-acme-test.json"

step registry list --env test
"$helm" registry list --env test

step config validate --aws
"$helm" config validate --aws

step config show --env test
"$helm" config show --env test | head -12
echo "  … (helm-cloud config show --format json for everything)"

# health exits 0/1/2/3 by the worst resource; the demo stack is UNHEALTHY on purpose.
step health --env test
"$helm" health --env test || echo "(exit code $?: 2 = UNHEALTHY)"

# Alerts: a local "on-call" server that checks Slack's and PagerDuty's documented contracts
# and prints what it receives; the secrets are only in this shell's environment.
"$py" "$repo/scripts/contracts/alert_server.py" --print \
  --pagerduty-openapi "$repo/crates/helm-cloud/tests/it/fixtures/contracts/pagerduty-events-v2.openapi.json" \
  >"$project/on-call.log" &
oncall=$!
if [ -z "${HELM_DEMO_KEEP:-}" ]; then
  trap 'kill $oncall 2>/dev/null; "$repo/scripts/emulator.sh" stop' EXIT
fi
for _ in $(seq 50); do grep -q listening "$project/on-call.log" 2>/dev/null && break; sleep 0.1; done
oncall_url="$(sed -n 's/^listening on //p' "$project/on-call.log")"
cat >>"$project/.fractary/plugins/helm-cloud/config/monitoring.toml" <<TOML

[notifications.slack-ops]
type = "slack"
url_env = "SLACK_WEBHOOK_URL"

[notifications.pagerduty-infra-oncall]
type = "pagerduty"
routing_key_env = "PAGERDUTY_ROUTING_KEY"
min_severity = "HIGH"
TOML
export SLACK_WEBHOOK_URL="$oncall_url/slack/T000/B000/demo" PAGERDUTY_ROUTING_KEY=0123456789abcdef0123456789abcdef
export HELM_PAGERDUTY_EVENTS_URL="$oncall_url/pagerduty/v2"

step health --env test --notify "  (what changed goes to [escalation] channels and on_call_schedule)"
"$helm" health --env test --notify >/dev/null || true
sed 's/^/  on-call server received: /' "$project/on-call.log" | grep -v listening | head -8

step health --env test --notify "  (the same issues again: nobody is told twice)"
"$helm" health --env test --notify >/dev/null || true
echo "  on-call server: $(grep -vc listening "$project/on-call.log") messages in all (no new ones)"

step notify status
"$helm" notify status || true

step metrics --service api-lambda --metric Duration --env test
"$helm" metrics --service api-lambda --metric Duration --env test

step performance --service api-lambda --timeframe 2h --env test
"$helm" performance --service api-lambda --timeframe 2h --env test

step slo --env test "  (error budgets and burn-rate alerts; exit 2 = a page)"
"$helm" slo --env test || echo "(exit code $?: 0 ok, 1 ticket, 2 page, 3 insufficient data)"

step watch --once --no-remediate "  (one cycle of the loop: health, issues, SLOs, escalation)"
"$helm" watch --once --no-remediate --env test || echo "(exit code $?: as health's)"

step logs --service api-lambda --filter ERROR --since 30m --limit 3 --env test
"$helm" logs --service api-lambda --filter ERROR --since 30m --limit 3 --env test

# The issue health opened for the error rate, investigated: logs, timeline, root cause.
issue="$("$helm" health --env test --format json | python3 -c 'import json,sys; print(next(i["issue_id"] for i in json.load(sys.stdin)["issues"] if i["resource"] == "api-lambda"))' || true)"
step investigate --issue "$issue" --env test
"$helm" investigate --issue "$issue" --env test

# Remediation: a dry run first (nothing changes), then the restart the policy allows in
# test without a prompt (restart_lambda is in auto_remediate; prod would ask).
step remediate --issue "$issue" --dry-run --env test
"$helm" remediate --issue "$issue" --dry-run --env test

step remediate --issue "$issue" --env test
"$helm" remediate --issue "$issue" --env test

step remediate "scale web to 4 tasks" --env test   "(needs confirmation: refused without a terminal or --yes)"
"$helm" remediate "scale web to 4 tasks" --env test </dev/null || echo "(exit code $?: 4 = refused by policy)"

step remediate --action scale_resources --service web --value 4294967296 --yes --env test "  (checked against ECS's range before any AWS call)"
"$helm" remediate --action scale_resources --service web --value 4294967296 --yes --env test || echo "(exit code $?: 64 = a value out of range; nothing changed)"

step -v health --service web --env test "  (-v: every AWS call on stderr)"
"$helm" -v health --service web --env test >/dev/null || true

# Audits: cost (Cost Explorer, cached for the day, and waste), then security (the demo's
# security group is open to the world on SSH: critical).
step audit --type cost --env test
"$helm" audit --type cost --env test || echo "(exit code $?: 2 = error: a spike and the daily budget)"

step audit --type security --env test
"$helm" audit --type security --env test || echo "(exit code $?: 3 = critical)"

step audit --type compliance --env test
"$helm" audit --type compliance --env test | head -12 || true

# The whole account, not only the registry: every region's volumes, snapshots, databases,
# keys, log groups, functions, secrets, security groups and ACLs, and the account's IAM,
# buckets and trails; then the CIS v3.0.0 view, a SARIF export and what changed since.
step audit --type security --scope account --regions us-east-1 --env test
"$helm" audit --type security --scope account --regions us-east-1 --env test | grep -E '^(security|[A-Z]+ +|  not evaluated)' | head -24 || true

step audit --type compliance --framework cis-3.0 --scope account --regions us-east-1 --env test
"$helm" audit --type compliance --framework cis-3.0 --scope account --regions us-east-1 --env test | grep -E '^(CIS|  [0-9.]+ )' | head -16 || true

step audit --type security --scope account --regions us-east-1 --output sarif --env test
"$helm" audit --type security --scope account --regions us-east-1 --output sarif --env test | head -12 || true

step audit --type security --scope account --regions us-east-1 --since-last --env test
"$helm" audit --type security --scope account --regions us-east-1 --since-last --env test | grep -A6 '^audit diff' || true

# Adoption without faber-cloud: a CloudFormation stack deployed by hand becomes a
# deployment (its Auto Scaling group's ARN and its target group's balancer read back), is
# judged like the rest, and drift names what was deleted behind its back.
"$py" "$repo/scripts/demo/stack.py" "$endpoint" >/dev/null
step registry import --cloudformation shop --dry-run --env test
"$helm" registry import --cloudformation shop --dry-run --env test || true

step registry import --cloudformation shop --env test
"$helm" registry import --cloudformation shop --env test || true

for id in Workers Web Clicks; do
  step health --service "$id" --env test
  "$helm" health --service "$id" --env test || true
done

step remediate --action scale_resources --service Workers --value 2 --yes --env test "  (an Auto Scaling group: within its MinSize..MaxSize)"
"$helm" remediate --action scale_resources --service Workers --value 2 --yes --env test || true

"$py" "$repo/scripts/demo/stack.py" "$endpoint" --break
step registry drift --env test "  (the stream was deleted behind CloudFormation's back; exit 1 = drift)"
"$helm" registry drift --env test || echo "(exit code $?)"

# Central Helm: the issues health opened, the board, a work item, plain language, the old form.
step issues --env test
"$helm" issues --env test

step dashboard --env test
"$helm" dashboard --env test || true

step dashboard --env test --format voice
"$helm" dashboard --env test --format voice || true

step status
"$helm" status || true

step escalate "$issue"
"$helm" escalate "$issue"

step ask "is the api-lambda healthy in test?" --explain
"$helm" ask "is the api-lambda healthy in test?" --explain

step ops-manage check-health --env=test --service=web "  (the retired form: a notice on stderr, then health)"
"$helm" ops-manage check-health --env=test --service=web || true

echo
echo "\$ an MCP agent (Python's mcp client) drives helm-cloud mcp: tools, status, a remediation plan"
"$py" "$repo/crates/helm-cloud/tests/it/mcp_client.py" \
    '{"handshake": "initialize", "elicit": null, "calls": [["status", {}], ["remediate_plan", {"action": "restart_lambda", "service": "api-lambda", "env": "test"}]]}' \
    "$helm" | "$py" -c '
import json, sys
out = json.load(sys.stdin)
print("tools:", ", ".join(t["name"] for t in out["tools"]), "(protocol", out["protocol"] + ")")
for c in out["calls"]:
    print("--", c["tool"], "error" if c["is_error"] else "ok")
    print(c["text"][0])
' || true

echo
echo "==> team scale: the project's state moves to S3, and a team-mate's clone shares it"
"$py" -c "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1]).create_bucket(Bucket='acme-helm-state')" "$endpoint"
cfg="$project/.fractary/plugins/helm-cloud/config/monitoring.toml"
sed -i -e 's/^backend = "local"/backend = "s3"/' -e 's/^bucket = ""/bucket = "acme-helm-state"/' "$cfg"
step state migrate --to s3 "  (once, before the team shares it)"
"$helm" state migrate --to s3 | head -3
mate="$project-mate"
rm -rf "$mate" && mkdir -p "$mate/.fractary/plugins/helm-cloud"
cp -r "$project/.fractary/shared" "$mate/.fractary/"
cp -r "$project/.fractary/plugins/helm-cloud/config" "$mate/.fractary/plugins/helm-cloud/"
step -v issues --env test "  (in the team-mate's clone, which has only the configuration: pulled from S3)"
HELM_ROOT="$mate" "$helm" -v issues --env test || true
step -v health --service api-lambda --env test "  (the team-mate's run: its report and issue updates are pushed)"
HELM_ROOT="$mate" "$helm" -v health --service api-lambda --env test || true
step state status
"$helm" state status

echo
echo "Demo project: $project"
if [ -n "${HELM_DEMO_KEEP:-}" ]; then
  echo "Emulator left running at $endpoint: export AWS_ENDPOINT_URL=$endpoint AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo HELM_ROOT=$project"
  echo "Stop it with: HELM_EMULATOR_STATE=$HELM_EMULATOR_STATE scripts/emulator.sh stop"
fi
