"""Seed N resources of mixed kinds on the emulator and write a project whose `test`
environment registers them (for scripts/bench/kinds.sh).

    python3 seed_mixed_kinds.py ENDPOINT PROJECT N KIND[,KIND…]

KIND: sqs, dynamodb, s3, stepfunctions, eventbridge, alb, sns (round robin). Prints N."""
import json
import os
import sys

import boto3

endpoint, project, n, kinds = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split(",")
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
          aws_secret_access_key="bench")
acct = "123456789012"
sqs, ddb, s3 = boto3.client("sqs", **kw), boto3.client("dynamodb", **kw), boto3.client("s3", **kw)
sfn, ev = boto3.client("stepfunctions", **kw), boto3.client("events", **kw)
elb, sns = boto3.client("elbv2", **kw), boto3.client("sns", **kw)
subnets = []
if "alb" in kinds:
    ec2 = boto3.client("ec2", **kw)
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
               for i, az in enumerate(["us-east-1a", "us-east-1b"])]
definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
resources = []
for i in range(n):
    k = kinds[i % len(kinds)]
    name = f"mix-{k}-{i}"
    if k == "sqs":
        sqs.create_queue(QueueName=name)
        arn = f"arn:aws:sqs:us-east-1:{acct}:{name}"
    elif k == "dynamodb":
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
        arn = f"arn:aws:dynamodb:us-east-1:{acct}:table/{name}"
    elif k == "s3":
        s3.create_bucket(Bucket=name)
        arn = f"arn:aws:s3:::{name}"
    elif k == "stepfunctions":
        arn = sfn.create_state_machine(name=name, definition=definition,
                                       roleArn=f"arn:aws:iam::{acct}:role/sfn")["stateMachineArn"]
    elif k == "eventbridge":
        ev.put_rule(Name=name, ScheduleExpression="rate(1 day)", State="ENABLED")
        arn = f"arn:aws:events:us-east-1:{acct}:rule/{name}"
    elif k == "alb":
        arn = elb.create_load_balancer(Name=name, Subnets=subnets, Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
    elif k == "sns":
        arn = sns.create_topic(Name=name)["TopicArn"]
    else:
        raise SystemExit(f"unknown kind {k}")
    resources.append({"id": name, "type": k, "arn": arn})

def write(rel, text):
    path = os.path.join(project, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)

write(".fractary/registry/deployments.json",
      json.dumps({"deployments": [{"id": "mix", "environment": "test", "resources": resources}]}))
write(".fractary/shared/aws-credentials.json",
      json.dumps({"version": "1.0.0", "aws": {"account_id": acct, "region": "us-east-1"}}))
print(n)
