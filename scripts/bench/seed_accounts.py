"""Seed a fleet that spans accounts, and the project that names it.

Usage: seed_accounts.py ENDPOINT PROJECT_DIR ACCOUNTS REGIONS PER [DENIED_ACCOUNT]

Each account's queues are created through its own assumed role (moto's STS gives each
role's credentials the role's account), PER queues in each of REGIONS (comma-separated).
The project gets environments.json with every account's role, and a registry naming every
queue. Account ids are 222222222214, 216, ... (so 222222222222 is the fifth).
"""
import json
import os
import sys

import boto3


def main():
    endpoint, project, accounts, regions, per = sys.argv[1:6]
    accounts, per = int(accounts), int(per)
    regions = regions.split(",")
    ids = [str(222_222_222_214 + 2 * n) for n in range(accounts)]
    kw = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
    sts = boto3.client("sts", **kw)
    resources = []
    for a in ids:
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{a}:role/helm-read", RoleSessionName="seed")["Credentials"]
        for r in regions:
            sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=r,
                               aws_access_key_id=c["AccessKeyId"],
                               aws_secret_access_key=c["SecretAccessKey"],
                               aws_session_token=c["SessionToken"])
            for i in range(per):
                sqs.create_queue(QueueName=f"q{i}")
                resources.append({"id": f"q-{a}-{r}-{i}", "type": "sqs",
                                  "arn": f"arn:aws:sqs:{r}:{a}:q{i}"})
    f = os.path.join(project, ".fractary")
    for d in ("registry", "shared", "plugins/helm-cloud/config"):
        os.makedirs(os.path.join(f, d), exist_ok=True)
    with open(os.path.join(f, "registry/deployments.json"), "w") as out:
        json.dump({"deployments": [{"id": "fleet", "environment": "test", "resources": resources}]}, out)
    accesses = [{"account_id": a, "role_arn": f"arn:aws:iam::{a}:role/helm-read", "regions": regions}
                for a in ids]
    with open(os.path.join(f, "shared/environments.json"), "w") as out:
        json.dump({"version": "1.0.0", "environments": {"test": {
            "name": "test", "requires_confirmation": False, "accounts": accesses}}}, out)
    with open(os.path.join(f, "shared/aws-credentials.json"), "w") as out:
        json.dump({"version": "1.0.0", "aws": {"account_id": "123456789012", "region": "us-east-1"}}, out)
    with open(os.path.join(f, "plugins/helm-cloud/config/monitoring.toml"), "w") as out:
        out.write('[helm-cloud]\nenvironments = ["test"]\n')
    print(len(resources))


if __name__ == "__main__":
    main()
