"""Seed an emulator account with one resource failing each `audit --scope account` check,
then fix each of them in place; or seed a fleet of resources for the audit benchmark.
Everything goes through the real AWS APIs (boto3), as a person or Terraform would do it.

usage:
  seed_account.py ENDPOINT bad   --prefix P --regions us-east-1,eu-west-1   (prints ids as JSON)
  seed_account.py ENDPOINT fixed --prefix P --regions us-east-1,eu-west-1
  seed_account.py ENDPOINT fleet --prefix P --regions a,b,c --resources 500

`bad` makes, in each region: an unencrypted volume, an unencrypted public snapshot, a
database with backups, deletion protection and minor upgrades off, a public DB snapshot, a
KMS key without rotation, a log group without KMS, a Lambda function and an ECS task
definition with a secret in their environment, a secret without rotation, an unused security
group open on 22; GuardDuty and Security Hub stay off, the default security group keeps its
rules and the default network ACL allows 22 and 3389 from anywhere. Account-wide: a user
whose key is 100 days old and unused, a console user without MFA, a role with an inline
`*` policy, a user with an attached `*` policy, a role anyone may assume, no password
policy, an expired server certificate, a bucket holding data without versioning or access
logging, and a trail without validation or encryption whose bucket has no access logging.
`fixed` repairs each of those the way its catalogue entry says.
"""

import argparse
import datetime as dt
import io
import json
import sys
import urllib.request
import zipfile

import boto3

# A value shaped like a real secret (never printed by helm-cloud: the tests look for it).
SECRET_VALUE = "postgres://app:Sup3rS3cretPassw0rd@db.internal:5432/app"
AWS_KEY_VALUE = "AKIAIOSFODNN7EXAMPLE"


def clients(endpoint, region):
    kw = dict(endpoint_url=endpoint, region_name=region,
              aws_access_key_id="testing", aws_secret_access_key="testing")
    return lambda name: boto3.client(name, **kw)


def post(endpoint, path, doc):
    req = urllib.request.Request(endpoint + path, data=json.dumps(doc).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


def certificate(days_left):
    """A self-signed certificate and its key, valid until `days_left` days from now."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "helm.example")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=400))
            .not_valid_after(now + dt.timedelta(days=days_left))
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def lambda_role(iam):
    try:
        return iam.create_role(RoleName="helm-seed-lambda", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        return iam.get_role(RoleName="helm-seed-lambda")["Role"]["Arn"]


def code():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(e, c):\n    return 1\n")
    return buf.getvalue()


def bad_region(c, p, region, out):
    ec2 = c("ec2")
    az = region + "a"
    vol = ec2.create_volume(AvailabilityZone=az, Size=1, Encrypted=False)["VolumeId"]
    snap_vol = ec2.create_volume(AvailabilityZone=az, Size=1, Encrypted=False)["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=snap_vol)["SnapshotId"]
    ec2.modify_snapshot_attribute(SnapshotId=snap, Attribute="createVolumePermission",
                                  OperationType="add", GroupNames=["all"])
    ec2.delete_volume(VolumeId=snap_vol)
    rds = c("rds")
    rds.create_db_instance(DBInstanceIdentifier=f"{p}-db", DBInstanceClass="db.t3.micro",
                           Engine="postgres", MasterUsername="app", MasterUserPassword="x" * 12,
                           AllocatedStorage=20, BackupRetentionPeriod=0, DeletionProtection=False,
                           AutoMinorVersionUpgrade=False)
    rds.create_db_snapshot(DBInstanceIdentifier=f"{p}-db", DBSnapshotIdentifier=f"{p}-dbsnap")
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=f"{p}-dbsnap", AttributeName="restore",
                                     ValuesToAdd=["all"])
    key = c("kms").create_key(Description=f"{p} data key")["KeyMetadata"]["KeyId"]
    c("logs").create_log_group(logGroupName=f"/{p}/app")
    lam = c("lambda")
    lam.create_function(FunctionName=f"{p}-fn", Runtime="python3.12", Role=lambda_role(c("iam")),
                        Handler="index.handler", Code={"ZipFile": code()},
                        Environment={"Variables": {"DATABASE_URL": SECRET_VALUE, "LOG_LEVEL": "info"}})
    c("ecs").register_task_definition(family=f"{p}-task", containerDefinitions=[{
        "name": "app", "image": "nginx", "memory": 128,
        "environment": [{"name": "AWS_ACCESS_KEY_ID", "value": AWS_KEY_VALUE},
                        {"name": "PORT", "value": "8080"}]}])
    c("secretsmanager").create_secret(Name=f"{p}-secret", SecretString="s3cr3t-value")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    sg = ec2.create_security_group(GroupName=f"{p}-old", Description="unused", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    # A group in use and open to the world is not "unused": attached to a network interface.
    used = ec2.create_security_group(GroupName=f"{p}-used", Description="used", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=used, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    ec2.create_network_interface(SubnetId=subnet, Groups=[used])
    default_sg = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
    nacls = [n["NetworkAclId"] for n in ec2.describe_network_acls()["NetworkAcls"]]
    out[region] = {"volume": vol, "snapshot": snap, "key": key, "unused_sg": sg, "used_sg": used,
                   "default_sg": default_sg, "nacls": nacls}


def fix_region(c, p, region, ids):
    ec2 = c("ec2")
    ec2.delete_volume(VolumeId=ids["volume"])
    ec2.create_volume(AvailabilityZone=region + "a", Size=1, Encrypted=True)
    ec2.delete_snapshot(SnapshotId=ids["snapshot"])
    rds = c("rds")
    rds.modify_db_instance(DBInstanceIdentifier=f"{p}-db", BackupRetentionPeriod=7,
                           DeletionProtection=True, AutoMinorVersionUpgrade=True, ApplyImmediately=True)
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=f"{p}-dbsnap", AttributeName="restore",
                                     ValuesToRemove=["all"])
    kms = c("kms")
    kms.enable_key_rotation(KeyId=ids["key"])
    # moto has no AssociateKmsKey (HTTP 500): the group is made again with its key.
    logs = c("logs")
    logs.delete_log_group(logGroupName=f"/{p}/app")
    logs.create_log_group(logGroupName=f"/{p}/app", kmsKeyId=kms.describe_key(KeyId=ids["key"])["KeyMetadata"]["Arn"])
    c("lambda").update_function_configuration(FunctionName=f"{p}-fn", Environment={"Variables": {
        "DATABASE_URL": f"arn:aws:secretsmanager:{region}:123456789012:secret:{p}-db", "LOG_LEVEL": "info"}})
    c("ecs").register_task_definition(family=f"{p}-task", containerDefinitions=[{
        "name": "app", "image": "nginx", "memory": 128, "environment": [{"name": "PORT", "value": "8080"}]}])
    c("secretsmanager").delete_secret(SecretId=f"{p}-secret", ForceDeleteWithoutRecovery=True)
    c("guardduty").create_detector(Enable=True)
    c("securityhub").enable_security_hub()
    ec2.delete_security_group(GroupId=ids["unused_sg"])
    g = ec2.describe_security_groups(GroupIds=[ids["default_sg"]])["SecurityGroups"][0]
    if g["IpPermissions"]:
        ec2.revoke_security_group_ingress(GroupId=g["GroupId"], IpPermissions=g["IpPermissions"])
    if g["IpPermissionsEgress"]:
        ec2.revoke_security_group_egress(GroupId=g["GroupId"], IpPermissions=g["IpPermissionsEgress"])
    for acl in ids["nacls"]:
        for n, port in ((50, 22), (51, 3389)):
            ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=n, Protocol="6", RuleAction="deny",
                                         Egress=False, CidrBlock="0.0.0.0/0",
                                         PortRange={"From": port, "To": port})


def star_policy():
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def bad_account(endpoint, c, p, home, out):
    iam = c("iam")
    iam.create_user(UserName=f"{p}-stale")
    iam.create_access_key(UserName=f"{p}-stale")
    post(endpoint, "/helm-emulator/iam/age", {"user": f"{p}-stale", "days": 100})
    iam.create_user(UserName=f"{p}-console")
    iam.create_login_profile(UserName=f"{p}-console", Password="Str0ng-Passw0rd!")
    iam.create_role(RoleName=f"{p}-admin-role", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    iam.put_role_policy(RoleName=f"{p}-admin-role", PolicyName="everything", PolicyDocument=star_policy())
    arn = iam.create_policy(PolicyName=f"{p}-star", PolicyDocument=star_policy())["Policy"]["Arn"]
    iam.create_user(UserName=f"{p}-admin")
    iam.attach_user_policy(UserName=f"{p}-admin", PolicyArn=arn)
    iam.create_role(RoleName=f"{p}-open-role", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}))
    body, key = certificate(-10)
    iam.upload_server_certificate(ServerCertificateName=f"{p}-old-cert", CertificateBody=body, PrivateKey=key)
    s3 = c("s3")
    s3.create_bucket(Bucket=f"{p}-data")
    s3.put_object(Bucket=f"{p}-data", Key="customers.csv", Body=b"id,name\n1,a\n")
    s3.create_bucket(Bucket=f"{p}-trail")
    c("cloudtrail").create_trail(Name=f"{p}-trail", S3BucketName=f"{p}-trail", IsMultiRegionTrail=True)
    out["account"] = {"policy_arn": arn}


def fix_account(c, p, home, ids):
    iam = c("iam")
    for k in iam.list_access_keys(UserName=f"{p}-stale")["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=f"{p}-stale", AccessKeyId=k["AccessKeyId"])
    iam.create_access_key(UserName=f"{p}-stale")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{p}-console")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName=f"{p}-console", SerialNumber=serial,
                          AuthenticationCode1="123456", AuthenticationCode2="654321")
    iam.delete_role_policy(RoleName=f"{p}-admin-role", PolicyName="everything")
    iam.detach_user_policy(UserName=f"{p}-admin", PolicyArn=ids["policy_arn"])
    iam.delete_policy(PolicyArn=ids["policy_arn"])
    iam.update_assume_role_policy(RoleName=f"{p}-open-role", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                        "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "helm"}}}]}))
    iam.update_account_password_policy(MinimumPasswordLength=14, RequireSymbols=True, RequireNumbers=True,
                                       RequireUppercaseCharacters=True, RequireLowercaseCharacters=True,
                                       MaxPasswordAge=90, PasswordReusePrevention=24)
    iam.delete_server_certificate(ServerCertificateName=f"{p}-old-cert")
    body, key = certificate(300)
    iam.upload_server_certificate(ServerCertificateName=f"{p}-new-cert", CertificateBody=body, PrivateKey=key)
    s3 = c("s3")
    s3.create_bucket(Bucket=f"{p}-logs")
    # The log delivery service may write there (S3 refuses a target it cannot write to).
    s3.put_bucket_policy(Bucket=f"{p}-logs", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{p}-logs/*"}]}))
    for b in (f"{p}-data", f"{p}-logs"):
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    for b in (f"{p}-data", f"{p}-trail"):
        s3.put_bucket_logging(Bucket=b, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": f"{p}-logs", "TargetPrefix": f"{b}/"}})
    kms = c("kms")
    key = kms.create_key(Description=f"{p} trail key")["KeyMetadata"]["Arn"]
    kms.enable_key_rotation(KeyId=key)
    c("cloudtrail").update_trail(Name=f"{p}-trail", EnableLogFileValidation=True, KmsKeyId=key)


def fleet(c_of, p, regions, n):
    """`n` resources over the regions, of the kinds the sweep reads, half of them failing a
    check; returns the count made per kind."""
    made = {}
    per = max(1, n // len(regions))
    for ri, region in enumerate(regions):
        c = c_of(region)
        ec2, logs, kms, sm, lam = c("ec2"), c("logs"), c("kms"), c("secretsmanager"), c("lambda")
        vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        role = lambda_role(c("iam"))
        for i in range(per):
            kind = ["volume", "log_group", "security_group", "key", "secret", "function", "snapshot"][i % 7]
            bad = i % 2 == 0
            name = f"{p}-{region}-{i}"
            if kind == "volume":
                ec2.create_volume(AvailabilityZone=region + "a", Size=1, Encrypted=not bad)
            elif kind == "log_group":
                logs.create_log_group(logGroupName=f"/{name}")
            elif kind == "security_group":
                g = ec2.create_security_group(GroupName=name, Description="fleet", VpcId=vpc)["GroupId"]
                if bad:
                    ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[{
                        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
            elif kind == "key":
                k = kms.create_key()["KeyMetadata"]["KeyId"]
                if not bad:
                    kms.enable_key_rotation(KeyId=k)
            elif kind == "secret":
                sm.create_secret(Name=name, SecretString="x")
            elif kind == "function":
                env = {"DB_PASSWORD": "Sup3rS3cretPassw0rd!"} if bad else {"LOG_LEVEL": "info"}
                lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler",
                                    Code={"ZipFile": code()}, Environment={"Variables": env})
            elif kind == "snapshot":
                v = ec2.create_volume(AvailabilityZone=region + "a", Size=1, Encrypted=not bad)["VolumeId"]
                ec2.create_snapshot(VolumeId=v)
            made[kind] = made.get(kind, 0) + 1
        if ri == 0:
            iam, s3 = c("iam"), c("s3")
            for i in range(max(1, per // 20)):
                iam.create_user(UserName=f"{p}-user-{i}")
                iam.create_access_key(UserName=f"{p}-user-{i}")
                s3.create_bucket(Bucket=f"{p}-bucket-{i}")
                s3.put_object(Bucket=f"{p}-bucket-{i}", Key="k", Body=b"v")
                made["user"] = made.get("user", 0) + 1
                made["bucket"] = made.get("bucket", 0) + 1
    return made


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoint")
    ap.add_argument("state", choices=["bad", "fixed", "fleet"])
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--regions", default="us-east-1")
    ap.add_argument("--resources", type=int, default=500)
    ap.add_argument("--ids", help="fixed: the JSON that bad printed")
    a = ap.parse_args()
    regions = a.regions.split(",")
    c_of = lambda r: clients(a.endpoint, r)  # noqa: E731
    if a.state == "fleet":
        print(json.dumps(fleet(c_of, a.prefix, regions, a.resources)))
        return 0
    if a.state == "bad":
        out = {}
        for r in regions:
            bad_region(c_of(r), a.prefix, r, out)
        bad_account(a.endpoint, c_of(regions[0]), a.prefix, regions[0], out)
        print(json.dumps(out))
        return 0
    ids = json.loads(a.ids)
    for r in regions:
        fix_region(c_of(r), a.prefix, r, ids[r])
    fix_account(c_of(regions[0]), a.prefix, regions[0], ids["account"])
    print("{}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
