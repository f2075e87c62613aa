"""Seed the AWS emulator with the demo stack and print its deployment document.

The stack: three Lambda functions (one with an error spike in the last 15 minutes), an ECS
service, an RDS instance, an S3 bucket, a CloudFront distribution, an hour of CloudWatch
metrics, Lambda logs, and a security group open to the world on SSH. The deployment
document (FORMATS.md) goes to stdout so it can be piped into `helm-cloud registry add`.

Usage: seed.py ENDPOINT [ENVIRONMENT]
"""

import datetime as dt
import io
import json
import random
import sys
import zipfile

import boto3

ACCOUNT = "123456789012"
REGION = "us-east-1"


def main():
    endpoint = sys.argv[1]
    env = sys.argv[2] if len(sys.argv) > 2 else "test"
    rng = random.Random(42)  # the same stack and numbers every run
    kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id="demo", aws_secret_access_key="demo")
    now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    deployed_at = now - dt.timedelta(minutes=20)

    iam = boto3.client("iam", **kw)
    role = iam.create_role(
        RoleName=f"acme-lambda-{env}",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    )["Role"]["Arn"]

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return {'ok': True}\n")
    lam = boto3.client("lambda", **kw)
    functions = {"api": f"acme-api-{env}", "worker": f"acme-worker-{env}", "auth": f"acme-auth-{env}"}
    arns = {}
    for rid, name in functions.items():
        arns[rid] = lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler",
            Code={"ZipFile": buf.getvalue()}, MemorySize=256, Timeout=10,
            Environment={"Variables": {"STAGE": env, "LOG_LEVEL": "info"}},
        )["FunctionArn"]

    ec2 = boto3.client("ec2", **kw)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
    sg = ec2.create_security_group(GroupName=f"acme-bastion-{env}", Description="bastion (demo: open SSH)", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )

    ecs = boto3.client("ecs", **kw)
    cluster = f"acme-{env}"
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(
        family=f"acme-web-{env}", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{
            "name": "web", "image": "public.ecr.aws/nginx/nginx:latest", "essential": True,
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": f"/ecs/acme-web-{env}", "awslogs-region": REGION, "awslogs-stream-prefix": "web"}},
        }],
    )
    web = ecs.create_service(
        cluster=cluster, serviceName="web", taskDefinition=f"acme-web-{env}", desiredCount=2, launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [sg], "assignPublicIp": "DISABLED"}},
    )["service"]["serviceArn"]

    rds = boto3.client("rds", **kw)
    db = rds.create_db_instance(
        DBInstanceIdentifier=f"acme-orders-{env}", Engine="postgres", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
        MasterUsername="acme", MasterUserPassword="demo-password-not-secret",
    )["DBInstance"]["DBInstanceArn"]

    s3 = boto3.client("s3", **kw)
    bucket = f"acme-assets-{env}"
    s3.create_bucket(Bucket=bucket)

    cf = boto3.client("cloudfront", **kw)
    dist = cf.create_distribution(DistributionConfig={
        "CallerReference": f"acme-{env}", "Comment": "acme assets", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": f"{bucket}.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https", "MinTTL": 0,
                                  "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                                  "TrustedSigners": {"Enabled": False, "Quantity": 0}},
    })["Distribution"]["ARN"]

    # An hour of metrics, one datapoint per 5 minutes per metric: few, coarse points keep the
    # emulator's GetMetricData fast (EMULATOR.md). acme-api errors spike in the last 15 minutes.
    cw = boto3.client("cloudwatch", **kw)
    spike_start = now - dt.timedelta(minutes=15)
    for rid, name in functions.items():
        data = []
        for i in range(12):
            t = now - dt.timedelta(minutes=60 - 5 * i)
            invocations = 300 + rng.randint(0, 60)
            errors = rng.randint(30, 45) if (rid == "api" and t >= spike_start) else 0
            durations = [rng.gauss(70 if rid != "api" or t < spike_start else 900, 12) for _ in range(20)]
            dims = [{"Name": "FunctionName", "Value": name}]
            data += [
                {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": t, "Value": invocations, "Unit": "Count"},
                {"MetricName": "Errors", "Dimensions": dims, "Timestamp": t, "Value": errors, "Unit": "Count"},
                {"MetricName": "Throttles", "Dimensions": dims, "Timestamp": t, "Value": 0, "Unit": "Count"},
                {"MetricName": "Duration", "Dimensions": dims, "Timestamp": t, "Values": [max(1.0, d) for d in durations], "Unit": "Milliseconds"},
            ]
        for chunk in range(0, len(data), 20):
            cw.put_metric_data(Namespace="AWS/Lambda", MetricData=data[chunk:chunk + 20])
    ecs_dims = [{"Name": "ClusterName", "Value": cluster}, {"Name": "ServiceName", "Value": "web"}]
    rds_dims = [{"Name": "DBInstanceIdentifier", "Value": f"acme-orders-{env}"}]
    for i in range(12):
        t = now - dt.timedelta(minutes=60 - 5 * i)
        cw.put_metric_data(Namespace="AWS/ECS", MetricData=[
            {"MetricName": "CPUUtilization", "Dimensions": ecs_dims, "Timestamp": t, "Value": 35 + rng.random() * 10, "Unit": "Percent"},
            {"MetricName": "MemoryUtilization", "Dimensions": ecs_dims, "Timestamp": t, "Value": 50 + rng.random() * 5, "Unit": "Percent"},
        ])
        cw.put_metric_data(Namespace="AWS/RDS", MetricData=[
            {"MetricName": "CPUUtilization", "Dimensions": rds_dims, "Timestamp": t, "Value": 20 + rng.random() * 5, "Unit": "Percent"},
            {"MetricName": "DatabaseConnections", "Dimensions": rds_dims, "Timestamp": t, "Value": 40 + rng.randint(0, 10), "Unit": "Count"},
        ])

    # Logs: normal traffic everywhere, and the spike's errors on acme-api.
    logs = boto3.client("logs", **kw)
    for rid, name in functions.items():
        group = f"/aws/lambda/{name}"
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="2026/demo/[$LATEST]0001")
        events = []
        for i in range(0, 60, 2):
            t = now - dt.timedelta(minutes=60 - i)
            req = f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-8{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}"
            events.append((t, f"START RequestId: {req} Version: $LATEST"))
            if rid == "api" and t >= spike_start:
                events.append((t + dt.timedelta(seconds=1), f"[ERROR] OperationalError: connection to server at \"acme-orders-{env}.rds.amazonaws.com\" (10.0.3.12), port 5432 failed: FATAL: remaining connection slots are reserved"))
            else:
                events.append((t + dt.timedelta(seconds=1), f"[INFO] handled GET /orders/{rng.randint(1000, 9999)} in {rng.randint(40, 160)} ms"))
            events.append((t + dt.timedelta(seconds=2), f"END RequestId: {req}"))
            events.append((t + dt.timedelta(seconds=2), f"REPORT RequestId: {req}\tDuration: {rng.uniform(40, 160):.2f} ms\tBilled Duration: 200 ms\tMemory Size: 256 MB\tMax Memory Used: 81 MB"))
        logs.put_log_events(
            logGroupName=group, logStreamName="2026/demo/[$LATEST]0001",
            logEvents=[{"timestamp": int(t.timestamp() * 1000), "message": m} for t, m in events],
        )

    # Cost Explorer: 20 days of costs by service, with yesterday's Lambda bill jumping (the
    # error spike's retries). The launcher answers GetCostAndUsage from these.
    import urllib.request
    today = now.date()
    costs = []
    for i in range(1, 21):
        d = today - dt.timedelta(days=i)
        lam = 95.0 if i == 1 else 38.0 + rng.random() * 4
        costs += [{"date": d.isoformat(), "service": "AWS Lambda", "amount": round(lam, 2)},
                  {"date": d.isoformat(), "service": "Amazon Relational Database Service", "amount": 24.0},
                  {"date": d.isoformat(), "service": "Amazon Elastic Container Service", "amount": 14.5}]
    req = urllib.request.Request(endpoint + "/helm-emulator/ce/daily-costs", method="POST",
                                 data=json.dumps({"costs": costs}).encode())
    urllib.request.urlopen(req).read()

    def arn_kind(kind, arn, rid, **extra):
        return {"id": rid, "type": kind, "arn": arn, **extra}

    deployment = {
        "id": f"acme-{env}",
        "environment": env,
        "project": "acme",
        "region": REGION,
        "deployed_at": deployed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "deployed_by": "faber-cloud",
        "version": "1.4.2",
        "resources": [
            arn_kind("lambda", arns["api"], "api-lambda"),
            arn_kind("lambda", arns["worker"], "worker-lambda"),
            arn_kind("lambda", arns["auth"], "auth-lambda"),
            arn_kind("ecs", web, "web"),
            arn_kind("rds", db, "orders-db"),
            arn_kind("s3", f"arn:aws:s3:::{bucket}", "assets"),
            arn_kind("cloudfront", dist, "cdn"),
        ],
    }
    json.dump(deployment, sys.stdout, indent=2)
    print()
    print(f"seeded: 3 functions (acme-api errors spike since {spike_start:%H:%M} UTC), ECS web x2, RDS, S3, CloudFront, "
          f"security group {sg} open on 22", file=sys.stderr)


if __name__ == "__main__":
    main()
