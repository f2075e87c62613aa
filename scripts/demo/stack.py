"""The demo's CloudFormation stack `shop`, deployed without faber-cloud: a queue, a Kinesis
stream, an Auto Scaling group (and its launch template), an Application Load Balancer with a
target group, so `registry import --cloudformation shop` has something to adopt.

    python3 stack.py ENDPOINT            create the stack
    python3 stack.py ENDPOINT --break    delete its stream behind CloudFormation's back
"""
import json
import sys

import boto3

endpoint = sys.argv[1]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="demo",
          aws_secret_access_key="demo")
if "--break" in sys.argv:
    boto3.client("kinesis", **kw).delete_stream(StreamName="shop-clicks")
    sys.exit(0)
ec2 = boto3.client("ec2", **kw)
vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
           for i, az in enumerate(["us-east-1a", "us-east-1b"])]
template = {"Resources": {
    "Orders": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "shop-orders"}},
    "Clicks": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": "shop-clicks", "ShardCount": 1}},
    "WorkerTemplate": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {
        "LaunchTemplateName": "shop-workers",
        "LaunchTemplateData": {"ImageId": "ami-0abcdef1234567890", "InstanceType": "t3.micro",
                               "MetadataOptions": {"HttpTokens": "required"}}}},
    "Workers": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {
        "AutoScalingGroupName": "shop-workers", "MinSize": "1", "MaxSize": "4", "DesiredCapacity": "1",
        "VPCZoneIdentifier": [subnets[0]],
        "LaunchTemplate": {"LaunchTemplateId": {"Ref": "WorkerTemplate"},
                           "Version": {"Fn::GetAtt": ["WorkerTemplate", "LatestVersionNumber"]}}}},
    "Front": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
        "Name": "shop-front", "Subnets": subnets, "Type": "application"}},
    "Web": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {
        "Name": "shop-web", "Protocol": "HTTP", "Port": 80, "VpcId": vpc, "TargetType": "ip"}},
    "Http": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
        "LoadBalancerArn": {"Ref": "Front"}, "Protocol": "HTTP", "Port": 80,
        "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Web"}}]}},
}}
boto3.client("cloudformation", **kw).create_stack(StackName="shop", TemplateBody=json.dumps(template))
# The emulator's CloudFormation does not register a target group's Targets.
elb = boto3.client("elbv2", **kw)
web = elb.describe_target_groups(Names=["shop-web"])["TargetGroups"][0]["TargetGroupArn"]
elb.register_targets(TargetGroupArn=web, Targets=[{"Id": "10.42.0.10", "Port": 80}])
print("shop")
