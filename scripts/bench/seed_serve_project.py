"""Write a .fractary/ project for the `serve` benchmark, in the files' own formats: a
registry of R Lambda functions in `test`, I active issues, and N health reports (one every
5 minutes, each judging every resource), as `health` writes them.

usage: seed_serve_project.py DIR RESOURCES ISSUES REPORTS
"""

import datetime as dt
import json
import os
import sys

root, n_res, n_issues, n_reports = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
f = os.path.join(root, ".fractary")
for d in ["registry", "shared", "helm/issues/active", "helm/issues/resolved",
          "plugins/helm-cloud/monitoring/test", "plugins/helm-cloud/config"]:
    os.makedirs(os.path.join(f, d), exist_ok=True)
arn = lambda i: f"arn:aws:lambda:us-east-1:123456789012:function:fn-{i}"  # noqa: E731
json.dump({"version": "1.0.0", "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z", "deployments": [{
    "id": "bench", "environment": "test", "project": "bench", "deployed_at": "2026-11-01T00:00:00Z",
    "resources": [{"id": f"fn-{i}", "type": "lambda", "arn": arn(i)} for i in range(n_res)]}]},
    open(os.path.join(f, "registry/deployments.json"), "w"))
json.dump({"version": "1.0.0", "aws": {"account_id": "123456789012", "region": "us-east-1"}},
          open(os.path.join(f, "shared/aws-credentials.json"), "w"))
json.dump({"version": "1.0.0", "environments": {
    "test": {"name": "test", "description": "bench", "requires_confirmation": False},
    "prod": {"name": "prod", "description": "bench", "requires_confirmation": True}}},
          open(os.path.join(f, "shared/environments.json"), "w"))
now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
sev = ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
for i in range(n_issues):
    t = now - dt.timedelta(minutes=i)
    r = f"fn-{i % n_res}"
    json.dump({
        "id": f"infra-{i + 1:03d}", "domain": "infrastructure", "severity": sev[i % 4],
        "title": f"Lambda error rate exceeds SLO on {r}", "description": f"{r}: error rate 2% > SLO 0.1%",
        "slo_breach": i % 3 == 0, "detected_at": iso(t), "environment": "test", "affected_resources": [r],
        "metrics": {"metric": "Errors"}, "work_item_id": None, "status": "active",
        "fingerprint": f"test/{r}/error_rate-{i}", "last_seen_at": iso(t), "occurrences": 1,
        "resolved_at": None, "escalated_at": None, "source": "health",
        "history": [{"at": iso(t), "event": "opened", "detail": "bench"}],
    }, open(os.path.join(f, f"helm/issues/active/infra-{i + 1:03d}.json"), "w"))
json.dump({"infra": n_issues}, open(os.path.join(f, "helm/issues/sequence.json"), "w"))
for k in range(n_reports):
    t = now - dt.timedelta(minutes=5 * (n_reports - k))
    results = [{"id": f"fn-{i}", "type": "lambda", "name": f"fn-{i}", "arn": arn(i),
                "status": "UNHEALTHY" if (i + k) % 97 == 0 else "HEALTHY", "reasons": [],
                "metrics": {"invocations": 100, "errors": (i + k) % 3, "error_rate_percent": ((i + k) % 3) / 100,
                            "duration_p95_ms": 100 + (i * k) % 50}, "alarms": []} for i in range(n_res)]
    unhealthy = sum(r["status"] == "UNHEALTHY" for r in results)
    json.dump({"overall_health": "UNHEALTHY" if unhealthy else "HEALTHY", "environment": "test",
               "timestamp": iso(t), "window": {"start": iso(t - dt.timedelta(minutes=15)), "end": iso(t)},
               "resources": {"total": n_res, "healthy": n_res - unhealthy, "degraded": 0,
                             "unhealthy": unhealthy, "unknown": 0},
               "results": results, "issues": [], "recommendations": []},
              open(os.path.join(f, "plugins/helm-cloud/monitoring/test", t.strftime("%Y%m%dT%H%M%SZ") + "-health-check.json"), "w"))
print(f"seeded {n_res} resources, {n_issues} issues, {n_reports} reports under {root}")
