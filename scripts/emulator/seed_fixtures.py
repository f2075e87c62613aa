"""Seed the emulator with resources, metrics and alarms described by a JSON document on
stdin; print what was created (ARNs and ids) as JSON. Used by the Rust tests and the
benchmarks, so fixtures are made through the real AWS APIs (boto3) and not by hand.

usage: seed_fixtures.py ENDPOINT < spec.json

spec: {
  "region": "us-east-1",
  "assume_role": "arn:aws:iam::111111111111:role/r",   (seed in that role's account)
  "lambdas":    [{"name": "f", "memory": 256, "env": {"K": "V"}}],
  "ecs":        [{"cluster": "c", "service": "s", "desired": 2, "log_group": "/ecs/s"}],
  "rds":        [{"id": "db", "stopped": false}],
  "buckets":    [{"name": "b"}],
  "tables":     [{"name": "t"}],
  "queues":     [{"name": "q"}],
  "distributions": [{"ref": "cdn", "enabled": true}],
  "apis":       [{"name": "api", "stage": "test"}],
  "metrics":    [{"namespace": "AWS/Lambda", "name": "Errors", "dimensions": {"FunctionName": "f"},
                  "value": 3, "values": [..], "minutes_ago": 10, "unit": "Count"}],
  "alarms":     [{"name": "a", "namespace": "AWS/Lambda", "metric": "Errors",
                  "dimensions": {"FunctionName": "f"}, "state": "ALARM"}],
  "log_events": [{"group": "/aws/lambda/f", "stream": "s", "messages": ["..."], "minutes_ago": 5}]
}
"""

import datetime as dt
import io
import json
import sys
import zipfile

import boto3


def main():
    endpoint = sys.argv[1]
    spec = json.load(sys.stdin)
    region = spec.get("region", "us-east-1")
    kw = dict(endpoint_url=endpoint, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
    if spec.get("assume_role"):
        # moto gives an assumed role's credentials the role's account.
        c = boto3.client("sts", **kw).assume_role(RoleArn=spec["assume_role"], RoleSessionName="seed")["Credentials"]
        kw.update(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                  aws_session_token=c["SessionToken"])
    out = {"lambda": {}, "ecs": {}, "rds": {}, "distributions": {}, "apis": {}, "queues": {}}
    now = dt.datetime.now(dt.timezone.utc)

    if spec.get("lambdas"):
        iam = boto3.client("iam", **kw)
        try:
            role = iam.create_role(RoleName="helm-test-lambda", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            # Tests seed in parallel: another one made it first.
            role = iam.get_role(RoleName="helm-test-lambda")["Role"]["Arn"]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("index.py", "def handler(e, c):\n    return 1\n")
        lam = boto3.client("lambda", **kw)
        for f in spec["lambdas"]:
            out["lambda"][f["name"]] = lam.create_function(
                FunctionName=f["name"], Runtime=f.get("runtime", "python3.12"), Role=role, Handler="index.handler",
                Code={"ZipFile": buf.getvalue()}, MemorySize=f.get("memory", 128),
                Environment={"Variables": f.get("env", {})},
            )["FunctionArn"]
            if f.get("url_auth"):
                lam.create_function_url_config(FunctionName=f["name"], AuthType=f["url_auth"])

    if spec.get("ecs"):
        ecs = boto3.client("ecs", **kw)
        for s in spec["ecs"]:
            ecs.create_cluster(clusterName=s["cluster"])
            container = {"name": "app", "image": "nginx", "memory": 128}
            if s.get("log_group"):
                container["logConfiguration"] = {"logDriver": "awslogs", "options": {
                    "awslogs-group": s["log_group"], "awslogs-region": region, "awslogs-stream-prefix": "app"}}
            ecs.register_task_definition(family=s["service"], containerDefinitions=[container])
            out["ecs"][s["service"]] = ecs.create_service(
                cluster=s["cluster"], serviceName=s["service"], taskDefinition=s["service"], desiredCount=s.get("desired", 2),
            )["service"]["serviceArn"]

    if spec.get("rds"):
        rds = boto3.client("rds", **kw)
        for d in spec["rds"]:
            out["rds"][d["id"]] = rds.create_db_instance(
                DBInstanceIdentifier=d["id"], Engine="postgres", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                MasterUsername="u", MasterUserPassword="password-for-tests",
                PubliclyAccessible=d.get("public", False), StorageEncrypted=d.get("encrypted", True),
            )["DBInstance"]["DBInstanceArn"]
            if d.get("stopped"):
                rds.stop_db_instance(DBInstanceIdentifier=d["id"])

    if spec.get("buckets"):
        s3 = boto3.client("s3", **kw)
        for b in spec["buckets"]:
            if region == "us-east-1":
                s3.create_bucket(Bucket=b["name"])
            else:
                s3.create_bucket(Bucket=b["name"], CreateBucketConfiguration={"LocationConstraint": region})
            if b.get("public_policy"):
                s3.put_bucket_policy(Bucket=b["name"], Policy=json.dumps({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b['name']}/*"}]}))
            if b.get("public_acl"):
                s3.put_bucket_acl(Bucket=b["name"], ACL="public-read")
            if b.get("public_access_block"):
                s3.put_public_access_block(Bucket=b["name"], PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
            if b.get("encryption"):
                s3.put_bucket_encryption(Bucket=b["name"], ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})

    if spec.get("tables"):
        ddb = boto3.client("dynamodb", **kw)
        for t in spec["tables"]:
            ddb.create_table(TableName=t["name"], KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")

    if spec.get("queues"):
        sqs = boto3.client("sqs", **kw)
        for q in spec["queues"]:
            out["queues"][q["name"]] = sqs.create_queue(QueueName=q["name"])["QueueUrl"]

    if spec.get("distributions"):
        cf = boto3.client("cloudfront", **kw)
        for d in spec["distributions"]:
            dist = cf.create_distribution(DistributionConfig={
                "CallerReference": d["ref"], "Comment": d["ref"], "Enabled": d.get("enabled", True),
                "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "example.com",
                                                      "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
                "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all", "MinTTL": 0,
                                          "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                                          "TrustedSigners": {"Enabled": False, "Quantity": 0}},
            })["Distribution"]
            out["distributions"][d["ref"]] = {"id": dist["Id"], "arn": dist["ARN"]}

    if spec.get("apis"):
        apigw = boto3.client("apigateway", **kw)
        for a in spec["apis"]:
            api = apigw.create_rest_api(name=a["name"])
            root = [r for r in apigw.get_resources(restApiId=api["id"])["items"] if r["path"] == "/"][0]["id"]
            apigw.put_method(restApiId=api["id"], resourceId=root, httpMethod="GET", authorizationType="NONE")
            apigw.put_integration(restApiId=api["id"], resourceId=root, httpMethod="GET", type="MOCK")
            dep = apigw.create_deployment(restApiId=api["id"])
            if a.get("stage"):
                apigw.create_stage(restApiId=api["id"], stageName=a["stage"], deploymentId=dep["id"])
            out["apis"][a["name"]] = api["id"]

    if spec.get("security_groups"):
        ec2 = boto3.client("ec2", **kw)
        vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        out["security_groups"] = {}
        for g in spec["security_groups"]:
            gid = ec2.create_security_group(GroupName=g["name"], Description=g["name"], VpcId=vpc)["GroupId"]
            perms = [{"IpProtocol": r.get("protocol", "tcp"), "FromPort": r["port"], "ToPort": r.get("to_port", r["port"]),
                      "IpRanges": [{"CidrIp": r.get("cidr", "0.0.0.0/0")}]} for r in g.get("ingress", [])]
            if perms:
                ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=perms)
            out["security_groups"][g["name"]] = gid

    if spec.get("policies"):
        iam = boto3.client("iam", **kw)
        out["policies"] = {}
        for p in spec["policies"]:
            arn = iam.create_policy(PolicyName=p["name"], PolicyDocument=json.dumps(p["document"]))["Policy"]["Arn"]
            if p.get("attached"):
                role = f"{p['name']}-role"
                iam.create_role(RoleName=role, AssumeRolePolicyDocument="{}")
                iam.attach_role_policy(RoleName=role, PolicyArn=arn)
            out["policies"][p["name"]] = arn

    if spec.get("hub_findings"):
        hub = boto3.client("securityhub", **kw)
        try:
            hub.enable_security_hub()
        except Exception:
            pass  # already enabled
        account = boto3.client("sts", **kw).get_caller_identity()["Account"]
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        hub.batch_import_findings(Findings=[{
            "SchemaVersion": "2018-10-08", "Id": f["id"],
            "ProductArn": f"arn:aws:securityhub:{region}:{account}:product/{account}/default",
            "GeneratorId": "helm-test", "AwsAccountId": account, "Types": ["Software and Configuration Checks"],
            "CreatedAt": stamp, "UpdatedAt": stamp, "Severity": {"Label": f["severity"]},
            "Title": f["title"], "Description": f["title"],
            "Resources": [{"Type": "AwsS3Bucket", "Id": f.get("resource", "arn:aws:s3:::x")}],
            "RecordState": f.get("record_state", "ACTIVE"), "Workflow": {"Status": f.get("workflow", "NEW")},
        } for f in spec["hub_findings"]])

    if spec.get("compliant_account"):
        # Everything the CIS controls ask for that the emulator can set.
        iam = boto3.client("iam", **kw)
        iam.update_account_password_policy(MinimumPasswordLength=14, RequireSymbols=True, RequireNumbers=True)
        ec2 = boto3.client("ec2", **kw)
        ec2.enable_ebs_encryption_by_default()
        s3 = boto3.client("s3", **kw)
        bucket = f"trail-{region}-{int(now.timestamp())}"
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        ct = boto3.client("cloudtrail", **kw)
        ct.create_trail(Name="org-trail", S3BucketName=bucket, IsMultiRegionTrail=True)
        ct.start_logging(Name="org-trail")
        account = boto3.client("sts", **kw).get_caller_identity()["Account"]
        # S3 Control's endpoint rules put the account id in the host name; the emulator
        # has no such host, so the request goes to the endpoint as it is.
        s3c = boto3.client("s3control", **kw)
        s3c.meta.events.register("before-send.s3-control.*", lambda request, **_: setattr(request, "url", request.url.replace(f"//{account}.", "//", 1)))
        s3c.put_public_access_block(AccountId=account, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        for v in ec2.describe_vpcs()["Vpcs"]:
            ec2.create_flow_logs(ResourceIds=[v["VpcId"]], ResourceType="VPC", TrafficType="ALL",
                                 LogDestinationType="cloud-watch-logs", LogGroupName="vpc-flow", DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/flow")
        cfg = boto3.client("config", **kw)
        cfg.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": "arn:aws:iam::123456789012:role/config",
                                                              "recordingGroup": {"allSupported": True}})
        cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": bucket})
        cfg.start_configuration_recorder(ConfigurationRecorderName="default")

    if spec.get("metrics"):
        cw = boto3.client("cloudwatch", **kw)
        by_ns = {}
        for m in spec["metrics"]:
            datum = {
                "MetricName": m["name"],
                "Dimensions": [{"Name": k, "Value": v} for k, v in m.get("dimensions", {}).items()],
                "Timestamp": now - dt.timedelta(minutes=m.get("minutes_ago", 10)),
            }
            if "values" in m:
                datum["Values"] = [float(v) for v in m["values"]]
            else:
                datum["Value"] = float(m["value"])
            if m.get("unit"):
                datum["Unit"] = m["unit"]
            by_ns.setdefault(m["namespace"], []).append(datum)
        for ns, data in by_ns.items():
            for i in range(0, len(data), 500):
                cw.put_metric_data(Namespace=ns, MetricData=data[i:i + 500])

    if spec.get("alarms"):
        cw = boto3.client("cloudwatch", **kw)
        for a in spec["alarms"]:
            cw.put_metric_alarm(
                AlarmName=a["name"], Namespace=a["namespace"], MetricName=a["metric"], Statistic="Sum", Period=60,
                EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
                Dimensions=[{"Name": k, "Value": v} for k, v in a.get("dimensions", {}).items()],
            )
            if a.get("state", "OK") != "OK":
                cw.set_alarm_state(AlarmName=a["name"], StateValue=a["state"], StateReason="seeded by a test")

    if spec.get("log_events"):
        logs = boto3.client("logs", **kw)
        for e in spec["log_events"]:
            try:
                logs.create_log_group(logGroupName=e["group"])
            except logs.exceptions.ResourceAlreadyExistsException:
                pass
            try:
                logs.create_log_stream(logGroupName=e["group"], logStreamName=e.get("stream", "s"))
            except logs.exceptions.ResourceAlreadyExistsException:
                pass
            if e.get("retention_days"):
                logs.put_retention_policy(logGroupName=e["group"], retentionInDays=e["retention_days"])
            if not e.get("messages"):
                continue
            t0 = now - dt.timedelta(minutes=e.get("minutes_ago", 5))
            events = [{"timestamp": int((t0 + dt.timedelta(milliseconds=i)).timestamp() * 1000), "message": msg}
                      for i, msg in enumerate(e["messages"])]
            for i in range(0, len(events), 10000):
                logs.put_log_events(logGroupName=e["group"], logStreamName=e.get("stream", "s"), logEvents=events[i:i + 10000])

    if spec.get("set_alarm_states"):
        cw = boto3.client("cloudwatch", **kw)
        for name, state in spec["set_alarm_states"].items():
            cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason="changed by a test")

    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
