"""Seed a fleet of N resources of mixed kinds for the health benchmark; print its registry.

usage: seed_health_fleet.py ENDPOINT N > deployments.json

The mix is a serverless-heavy estate: 30% Lambda, 12.5% ECS, 7.5% RDS, 12.5% S3,
7.5% CloudFront, 7.5% API Gateway, 12.5% DynamoDB, 10% SQS. Each resource gets one
datapoint per metric in the last hour (few, coarse points, as EMULATOR.md advises), and
every tenth Lambda an error spike, so the run has real work to do.
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MIX = [("lambda", 0.30), ("ecs", 0.125), ("rds", 0.075), ("s3", 0.125), ("cloudfront", 0.075),
       ("apigateway", 0.075), ("dynamodb", 0.125), ("sqs", 0.10)]


def main():
    endpoint, n = sys.argv[1], int(sys.argv[2])
    counts = {k: int(round(n * share)) for k, share in MIX}
    counts["lambda"] += n - sum(counts.values())
    spec = {"lambdas": [], "ecs": [], "rds": [], "buckets": [], "distributions": [], "apis": [], "tables": [], "queues": [], "metrics": []}

    def metric(ns, name, dims, value):
        spec["metrics"].append({"namespace": ns, "name": name, "dimensions": dims, "value": value})

    for i in range(counts["lambda"]):
        name = f"fleet-fn-{i:03d}"
        spec["lambdas"].append({"name": name})
        d = {"FunctionName": name}
        metric("AWS/Lambda", "Invocations", d, 1000)
        metric("AWS/Lambda", "Errors", d, 40 if i % 10 == 0 else 0)
        metric("AWS/Lambda", "Duration", d, 80)
    for i in range(counts["ecs"]):
        spec["ecs"].append({"cluster": "fleet", "service": f"fleet-svc-{i:03d}", "desired": 2})
        d = {"ClusterName": "fleet", "ServiceName": f"fleet-svc-{i:03d}"}
        metric("AWS/ECS", "CPUUtilization", d, 35)
        metric("AWS/ECS", "MemoryUtilization", d, 50)
    for i in range(counts["rds"]):
        spec["rds"].append({"id": f"fleet-db-{i:03d}"})
        metric("AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": f"fleet-db-{i:03d}"}, 20)
    for i in range(counts["s3"]):
        spec["buckets"].append({"name": f"fleet-bucket-{i:03d}"})
    for i in range(counts["cloudfront"]):
        spec["distributions"].append({"ref": f"fleet-cdn-{i:03d}"})
    for i in range(counts["apigateway"]):
        spec["apis"].append({"name": f"fleet-api-{i:03d}", "stage": "test"})
        metric("AWS/ApiGateway", "Count", {"ApiName": f"fleet-api-{i:03d}", "Stage": "test"}, 500)
    for i in range(counts["dynamodb"]):
        spec["tables"].append({"name": f"fleet-table-{i:03d}"})
        metric("AWS/DynamoDB", "SuccessfulRequestLatency", {"TableName": f"fleet-table-{i:03d}"}, 4)
    for i in range(counts["sqs"]):
        spec["queues"].append({"name": f"fleet-queue-{i:03d}"})
        metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": f"fleet-queue-{i:03d}"}, 3)

    seeder = os.path.join(HERE, "..", "emulator", "seed_fixtures.py")
    out = subprocess.run([sys.executable, seeder, endpoint], input=json.dumps(spec), capture_output=True, text=True, check=True)
    created = json.loads(out.stdout)
    acct, region = "123456789012", "us-east-1"
    resources = []
    resources += [{"id": f["name"], "type": "lambda", "arn": created["lambda"][f["name"]]} for f in spec["lambdas"]]
    resources += [{"id": s["service"], "type": "ecs", "arn": created["ecs"][s["service"]]} for s in spec["ecs"]]
    resources += [{"id": d["id"], "type": "rds", "arn": created["rds"][d["id"]]} for d in spec["rds"]]
    resources += [{"id": b["name"], "type": "s3", "arn": f"arn:aws:s3:::{b['name']}"} for b in spec["buckets"]]
    resources += [{"id": d["ref"], "type": "cloudfront", "arn": created["distributions"][d["ref"]]["arn"]} for d in spec["distributions"]]
    resources += [{"id": a["name"], "type": "apigateway", "name": a["name"], "stage": "test",
                   "arn": f"arn:aws:apigateway:{region}::/restapis/{created['apis'][a['name']]}"} for a in spec["apis"]]
    resources += [{"id": t["name"], "type": "dynamodb", "arn": f"arn:aws:dynamodb:{region}:{acct}:table/{t['name']}"} for t in spec["tables"]]
    resources += [{"id": q["name"], "type": "sqs", "arn": f"arn:aws:sqs:{region}:{acct}:{q['name']}"} for q in spec["queues"]]
    registry = {"version": "1.0.0", "deployments": [{"id": "fleet-test", "environment": "test", "region": region,
                                                     "deployed_at": "2026-01-01T00:00:00Z", "resources": resources}]}
    json.dump(registry, sys.stdout, indent=1)
    print(f"seeded {len(resources)} resources: {counts}", file=sys.stderr)


if __name__ == "__main__":
    main()
