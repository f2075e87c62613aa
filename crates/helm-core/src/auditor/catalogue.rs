//! The check catalogue: every check the security audit reports, with what it reads, the
//! IAM permissions it needs, its CIS AWS Foundations Benchmark v3.0.0 and AWS Foundational
//! Security Best Practices control ids, and its fix as CLI, Terraform and console steps.
//! Reports carry an entry's mappings and remediation beside each finding.

use super::Severity;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy)]
pub struct CheckDef {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// The resource kinds it reads.
    pub reads: &'static [&'static str],
    /// The IAM actions it needs.
    pub permissions: &'static [&'static str],
    /// CIS AWS Foundations Benchmark v3.0.0 recommendation numbers (empty: none maps).
    pub cis: &'static [&'static str],
    /// AWS Foundational Security Best Practices control ids (empty: none maps).
    pub fsbp: &'static [&'static str],
    pub cli: &'static str,
    pub terraform: &'static str,
    pub console: &'static str,
}

/// Checks whose ids are made at run time (Security Hub's own findings) are not listed.
pub const CATALOGUE: &[CheckDef] = &[
    CheckDef {
        id: "kinesis.unencrypted",
        title: "Kinesis stream not encrypted at rest",
        severity: Severity::Medium,
        reads: &["kinesis stream"],
        permissions: &["kinesis:DescribeStreamSummary"],
        cis: &[],
        fsbp: &["Kinesis.1"],
        cli: "aws kinesis start-stream-encryption --stream-name S --encryption-type KMS --key-id alias/aws/kinesis",
        terraform: "aws_kinesis_stream { encryption_type = \"KMS\", kms_key_id = \"alias/aws/kinesis\" }",
        console: "Kinesis > Data streams > the stream > Configuration > Encryption > Edit: enable server-side encryption",
    },
    CheckDef {
        id: "elasticache.unencrypted_at_rest",
        title: "Cache not encrypted at rest",
        severity: Severity::Medium,
        reads: &["elasticache cluster"],
        permissions: &["elasticache:DescribeCacheClusters"],
        cis: &[],
        fsbp: &["ElastiCache.4"],
        cli: "aws elasticache create-replication-group --replication-group-id NEW --at-rest-encryption-enabled --snapshot-name BACKUP ...",
        terraform: "aws_elasticache_replication_group { at_rest_encryption_enabled = true } (forces a new group: restore from a backup)",
        console: "ElastiCache > Backups > the backup > Restore: Encryption at rest on",
    },
    CheckDef {
        id: "elasticache.unencrypted_in_transit",
        title: "Cache traffic not encrypted in transit",
        severity: Severity::Medium,
        reads: &["elasticache cluster"],
        permissions: &["elasticache:DescribeCacheClusters"],
        cis: &[],
        fsbp: &["ElastiCache.5"],
        cli: "aws elasticache modify-replication-group --replication-group-id G --transit-encryption-enabled --transit-encryption-mode preferred --apply-immediately",
        terraform: "aws_elasticache_replication_group { transit_encryption_enabled = true }",
        console: "ElastiCache > the cluster > Modify > Security: Encryption in transit on (mode preferred, then required)",
    },
    CheckDef {
        id: "sns.unencrypted",
        title: "SNS topic not encrypted at rest",
        severity: Severity::Low,
        reads: &["sns topic"],
        permissions: &["sns:GetTopicAttributes"],
        cis: &[],
        fsbp: &["SNS.1"],
        cli: "aws sns set-topic-attributes --topic-arn T --attribute-name KmsMasterKeyId --attribute-value alias/aws/sns",
        terraform: "aws_sns_topic { kms_master_key_id = \"alias/aws/sns\" }",
        console: "SNS > Topics > the topic > Edit > Encryption: enable",
    },
    CheckDef {
        id: "alb.http_listener",
        title: "Load balancer serves plain HTTP",
        severity: Severity::Medium,
        reads: &["application load balancer"],
        permissions: &["elasticloadbalancing:DescribeListeners"],
        cis: &[],
        fsbp: &["ELB.1"],
        cli: "aws elbv2 modify-listener --listener-arn L --default-actions 'Type=redirect,RedirectConfig={Protocol=HTTPS,Port=443,StatusCode=HTTP_301}'",
        terraform: "aws_lb_listener (port 80) { default_action { type = \"redirect\" redirect { protocol = \"HTTPS\", port = \"443\", status_code = \"HTTP_301\" } } }",
        console: "EC2 > Load Balancers > the balancer > Listeners > HTTP:80 > Edit: Redirect to HTTPS 443",
    },
    CheckDef {
        id: "asg.imdsv1",
        title: "Instances allow IMDSv1",
        severity: Severity::Medium,
        reads: &["auto scaling group", "launch template"],
        permissions: &[
            "autoscaling:DescribeAutoScalingGroups",
            "autoscaling:DescribeLaunchConfigurations",
            "ec2:DescribeLaunchTemplateVersions",
        ],
        // Not CIS 5.6 nor EC2.8 / EC2.170: those judge every instance and launch template of
        // the account, and this reads only the registry's groups.
        cis: &[],
        fsbp: &["AutoScaling.3"],
        cli: "aws ec2 create-launch-template-version --launch-template-id LT --source-version '$Default' --launch-template-data '{\"MetadataOptions\":{\"HttpTokens\":\"required\"}}' && aws autoscaling start-instance-refresh --auto-scaling-group-name G",
        terraform: "aws_launch_template { metadata_options { http_tokens = \"required\" } }",
        console: "EC2 > Launch templates > the template > Modify (new version): Metadata version V2 only; then Auto Scaling > the group > Instance refresh",
    },
    CheckDef {
        id: "sg.open_admin_port",
        title: "Remote administration open to the world",
        severity: Severity::Critical,
        reads: &["security group"],
        permissions: &["ec2:DescribeSecurityGroups"],
        cis: &["5.2", "5.3"],
        fsbp: &["EC2.13", "EC2.19"],
        cli: "aws ec2 revoke-security-group-ingress --group-id SG --ip-permissions IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges='[{CidrIp=0.0.0.0/0}]'",
        terraform: "aws_vpc_security_group_ingress_rule: set cidr_ipv4 to the admin network, never \"0.0.0.0/0\"",
        console: "EC2 > Security Groups > the group > Inbound rules > Edit: delete the 0.0.0.0/0 rule on 22/3389",
    },
    CheckDef {
        id: "sg.open_database_port",
        title: "Database port open to the world",
        severity: Severity::High,
        reads: &["security group"],
        permissions: &["ec2:DescribeSecurityGroups"],
        cis: &[],
        fsbp: &["EC2.19"],
        cli: "aws ec2 revoke-security-group-ingress --group-id SG --protocol tcp --port PORT --cidr 0.0.0.0/0",
        terraform: "aws_vpc_security_group_ingress_rule: referenced_security_group_id = the application's group",
        console: "EC2 > Security Groups > the group > Inbound rules > Edit: source = the application's security group",
    },
    CheckDef {
        id: "sg.open_port",
        title: "Port open to the world",
        severity: Severity::Medium,
        reads: &["security group"],
        permissions: &["ec2:DescribeSecurityGroups"],
        cis: &[],
        fsbp: &["EC2.18"],
        cli: "aws ec2 revoke-security-group-ingress --group-id SG --protocol tcp --port PORT --cidr 0.0.0.0/0",
        terraform: "aws_vpc_security_group_ingress_rule: cidr_ipv4 = the clients' range",
        console: "EC2 > Security Groups > the group > Inbound rules > Edit: narrow the source",
    },
    CheckDef {
        id: "s3.public_bucket",
        title: "Bucket open to everyone",
        severity: Severity::Critical,
        reads: &["s3 bucket"],
        permissions: &["s3:GetBucketPolicy", "s3:GetBucketAcl"],
        cis: &["2.1.4"],
        fsbp: &["S3.2", "S3.3"],
        cli: "aws s3api delete-bucket-policy --bucket B && aws s3api put-public-access-block --bucket B --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
        terraform: "aws_s3_bucket_public_access_block with all four arguments true; remove the public statement from aws_s3_bucket_policy",
        console: "S3 > the bucket > Permissions: edit the bucket policy and ACL, then Block public access > Edit > all on",
    },
    CheckDef {
        id: "s3.public_access_block",
        title: "Public access block incomplete",
        severity: Severity::Medium,
        reads: &["s3 bucket"],
        permissions: &["s3:GetBucketPublicAccessBlock"],
        cis: &["2.1.4"],
        fsbp: &["S3.8"],
        cli: "aws s3api put-public-access-block --bucket B --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
        terraform: "aws_s3_bucket_public_access_block { block_public_acls = true, ignore_public_acls = true, block_public_policy = true, restrict_public_buckets = true }",
        console: "S3 > the bucket > Permissions > Block public access > Edit: turn on all four",
    },
    CheckDef {
        id: "s3.default_encryption",
        title: "No explicit default encryption",
        severity: Severity::Low,
        reads: &["s3 bucket"],
        permissions: &["s3:GetEncryptionConfiguration"],
        cis: &[],
        fsbp: &[],
        cli: "aws s3api put-bucket-encryption --bucket B --server-side-encryption-configuration '{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\"}}]}'",
        terraform: "aws_s3_bucket_server_side_encryption_configuration with sse_algorithm = \"aws:kms\"",
        console: "S3 > the bucket > Properties > Default encryption > Edit",
    },
    CheckDef {
        id: "iam.admin_wildcard",
        title: "Policy allows every action on every resource",
        severity: Severity::Critical,
        reads: &["iam policy"],
        permissions: &["iam:ListPolicies", "iam:GetPolicyVersion"],
        cis: &["1.16"],
        fsbp: &["IAM.1"],
        cli: "aws iam create-policy-version --policy-arn ARN --policy-document file://least-privilege.json --set-as-default",
        terraform: "aws_iam_policy: list the actions and resources the role needs instead of \"*\"",
        console: "IAM > Policies > the policy > Edit: replace \"*\" with the actions and resources needed",
    },
    CheckDef {
        id: "iam.service_wildcard",
        title: "Policy allows a whole service on every resource",
        severity: Severity::High,
        reads: &["iam policy"],
        permissions: &["iam:ListPolicies", "iam:GetPolicyVersion"],
        cis: &[],
        fsbp: &["IAM.21"],
        cli: "aws iam create-policy-version --policy-arn ARN --policy-document file://scoped.json --set-as-default",
        terraform: "aws_iam_policy: list the service's actions needed instead of service:*",
        console: "IAM > Policies > the policy > Edit: replace service:* with named actions",
    },
    CheckDef {
        id: "rds.public",
        title: "Database publicly accessible",
        severity: Severity::High,
        reads: &["rds instance"],
        permissions: &["rds:DescribeDBInstances"],
        cis: &["2.3.3"],
        fsbp: &["RDS.2"],
        cli: "aws rds modify-db-instance --db-instance-identifier DB --no-publicly-accessible --apply-immediately",
        terraform: "aws_db_instance { publicly_accessible = false }",
        console: "RDS > Databases > the database > Modify > Connectivity: Not publicly accessible",
    },
    CheckDef {
        id: "rds.unencrypted",
        title: "Database storage not encrypted",
        severity: Severity::Medium,
        reads: &["rds instance"],
        permissions: &["rds:DescribeDBInstances"],
        cis: &["2.3.1"],
        fsbp: &["RDS.3"],
        cli: "aws rds create-db-snapshot ... && aws rds copy-db-snapshot --kms-key-id KEY ... && aws rds restore-db-instance-from-db-snapshot ...",
        terraform: "aws_db_instance { storage_encrypted = true } (forces a new instance: restore from an encrypted snapshot copy)",
        console: "RDS > Snapshots > take one > Copy with encryption > Restore",
    },
    CheckDef {
        id: "rds.backups_off",
        title: "Database automated backups off",
        severity: Severity::High,
        reads: &["rds instance"],
        permissions: &["rds:DescribeDBInstances"],
        cis: &[],
        fsbp: &["RDS.11"],
        cli: "aws rds modify-db-instance --db-instance-identifier DB --backup-retention-period 7 --apply-immediately",
        terraform: "aws_db_instance { backup_retention_period = 7 }",
        console: "RDS > Databases > the database > Modify > Backup: retention 7 days",
    },
    CheckDef {
        id: "rds.deletion_protection_off",
        title: "Database deletion protection off",
        severity: Severity::Low,
        reads: &["rds instance"],
        permissions: &["rds:DescribeDBInstances"],
        cis: &[],
        fsbp: &["RDS.8"],
        cli: "aws rds modify-db-instance --db-instance-identifier DB --deletion-protection --apply-immediately",
        terraform: "aws_db_instance { deletion_protection = true }",
        console: "RDS > Databases > the database > Modify: Enable deletion protection",
    },
    CheckDef {
        id: "rds.minor_upgrade_off",
        title: "Database minor-version upgrades off",
        severity: Severity::Low,
        reads: &["rds instance"],
        permissions: &["rds:DescribeDBInstances"],
        cis: &["2.3.2"],
        fsbp: &["RDS.13"],
        cli: "aws rds modify-db-instance --db-instance-identifier DB --auto-minor-version-upgrade --apply-immediately",
        terraform: "aws_db_instance { auto_minor_version_upgrade = true }",
        console: "RDS > Databases > the database > Modify > Maintenance: Enable auto minor version upgrade",
    },
    CheckDef {
        id: "rds.public_snapshot",
        title: "Database snapshot restorable by anyone",
        severity: Severity::Critical,
        reads: &["rds snapshot"],
        permissions: &[
            "rds:DescribeDBSnapshots",
            "rds:DescribeDBSnapshotAttributes",
        ],
        cis: &[],
        fsbp: &["RDS.1"],
        cli: "aws rds modify-db-snapshot-attribute --db-snapshot-identifier S --attribute-name restore --values-to-remove all",
        terraform: "do not set shared_accounts = [\"all\"] on aws_db_snapshot; remove the public share",
        console: "RDS > Snapshots > the snapshot > Actions > Share snapshot: Private",
    },
    CheckDef {
        id: "lambda.public_url",
        title: "Function URL without authentication",
        severity: Severity::High,
        reads: &["lambda function"],
        permissions: &["lambda:GetFunctionUrlConfig"],
        cis: &[],
        fsbp: &["Lambda.1"],
        cli: "aws lambda update-function-url-config --function-name F --auth-type AWS_IAM",
        terraform: "aws_lambda_function_url { authorization_type = \"AWS_IAM\" }",
        console: "Lambda > the function > Configuration > Function URL > Edit: Auth type AWS_IAM",
    },
    CheckDef {
        id: "lambda.deprecated_runtime",
        title: "Deprecated Lambda runtime",
        severity: Severity::Medium,
        reads: &["lambda function"],
        permissions: &["lambda:GetFunctionConfiguration"],
        cis: &[],
        fsbp: &["Lambda.2"],
        cli: "aws lambda update-function-configuration --function-name F --runtime python3.12 (after testing the code on it)",
        terraform: "aws_lambda_function { runtime = \"python3.12\" }",
        console: "Lambda > the function > Code > Runtime settings > Edit",
    },
    CheckDef {
        id: "lambda.env_secret",
        title: "Secret in Lambda environment variables",
        severity: Severity::High,
        reads: &["lambda function"],
        permissions: &["lambda:ListFunctions"],
        cis: &[],
        fsbp: &[],
        cli: "aws secretsmanager create-secret --name N --secret-string ... && aws lambda update-function-configuration --function-name F --environment Variables={SECRET_ARN=...}",
        terraform: "aws_secretsmanager_secret + aws_lambda_function environment { SECRET_ARN = aws_secretsmanager_secret.x.arn }",
        console: "Lambda > the function > Configuration > Environment variables: remove the value; read it from Secrets Manager",
    },
    CheckDef {
        id: "ecs.env_secret",
        title: "Secret in ECS task definition environment",
        severity: Severity::High,
        reads: &["ecs task definition"],
        permissions: &["ecs:ListTaskDefinitions", "ecs:DescribeTaskDefinition"],
        cis: &[],
        fsbp: &["ECS.8"],
        cli: "aws ecs register-task-definition ... with containerDefinitions[].secrets[{name,valueFrom=SECRET_ARN}] instead of environment",
        terraform: "aws_ecs_task_definition container_definitions: secrets = [{ name = ..., valueFrom = aws_secretsmanager_secret.x.arn }]",
        console: "ECS > Task definitions > Create new revision: move the variable to Secrets (valueFrom)",
    },
    CheckDef {
        id: "secretsmanager.rotation_off",
        title: "Secret without automatic rotation",
        severity: Severity::Medium,
        reads: &["secret"],
        permissions: &["secretsmanager:ListSecrets"],
        cis: &[],
        fsbp: &["SecretsManager.1"],
        cli: "aws secretsmanager rotate-secret --secret-id S --rotation-lambda-arn ARN --rotation-rules AutomaticallyAfterDays=30",
        terraform: "aws_secretsmanager_secret_rotation { rotation_rules { automatically_after_days = 30 } }",
        console: "Secrets Manager > the secret > Rotation configuration > Edit rotation",
    },
    CheckDef {
        id: "ebs.unencrypted_volume",
        title: "EBS volume not encrypted",
        severity: Severity::Medium,
        reads: &["ebs volume"],
        permissions: &["ec2:DescribeVolumes"],
        cis: &["2.2.1"],
        fsbp: &["EC2.3"],
        cli: "aws ec2 create-snapshot --volume-id V && aws ec2 copy-snapshot --encrypted ... && aws ec2 create-volume --snapshot-id ENCRYPTED ...",
        terraform: "aws_ebs_volume { encrypted = true } and aws_ebs_encryption_by_default { enabled = true }",
        console: "EC2 > Volumes > Create snapshot > Copy (encrypt) > Create volume; EC2 settings > EBS encryption > Always encrypt",
    },
    CheckDef {
        id: "ebs.unencrypted_snapshot",
        title: "EBS snapshot not encrypted",
        severity: Severity::Medium,
        reads: &["ebs snapshot"],
        permissions: &["ec2:DescribeSnapshots"],
        cis: &[],
        fsbp: &[],
        cli: "aws ec2 copy-snapshot --source-snapshot-id S --source-region R --encrypted && aws ec2 delete-snapshot --snapshot-id S",
        terraform: "aws_ebs_snapshot_copy { encrypted = true }",
        console: "EC2 > Snapshots > the snapshot > Actions > Copy: Encrypt this snapshot",
    },
    CheckDef {
        id: "ebs.public_snapshot",
        title: "EBS snapshot restorable by anyone",
        severity: Severity::Critical,
        reads: &["ebs snapshot"],
        permissions: &["ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute"],
        cis: &[],
        fsbp: &["EC2.1"],
        cli: "aws ec2 modify-snapshot-attribute --snapshot-id S --attribute createVolumePermission --operation-type remove --group-names all",
        terraform: "remove aws_snapshot_create_volume_permission with account_id \"all\"; aws_ebs_snapshot_block_public_access { state = \"block-all-sharing\" }",
        console: "EC2 > Snapshots > the snapshot > Actions > Snapshot settings > Modify permissions: Private",
    },
    CheckDef {
        id: "kms.rotation_off",
        title: "KMS key rotation off",
        severity: Severity::Medium,
        reads: &["kms key"],
        permissions: &[
            "kms:ListKeys",
            "kms:DescribeKey",
            "kms:GetKeyRotationStatus",
        ],
        cis: &["3.6"],
        fsbp: &["KMS.4"],
        cli: "aws kms enable-key-rotation --key-id K",
        terraform: "aws_kms_key { enable_key_rotation = true }",
        console: "KMS > Customer managed keys > the key > Key rotation: Automatically rotate",
    },
    CheckDef {
        id: "logs.unencrypted_group",
        title: "Log group not encrypted with a KMS key",
        severity: Severity::Low,
        reads: &["log group"],
        permissions: &["logs:DescribeLogGroups"],
        cis: &[],
        fsbp: &[],
        cli: "aws logs associate-kms-key --log-group-name G --kms-key-arn KEY",
        terraform: "aws_cloudwatch_log_group { kms_key_id = aws_kms_key.logs.arn }",
        console: "not in the console: use the CLI or Terraform",
    },
    CheckDef {
        id: "guardduty.disabled",
        title: "GuardDuty not enabled",
        severity: Severity::High,
        reads: &["account region"],
        permissions: &["guardduty:ListDetectors", "guardduty:GetDetector"],
        cis: &[],
        fsbp: &["GuardDuty.1"],
        cli: "aws guardduty create-detector --enable --region R",
        terraform: "aws_guardduty_detector { enable = true } in each region's provider",
        console: "GuardDuty > Get started > Enable GuardDuty (each region)",
    },
    CheckDef {
        id: "sechub.disabled",
        title: "Security Hub not enabled",
        severity: Severity::Medium,
        reads: &["account region"],
        permissions: &["securityhub:DescribeHub"],
        cis: &["4.16"],
        fsbp: &[],
        cli: "aws securityhub enable-security-hub --enable-default-standards --region R",
        terraform: "aws_securityhub_account {} and aws_securityhub_standards_subscription for FSBP in each region's provider",
        console: "Security Hub > Go to Security Hub > Enable Security Hub (each region)",
    },
    CheckDef {
        id: "ec2.default_sg_open",
        title: "Default security group allows traffic",
        severity: Severity::Medium,
        reads: &["security group"],
        permissions: &["ec2:DescribeSecurityGroups"],
        cis: &["5.4"],
        fsbp: &["EC2.2"],
        cli: "aws ec2 revoke-security-group-ingress --group-id SG --ip-permissions \"$(aws ec2 describe-security-groups --group-ids SG --query 'SecurityGroups[0].IpPermissions')\" (and revoke-security-group-egress likewise)",
        terraform: "aws_default_security_group for the VPC with no ingress and no egress blocks",
        console: "VPC > Security groups > the VPC's default group > Inbound and Outbound rules > Edit: delete every rule",
    },
    CheckDef {
        id: "ec2.unused_open_sg",
        title: "Unused security group open to the world",
        severity: Severity::Low,
        reads: &["security group", "network interface"],
        permissions: &[
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeNetworkInterfaces",
        ],
        cis: &[],
        fsbp: &[],
        cli: "aws ec2 delete-security-group --group-id SG",
        terraform: "remove the unused aws_security_group, or set its ingress cidr_blocks to the clients' range",
        console: "EC2 > Security Groups > the group > Actions > Delete security groups",
    },
    CheckDef {
        id: "ec2.nacl_open_admin",
        title: "Network ACL open to the world on admin ports",
        severity: Severity::Medium,
        reads: &["network acl"],
        permissions: &["ec2:DescribeNetworkAcls"],
        cis: &["5.1"],
        fsbp: &["EC2.21"],
        cli: "aws ec2 create-network-acl-entry --network-acl-id ACL --ingress --rule-number 50 --protocol tcp --port-range From=22,To=22 --cidr-block 0.0.0.0/0 --rule-action deny (and 3389)",
        terraform: "aws_network_acl_rule { rule_number = 50, egress = false, protocol = \"tcp\", from_port = 22, to_port = 22, cidr_block = \"0.0.0.0/0\", rule_action = \"deny\" } (and 3389)",
        console: "VPC > Network ACLs > the ACL > Inbound rules > Edit: add deny rules for 0.0.0.0/0 on 22 and 3389 numbered below the allow rules",
    },
    CheckDef {
        id: "iam.key_not_rotated",
        title: "Access key not rotated in 90 days",
        severity: Severity::Medium,
        reads: &["iam credential report"],
        permissions: &["iam:GenerateCredentialReport", "iam:GetCredentialReport"],
        cis: &["1.14"],
        fsbp: &["IAM.3"],
        cli: "aws iam create-access-key --user-name U; move the users of the key; aws iam update-access-key --user-name U --access-key-id OLD --status Inactive; aws iam delete-access-key --user-name U --access-key-id OLD",
        terraform: "replace the aws_iam_access_key (taint it or give it a new name) and distribute the new secret",
        console: "IAM > Users > the user > Security credentials > Create access key, then Deactivate and Delete the old one",
    },
    CheckDef {
        id: "iam.credentials_unused",
        title: "Credentials unused for 45 days",
        severity: Severity::Medium,
        reads: &["iam credential report"],
        permissions: &["iam:GenerateCredentialReport", "iam:GetCredentialReport"],
        cis: &["1.12"],
        fsbp: &["IAM.22"],
        cli: "aws iam update-access-key --user-name U --access-key-id K --status Inactive; aws iam delete-login-profile --user-name U",
        terraform: "remove the aws_iam_access_key or aws_iam_user_login_profile",
        console: "IAM > Users > the user > Security credentials: deactivate the key, or Manage console access > Disable",
    },
    CheckDef {
        id: "iam.console_no_mfa",
        title: "Console user without MFA",
        severity: Severity::High,
        reads: &["iam credential report"],
        permissions: &["iam:GenerateCredentialReport", "iam:GetCredentialReport"],
        cis: &["1.10"],
        fsbp: &["IAM.5"],
        cli: "aws iam create-virtual-mfa-device --virtual-mfa-device-name U --outfile qr.png --bootstrap-method QRCodePNG; aws iam enable-mfa-device --user-name U --serial-number ARN --authentication-code1 C1 --authentication-code2 C2",
        terraform: "require MFA with an aws_iam_policy that denies all but MFA setup unless aws:MultiFactorAuthPresent (devices are enrolled by the user)",
        console: "IAM > Users > the user > Security credentials > Assign MFA device",
    },
    CheckDef {
        id: "iam.root_used",
        title: "Root user used in the last 90 days",
        severity: Severity::High,
        reads: &["iam credential report"],
        permissions: &["iam:GenerateCredentialReport", "iam:GetCredentialReport"],
        cis: &["1.7"],
        fsbp: &[],
        cli: "aws iam list-access-keys (signed in as root): delete root keys; create an admin role for daily work",
        terraform: "no Terraform resource manages root use: give people aws_iam_role with the permissions they need",
        console: "Sign in as root only for root-only tasks; Security credentials > delete access keys",
    },
    CheckDef {
        id: "iam.principal_admin",
        title: "Principal with full administrative access",
        severity: Severity::High,
        reads: &["iam user", "iam group", "iam role"],
        permissions: &["iam:GetAccountAuthorizationDetails"],
        cis: &["1.16"],
        fsbp: &["IAM.1"],
        cli: "aws iam detach-user-policy --user-name U --policy-arn ARN (detach-group-policy, detach-role-policy; delete-*-policy for inline)",
        terraform: "replace Action = \"*\" with the actions the principal needs in its aws_iam_policy / aws_iam_role_policy",
        console: "IAM > the user, group or role > Permissions > Remove the policy, then attach a least-privilege one",
    },
    CheckDef {
        id: "iam.role_trust_any",
        title: "Role assumable by any AWS account",
        severity: Severity::Critical,
        reads: &["iam role"],
        permissions: &["iam:GetAccountAuthorizationDetails"],
        cis: &[],
        fsbp: &[],
        cli: "aws iam update-assume-role-policy --role-name R --policy-document file://trust.json (name the trusted accounts or services)",
        terraform: "aws_iam_role assume_role_policy: principals identifiers = the trusted account ARNs, with an sts:ExternalId condition for third parties",
        console: "IAM > Roles > the role > Trust relationships > Edit trust policy: replace \"*\" with the trusted principals",
    },
    CheckDef {
        id: "iam.password_length",
        title: "Password policy allows passwords under 14 characters",
        severity: Severity::Medium,
        reads: &["iam password policy"],
        permissions: &["iam:GetAccountPasswordPolicy"],
        cis: &["1.8"],
        fsbp: &["IAM.7", "IAM.15"],
        cli: "aws iam update-account-password-policy --minimum-password-length 14 (repeat the other settings: the call replaces the policy)",
        terraform: "aws_iam_account_password_policy { minimum_password_length = 14 }",
        console: "IAM > Account settings > Password policy > Edit: minimum length 14",
    },
    CheckDef {
        id: "iam.password_reuse",
        title: "Password policy allows reuse",
        severity: Severity::Medium,
        reads: &["iam password policy"],
        permissions: &["iam:GetAccountPasswordPolicy"],
        cis: &["1.9"],
        fsbp: &["IAM.7", "IAM.16"],
        cli: "aws iam update-account-password-policy --password-reuse-prevention 24 (repeat the other settings: the call replaces the policy)",
        terraform: "aws_iam_account_password_policy { password_reuse_prevention = 24 }",
        console: "IAM > Account settings > Password policy > Edit: prevent password reuse, 24",
    },
    CheckDef {
        id: "iam.password_complexity",
        title: "Password policy complexity incomplete",
        severity: Severity::Low,
        reads: &["iam password policy"],
        permissions: &["iam:GetAccountPasswordPolicy"],
        cis: &[],
        fsbp: &["IAM.7", "IAM.11", "IAM.12", "IAM.13", "IAM.14", "IAM.17"],
        cli: "aws iam update-account-password-policy --require-uppercase-characters --require-lowercase-characters --require-numbers --require-symbols --max-password-age 90",
        terraform: "aws_iam_account_password_policy { require_uppercase_characters = true, require_lowercase_characters = true, require_numbers = true, require_symbols = true, max_password_age = 90 }",
        console: "IAM > Account settings > Password policy > Edit: require each character type, expire after 90 days",
    },
    CheckDef {
        id: "iam.expired_server_cert",
        title: "Expired server certificate stored in IAM",
        severity: Severity::Medium,
        reads: &["iam server certificate"],
        permissions: &["iam:ListServerCertificates"],
        cis: &["1.19"],
        fsbp: &[],
        cli: "aws iam delete-server-certificate --server-certificate-name NAME",
        terraform: "remove the aws_iam_server_certificate (move listeners to an ACM certificate)",
        console: "IAM server certificates have no console page: use the CLI, or move to ACM",
    },
    CheckDef {
        id: "s3.versioning_off",
        title: "Bucket holding data without versioning",
        severity: Severity::Low,
        reads: &["s3 bucket"],
        permissions: &[
            "s3:ListAllMyBuckets",
            "s3:ListBucket",
            "s3:GetBucketVersioning",
        ],
        cis: &[],
        fsbp: &["S3.14"],
        cli: "aws s3api put-bucket-versioning --bucket B --versioning-configuration Status=Enabled",
        terraform: "aws_s3_bucket_versioning { versioning_configuration { status = \"Enabled\" } }",
        console: "S3 > the bucket > Properties > Bucket Versioning > Edit > Enable",
    },
    CheckDef {
        id: "s3.access_logging_off",
        title: "Bucket holding data without access logging",
        severity: Severity::Low,
        reads: &["s3 bucket"],
        permissions: &[
            "s3:ListAllMyBuckets",
            "s3:ListBucket",
            "s3:GetBucketLogging",
        ],
        cis: &[],
        fsbp: &["S3.9"],
        cli: "aws s3api put-bucket-logging --bucket B --bucket-logging-status '{\"LoggingEnabled\":{\"TargetBucket\":\"LOGS\",\"TargetPrefix\":\"B/\"}}'",
        terraform: "aws_s3_bucket_logging { target_bucket = the log bucket, target_prefix = \"B/\" }",
        console: "S3 > the bucket > Properties > Server access logging > Edit > Enable",
    },
    CheckDef {
        id: "cloudtrail.validation_off",
        title: "CloudTrail log file validation off",
        severity: Severity::Medium,
        reads: &["cloudtrail trail"],
        permissions: &["cloudtrail:DescribeTrails"],
        cis: &["3.2"],
        fsbp: &["CloudTrail.4"],
        cli: "aws cloudtrail update-trail --name T --enable-log-file-validation",
        terraform: "aws_cloudtrail { enable_log_file_validation = true }",
        console: "CloudTrail > Trails > the trail > General details > Edit: Log file validation enabled",
    },
    CheckDef {
        id: "cloudtrail.unencrypted",
        title: "CloudTrail logs not encrypted with a KMS key",
        severity: Severity::Medium,
        reads: &["cloudtrail trail"],
        permissions: &["cloudtrail:DescribeTrails"],
        cis: &["3.5"],
        fsbp: &["CloudTrail.2"],
        cli: "aws cloudtrail update-trail --name T --kms-key-id KEY (the key policy must let CloudTrail use it)",
        terraform: "aws_cloudtrail { kms_key_id = aws_kms_key.trail.arn }",
        console: "CloudTrail > Trails > the trail > General details > Edit: SSE-KMS encryption enabled",
    },
    CheckDef {
        id: "cloudtrail.bucket_logging_off",
        title: "CloudTrail bucket without access logging",
        severity: Severity::Low,
        reads: &["cloudtrail trail", "s3 bucket"],
        permissions: &["cloudtrail:DescribeTrails", "s3:GetBucketLogging"],
        cis: &["3.4"],
        fsbp: &["CloudTrail.7"],
        cli: "aws s3api put-bucket-logging --bucket TRAIL_BUCKET --bucket-logging-status '{\"LoggingEnabled\":{\"TargetBucket\":\"LOGS\",\"TargetPrefix\":\"cloudtrail/\"}}'",
        terraform: "aws_s3_bucket_logging on the trail's aws_s3_bucket",
        console: "S3 > the trail's bucket > Properties > Server access logging > Edit > Enable",
    },
];

pub fn get(id: &str) -> Option<&'static CheckDef> {
    CATALOGUE.iter().find(|c| c.id == id)
}

/// What a report adds to a finding of check `id`: its mappings and remediation steps.
pub fn annotation(id: &str) -> Option<Value> {
    get(id).map(|c| {
        json!({
            "cis_3_0": c.cis,
            "fsbp": c.fsbp,
            "permissions": c.permissions,
            "remediation": {"cli": c.cli, "terraform": c.terraform, "console": c.console},
        })
    })
}

/// Every IAM action the catalogue's checks need, sorted (the README's policy is this list).
pub fn permissions() -> Vec<&'static str> {
    let mut p: Vec<&str> = CATALOGUE
        .iter()
        .flat_map(|c| c.permissions.iter().copied())
        .collect();
    p.sort_unstable();
    p.dedup();
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_has_every_field_and_well_formed_control_ids() {
        let mut seen = std::collections::HashSet::new();
        for c in CATALOGUE {
            assert!(seen.insert(c.id), "{} twice", c.id);
            assert!(c.id.contains('.') && !c.id.contains(' '), "{}: id", c.id);
            for (name, v) in [
                ("title", c.title),
                ("cli", c.cli),
                ("terraform", c.terraform),
                ("console", c.console),
            ] {
                assert!(v.trim().len() > 5, "{}: {name} missing", c.id);
            }
            assert!(!c.reads.is_empty(), "{}: reads missing", c.id);
            assert!(!c.permissions.is_empty(), "{}: permissions missing", c.id);
            for p in c.permissions {
                let (svc, action) = p
                    .split_once(':')
                    .unwrap_or_else(|| panic!("{}: permission {p}", c.id));
                assert!(
                    !svc.is_empty()
                        && action
                            .chars()
                            .next()
                            .is_some_and(|x| x.is_ascii_uppercase()),
                    "{}: {p}",
                    c.id
                );
            }
            for id in c.cis {
                let parts: Vec<&str> = id.split('.').collect();
                assert!(
                    (2..=3).contains(&parts.len()) && parts.iter().all(|p| p.parse::<u8>().is_ok()),
                    "{}: CIS {id}",
                    c.id
                );
                assert!(
                    ("1"..="5").contains(&parts[0]),
                    "{}: CIS v3.0.0 has sections 1 to 5, not {id}",
                    c.id
                );
            }
            for id in c.fsbp {
                let (svc, n) = id
                    .split_once('.')
                    .unwrap_or_else(|| panic!("{}: FSBP {id}", c.id));
                assert!(
                    svc.chars().all(|x| x.is_ascii_alphanumeric()) && n.parse::<u16>().is_ok(),
                    "{}: FSBP {id}",
                    c.id
                );
            }
        }
        assert!(permissions().contains(&"guardduty:ListDetectors"));
    }

    /// Every check the audit code can emit is in the catalogue, at the severity it emits.
    #[test]
    #[allow(clippy::result_large_err)] // the sweep's results carry the port's error
    fn every_emitted_check_is_catalogued_at_its_severity() {
        use super::super::{account, security as sec};
        let mut emitted = Vec::new();
        let rule = |p: &str, f: i32, t: i32| sec::OpenRule {
            group_id: "sg".into(),
            group_name: "g".into(),
            protocol: p.into(),
            from_port: Some(f),
            to_port: Some(t),
            cidr: "0.0.0.0/0".into(),
        };
        emitted.extend(sec::security_group_findings(&[
            rule("tcp", 22, 22),
            rule("tcp", 5432, 5432),
            rule("tcp", 8080, 8080),
        ]));
        emitted.extend(sec::bucket_findings(&sec::BucketFacts {
            id: "b".into(),
            name: "b".into(),
            policy_public: true,
            acl_public: true,
            public_access_block_complete: None,
            default_encryption: false,
        }));
        let st = |a: &str| sec::Statement {
            allow: true,
            actions: vec![a.into()],
            resources: vec!["*".into()],
        };
        emitted.extend(sec::policy_findings(&sec::PolicyFacts {
            name: "p".into(),
            attached: true,
            statements: vec![st("*"), st("iam:*")],
        }));
        emitted.extend(sec::rds_findings(&sec::RdsFacts {
            id: "d".into(),
            public: true,
            encrypted: false,
        }));
        for f in [
            sec::KindFacts::Stream {
                id: "s".into(),
                encrypted: false,
            },
            sec::KindFacts::Cache {
                id: "c".into(),
                engine: "redis".into(),
                at_rest: false,
                in_transit: false,
            },
            sec::KindFacts::Topic {
                id: "t".into(),
                kms: false,
            },
            sec::KindFacts::Balancer {
                id: "b".into(),
                plain_http_ports: vec![80],
            },
            sec::KindFacts::Group {
                id: "g".into(),
                imdsv2_required: false,
            },
        ] {
            emitted.extend(sec::kind_findings(&f));
        }
        emitted.extend(sec::lambda_findings(&sec::LambdaFacts {
            id: "f".into(),
            url_auth: Some("NONE".into()),
            runtime: Some("python3.7".into()),
        }));
        let env = || {
            Ok(vec![account::Environ {
                id: "x".into(),
                secrets: vec![account::SecretVar {
                    name: "P".into(),
                    why: "w",
                }],
            }])
        };
        let snap = || {
            Ok(vec![account::Snapshot {
                id: "s".into(),
                encrypted: false,
                public: true,
            }])
        };
        emitted.extend(account::findings(&account::RegionSweep {
            region: "r".into(),
            volumes: Ok(vec![account::Volume {
                id: "v".into(),
                encrypted: false,
                attached_to: None,
            }]),
            snapshots: snap(),
            databases: Ok(vec![account::Database {
                id: "d".into(),
                backup_retention_days: 0,
                deletion_protection: false,
                auto_minor_version_upgrade: false,
            }]),
            db_snapshots: snap(),
            keys: Ok(vec![account::Key {
                id: "k".into(),
                rotation: false,
            }]),
            log_groups: Ok(vec![account::LogGroup {
                name: "g".into(),
                kms: false,
            }]),
            guardduty: Ok(false),
            functions: env(),
            task_definitions: env(),
            secrets: Ok(vec![account::Secret {
                name: "s".into(),
                rotation: false,
            }]),
            security_hub: Ok(false),
            groups: Ok(vec![
                account::Group {
                    id: "sg-d".into(),
                    name: "default".into(),
                    default: true,
                    rules: 1,
                    world_open: vec![],
                    in_use: true,
                },
                account::Group {
                    id: "sg-u".into(),
                    name: "old".into(),
                    default: false,
                    rules: 1,
                    world_open: vec!["tcp 22".into()],
                    in_use: false,
                },
            ]),
            nacls: Ok(vec![account::Nacl {
                id: "acl".into(),
                ingress: vec![account::NaclEntry {
                    rule: 100,
                    allow: true,
                    world: true,
                    protocol: "-1".into(),
                    from: None,
                    to: None,
                }],
            }]),
        }));
        let now = chrono::Utc::now();
        let long_ago = Some(now - chrono::Duration::days(200));
        let bucket = |name: &str| account::Bucket {
            name: name.into(),
            holds_data: true,
            versioning: false,
            logging: false,
        };
        let (wide, _) = account::wide_findings(
            &account::AccountWide {
                credentials: Ok(account::CredentialReport {
                    root: Some(account::Credential {
                        user: "<root_account>".into(),
                        created: long_ago,
                        password_enabled: true,
                        password_last_used: Some(now),
                        mfa: true,
                        keys: vec![],
                    }),
                    users: vec![account::Credential {
                        user: "u".into(),
                        created: long_ago,
                        password_enabled: true,
                        password_last_used: long_ago,
                        mfa: false,
                        keys: vec![account::AccessKey {
                            n: 1,
                            active: true,
                            last_rotated: long_ago,
                            last_used: long_ago,
                        }],
                    }],
                }),
                principals: Ok(vec![account::Principal {
                    kind: "role",
                    name: "r".into(),
                    policies: vec![("AdministratorAccess".into(), vec![])],
                    trust: Some(
                        serde_json::json!({"Statement": {"Effect": "Allow", "Principal": "*"}}),
                    ),
                }]),
                password_policy: Ok(None),
                server_certs: Ok(vec![account::ServerCert {
                    name: "c".into(),
                    expires: now - chrono::Duration::days(1),
                }]),
                buckets: Ok(vec![bucket("trail-logs")]),
                trails: Ok(vec![account::Trail {
                    name: "t".into(),
                    validation: false,
                    kms: false,
                    bucket: Some("trail-logs".into()),
                }]),
            },
            now,
        );
        emitted.extend(wide);
        let mut ids: Vec<&str> = emitted.iter().map(|f| f.check.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        for f in &emitted {
            let c = get(&f.check).unwrap_or_else(|| panic!("{} is not in the catalogue", f.check));
            if f.check != "iam.admin_wildcard" {
                // An unattached admin policy is one step lower than its catalogue severity.
                assert_eq!(c.severity, f.severity, "{}", f.check);
            }
        }
        assert_eq!(
            ids.len(),
            CATALOGUE.len(),
            "catalogued checks nothing emits: {:?}",
            CATALOGUE
                .iter()
                .map(|c| c.id)
                .filter(|i| !ids.contains(i))
                .collect::<Vec<_>>()
        );
    }
}
