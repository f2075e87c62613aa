"""Seed N resources of mixed kinds on the emulator and write a project whose `test`
environment registers them (for scripts/bench/kinds.sh).

    python3 seed_mixed_kinds.py ENDPOINT PROJECT N KIND[,KIND…]

KIND: sqs, dynamodb, s3, stepfunctions, eventbridge, alb, sns, nlb, targetgroup, kinesis,
elasticache, asg (round robin). Prints N."""
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
kin, ec = boto3.client("kinesis", **kw), boto3.client("elasticache", **kw)
asg = boto3.client("autoscaling", **kw)
subnets = []
vpc = None
front = None
if {"alb", "nlb", "targetgroup", "asg"} & set(kinds):
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
    elif k == "nlb":
        # The emulator writes loadbalancer/app/ for every balancer; AWS writes net/.
        arn = elb.create_load_balancer(Name=name, Subnets=subnets, Type="network")["LoadBalancers"][0]["LoadBalancerArn"]
        arn = arn.replace(":loadbalancer/app/", ":loadbalancer/net/")
    elif k == "targetgroup":
        if front is None:
            front = elb.create_load_balancer(Name="mix-front", Subnets=subnets, Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
        arn = elb.create_target_group(Name=name[:32], Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "10.8.0.10", "Port": 80}])
        resources.append({"id": name, "type": k, "arn": arn, "load_balancer_arn": front})
        continue
    elif k == "kinesis":
        kin.create_stream(StreamName=name, ShardCount=1)
        arn = f"arn:aws:kinesis:us-east-1:{acct}:stream/{name}"
    elif k == "elasticache":
        ec.create_cache_cluster(CacheClusterId=name, Engine="redis", CacheNodeType="cache.t3.micro", NumCacheNodes=1)
        arn = f"arn:aws:elasticache:us-east-1:{acct}:cluster:{name}"
    elif k == "asg":
        if not any(t["LaunchTemplateName"] == "mix" for t in ec2.describe_launch_templates()["LaunchTemplates"]):
            ec2.create_launch_template(LaunchTemplateName="mix", LaunchTemplateData={"ImageId": "ami-0abcdef1234567890", "InstanceType": "t3.micro"})
        asg.create_auto_scaling_group(AutoScalingGroupName=name, LaunchTemplate={"LaunchTemplateName": "mix"},
                                      MinSize=0, MaxSize=2, DesiredCapacity=0, VPCZoneIdentifier=subnets[0])
        arn = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]["AutoScalingGroupARN"]
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
