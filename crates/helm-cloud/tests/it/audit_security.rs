//! `audit --type security|compliance|all` against the emulator: every built-in security
//! check with one resource that fails it and one that passes; each compliance control both
//! ways where the emulator supports the API (in an emulator of its own, since they are
//! account-wide); the score, the percentage, JSON shape and exit codes.

use crate::support::*;
use helm_testsupport::{Emulator, unique_name};
use serde_json::{Value, json};
use std::path::Path;

fn all_findings(report: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for sev in ["critical", "high", "medium", "low"] {
        for f in report["findings"]["by_severity"][sev].as_array().unwrap() {
            out.push((
                f["check"].as_str().unwrap().to_string(),
                f["resource"].as_str().unwrap().to_string(),
                sev.to_string(),
            ));
        }
    }
    out
}

fn has(found: &[(String, String, String)], check: &str, resource_prefix: &str, sev: &str) -> bool {
    found
        .iter()
        .any(|(c, r, s)| c == check && r.starts_with(resource_prefix) && s == sev)
}

fn register(root: &Path, p: &str, resources: Value) {
    let f = write(
        root,
        "d.json",
        &json!({"id": p, "environment": "test", "resources": resources}).to_string(),
    );
    assert_eq!(
        helm_run(root, &["registry", "add", "--file", f.to_str().unwrap()]).code,
        0
    );
}

#[test]
fn every_security_check_fails_one_resource_and_passes_another() {
    let emu = Emulator::shared();
    let p = unique_name("sec");
    let created: Value = serde_json::from_str(&emu.seed(
        &json!({
            "buckets": [
                {"name": format!("{p}-open"), "public_policy": true},
                {"name": format!("{p}-acl"), "public_acl": true, "public_access_block": false, "encryption": true},
                {"name": format!("{p}-safe"), "public_access_block": true, "encryption": true},
            ],
            "rds": [{"id": format!("{p}-pub"), "public": true, "encrypted": false}, {"id": format!("{p}-priv"), "public": false, "encrypted": true}],
            "lambdas": [
                {"name": format!("{p}-url"), "url_auth": "NONE", "runtime": "python3.7"},
                {"name": format!("{p}-iam"), "url_auth": "AWS_IAM", "runtime": "python3.12"},
            ],
            "security_groups": [
                {"name": format!("{p}-ssh"), "ingress": [{"port": 22}]},
                {"name": format!("{p}-pg"), "ingress": [{"port": 5432}]},
                {"name": format!("{p}-alt"), "ingress": [{"port": 8080}]},
                {"name": format!("{p}-web"), "ingress": [{"port": 443}, {"port": 80}]},
                {"name": format!("{p}-inside"), "ingress": [{"port": 22, "cidr": "10.0.0.0/8"}]},
            ],
            "policies": [
                {"name": format!("{p}-admin"), "attached": true, "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
                {"name": format!("{p}-loose"), "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
                {"name": format!("{p}-iamstar"), "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}},
                {"name": format!("{p}-scoped"), "attached": true, "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}]}},
            ],
        })
        .to_string(),
    ))
    .unwrap();
    let dir = emulated_project();
    let l =
        |n: &str| json!({"id": n, "type": "lambda", "arn": created["lambda"][format!("{p}-{n}")]});
    register(
        dir.path(),
        &p,
        json!([
            {"id": "open", "type": "s3", "arn": format!("arn:aws:s3:::{p}-open")},
            {"id": "acl", "type": "s3", "arn": format!("arn:aws:s3:::{p}-acl")},
            {"id": "safe", "type": "s3", "arn": format!("arn:aws:s3:::{p}-safe")},
            {"id": "pub", "type": "rds", "arn": created["rds"][format!("{p}-pub")]},
            {"id": "priv", "type": "rds", "arn": created["rds"][format!("{p}-priv")]},
            l("url"), l("iam"),
        ]),
    );
    let r = helm_emu(
        dir.path(),
        &["audit", "--type", "security", "--format", "json"],
    );
    assert_eq!(r.code, 3, "critical findings exit 3: {r:?}");
    let report = r.json();
    let found = all_findings(&report);
    let sg = &created["security_groups"];
    let g = |n: &str| sg[format!("{p}-{n}")].as_str().unwrap().to_string();
    assert!(
        has(&found, "sg.open_admin_port", &g("ssh"), "critical"),
        "{found:?}"
    );
    assert!(has(&found, "sg.open_database_port", &g("pg"), "high"));
    assert!(has(&found, "sg.open_port", &g("alt"), "medium"));
    assert!(
        !found
            .iter()
            .any(|(_, r, _)| r.starts_with(&g("web")) || r.starts_with(&g("inside"))),
        "80/443 and private sources pass"
    );
    assert!(has(&found, "s3.public_bucket", "open", "critical"));
    assert!(has(&found, "s3.public_bucket", "acl", "critical"));
    assert!(has(&found, "s3.public_access_block", "open", "medium"));
    assert!(has(&found, "s3.default_encryption", "open", "low"));
    assert!(
        !found.iter().any(|(_, r, _)| r.starts_with("safe ")),
        "{found:?}"
    );
    assert!(has(
        &found,
        "iam.admin_wildcard",
        &format!("{p}-admin"),
        "critical"
    ));
    assert!(
        has(&found, "iam.admin_wildcard", &format!("{p}-loose"), "high"),
        "not attached: high"
    );
    assert!(has(
        &found,
        "iam.service_wildcard",
        &format!("{p}-iamstar"),
        "high"
    ));
    assert!(!found.iter().any(|(_, r, _)| r == &format!("{p}-scoped")));
    assert!(has(&found, "rds.public", "pub", "high"));
    assert!(has(&found, "rds.unencrypted", "pub", "medium"));
    assert!(!found.iter().any(|(_, r, _)| r == "priv"));
    assert!(has(&found, "lambda.public_url", "url", "high"));
    assert!(has(&found, "lambda.deprecated_runtime", "url", "medium"));
    assert!(!found.iter().any(|(_, r, _)| r == "iam"));
    let score = report["metrics"]["security_score"].as_i64().unwrap();
    assert!((0..=100).contains(&score));
    assert_eq!(report["summary"]["overall_status"], "critical");
    assert!(
        dir.path()
            .join(report["report_path"].as_str().unwrap())
            .exists()
    );
    // Critical findings opened issues.
    assert!(report["issues"].as_array().unwrap().iter().any(|i| {
        i["fingerprint"]
            .as_str()
            .unwrap()
            .contains("sg.open_admin_port")
    }));
}

#[test]
fn compliance_controls_both_ways_and_all_combined() {
    let emu = Emulator::dedicated();
    let dir = emulated_project();
    let run = |args: &[&str]| {
        let mut cmd = helm(dir.path());
        for (k, v) in emu.env() {
            cmd.env(k, v);
        }
        run(cmd.args(args))
    };
    let controls = |r: &Run| -> Vec<(String, String)> {
        r.json()["metrics"]["controls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().unwrap().to_string(),
                    c["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // A fresh account: no password policy, no trail, no account block, no encryption by
    // default, no flow logs, no recorder.
    let before = run(&["audit", "--type", "compliance", "--format", "json"]);
    let c = controls(&before);
    let status = |c: &[(String, String)], id: &str| {
        c.iter()
            .find(|(x, _)| x == id)
            .map(|(_, s)| s.clone())
            .unwrap()
    };
    for id in [
        "iam_password_policy",
        "cloudtrail_multi_region",
        "s3_account_public_access_block",
        "ebs_default_encryption",
        "vpc_flow_logs",
        "config_recording",
    ] {
        assert_eq!(status(&c, id), "fail", "{id} before: {c:?}");
    }
    assert_eq!(status(&c, "root_access_keys"), "pass");
    assert_eq!(status(&c, "sg_admin_ports"), "pass");
    assert_eq!(
        status(&c, "rds_storage_encryption"),
        "pass",
        "no instance is unencrypted"
    );
    assert!(
        before.json()["metrics"]["config_rules"]["not_evaluated"].is_string(),
        "the emulator cannot answer Config rules"
    );
    let pct = before.json()["metrics"]["compliance_percentage"]
        .as_f64()
        .unwrap();
    let evaluated = before.json()["metrics"]["controls_evaluated"]
        .as_f64()
        .unwrap();
    let passed = before.json()["metrics"]["controls_passed"]
        .as_f64()
        .unwrap();
    assert_eq!(pct, (passed / evaluated * 1000.0).round() / 10.0);

    // Security Hub: active findings count, archived and suppressed ones do not.
    emu.seed(
        &json!({"hub_findings": [
            {"id": "hub-active-high", "severity": "HIGH", "title": "S3 bucket without logging"},
            {"id": "hub-archived", "severity": "CRITICAL", "title": "old", "record_state": "ARCHIVED"},
            {"id": "hub-suppressed", "severity": "CRITICAL", "title": "accepted risk", "workflow": "SUPPRESSED"},
            {"id": "hub-info", "severity": "INFORMATIONAL", "title": "fyi"},
        ]})
        .to_string(),
    );
    let sec = run(&["audit", "--type", "security", "--format", "json"]);
    let hub: Vec<(String, String, String)> = all_findings(&sec.json())
        .into_iter()
        .filter(|(c, _, _)| c.starts_with("securityhub."))
        .collect();
    assert_eq!(
        hub,
        vec![(
            "securityhub.hub-active-high".to_string(),
            "arn:aws:s3:::x".to_string(),
            "high".to_string()
        )],
        "{:#}",
        sec.json()
    );

    // Make the account compliant, and open SSH to the world, then audit again.
    emu.seed(&json!({"compliant_account": true, "security_groups": [{"name": "bastion", "ingress": [{"port": 22}]}], "rds": [{"id": "plain-db", "encrypted": false}]}).to_string());
    let after = run(&["audit", "--type", "compliance", "--format", "json"]);
    let c = controls(&after);
    for id in [
        "iam_password_policy",
        "cloudtrail_multi_region",
        "s3_account_public_access_block",
        "ebs_default_encryption",
        "vpc_flow_logs",
        "config_recording",
    ] {
        assert_eq!(status(&c, id), "pass", "{id} after: {c:?}");
    }
    assert_eq!(status(&c, "sg_admin_ports"), "fail");
    assert_eq!(status(&c, "rds_storage_encryption"), "fail");
    assert_eq!(after.code, 3, "a world-open SSH port is critical");

    // --type all combines the three.
    let all = run(&["audit", "--type", "all", "--format", "json"]);
    let m = &all.json()["metrics"];
    assert!(
        m["cost"].is_object() && m["security"].is_object() && m["compliance"].is_object(),
        "{m:#}"
    );
    assert_eq!(all.json()["audit"]["type"], "all");
    assert_eq!(all.code, 3);
}

/// Suppressions (audit-suppressions.toml): a held-back finding is listed, not counted, and
/// touches no issue; an expired one counts again and is said; a broken file is exit 65.
#[test]
fn a_suppressed_finding_is_listed_not_counted_until_it_expires() {
    // Its own emulator: the security audit reads the whole account.
    let emu = Emulator::dedicated();
    let p = unique_name("mute");
    emu.seed(
        &json!({"buckets": [{"name": format!("{p}-open"), "public_policy": true}]}).to_string(),
    );
    let dir = emulated_project();
    register(
        dir.path(),
        &p,
        json!([{"id": "open", "type": "s3", "arn": format!("arn:aws:s3:::{p}-open")}]),
    );
    let audit = || {
        run(helm_against(&emu, dir.path())
            .env("HELM_NOW", "2026-12-02T12:00:00Z")
            .args(["audit", "--type", "security", "--format", "json"]))
    };
    let suppress = |expires: &str| {
        write(
            dir.path(),
            ".fractary/plugins/helm-cloud/config/audit-suppressions.toml",
            &format!(
                "[[suppress]]\ncheck = \"*\"\nresource = \"*{p}-open*\"\nreason = \"public site, reviewed\"\nexpires = \"{expires}\"\n"
            ),
        )
    };
    let active = |root: &Path| {
        helm_run(root, &["issues", "--format", "json"]).json()["issues"]
            .as_array()
            .unwrap()
            .len()
    };

    // Before any suppression: the bucket's findings fail the audit.
    let open = audit();
    assert!(open.code >= 1, "{open:?}");
    let failing = all_findings(&open.json()).len();
    assert!(failing > 0);
    let issues_open = active(dir.path());
    assert!(issues_open > 0);

    // In force: listed as suppressed, not counted, and the open issues stay as they are.
    suppress("2027-03-01");
    let held = audit();
    assert_eq!(held.code, 0, "nothing left to fail: {held:?}");
    let report = held.json();
    assert!(all_findings(&report).is_empty(), "{report:#}");
    let listed = report["suppressed"].as_array().unwrap();
    assert_eq!(listed.len(), failing);
    assert_eq!(report["summary"]["suppressed"], failing);
    assert!(
        listed
            .iter()
            .all(|s| s["reason"] == "public site, reviewed" && s["expires"] == "2027-03-01")
    );
    assert_eq!(
        active(dir.path()),
        issues_open,
        "a suppression neither opens nor resolves"
    );
    let md = std::fs::read_to_string(
        dir.path()
            .join(report["report_path"].as_str().unwrap())
            .with_extension("md"),
    )
    .unwrap();
    assert!(
        md.contains("## Suppressed") && md.contains("public site, reviewed"),
        "{md}"
    );

    // Expired: the findings count again, and the expiry is said.
    suppress("2026-12-01");
    let back = audit();
    assert_eq!(back.code, open.code, "{back:?}");
    assert_eq!(all_findings(&back.json()).len(), failing);
    assert!(
        back.stderr.contains("expired on 2026-12-01"),
        "{}",
        back.stderr
    );

    // A broken file stops the audit before AWS, naming the file and line; nothing written.
    write(
        dir.path(),
        ".fractary/plugins/helm-cloud/config/audit-suppressions.toml",
        "[[suppress]]\ncheck = \"*\"\n",
    );
    let reports = |root: &Path| {
        std::fs::read_dir(root.join(".fractary/plugins/helm-cloud/audits/test"))
            .unwrap()
            .count()
    };
    let before = reports(dir.path());
    let bad = audit();
    assert_eq!(bad.code, 65, "{bad:?}");
    assert!(
        bad.stderr.contains("audit-suppressions.toml") && bad.stderr.contains("says why"),
        "{}",
        bad.stderr
    );
    assert_eq!(reports(dir.path()), before);
    let v = helm_run(dir.path(), &["config", "validate"]);
    assert_eq!(v.code, 65, "config validate checks it too: {v:?}");
    assert!(v.stdout.contains("audit-suppressions.toml"), "{}", v.stdout);
}

#[test]
fn the_checks_of_streams_caches_topics_balancers_and_groups_fail_one_and_pass_another() {
    let emu = Emulator::shared();
    let p = unique_name("sk");
    let arns = emu.run_python(
        r#"
import sys, json, boto3
ep, p = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=ep, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
out = {}
kin = boto3.client('kinesis', **kw)
for n in ['plain', 'kms']:
    kin.create_stream(StreamName=f'{p}-{n}', ShardCount=1)
    out['stream-' + n] = kin.describe_stream_summary(StreamName=f'{p}-{n}')['StreamDescriptionSummary']['StreamARN']
kin.start_stream_encryption(StreamName=f'{p}-kms', EncryptionType='KMS', KeyId='alias/aws/kinesis')
ec = boto3.client('elasticache', **kw)
out['cache-redis'] = ec.create_cache_cluster(CacheClusterId=f'{p}-redis', Engine='redis', CacheNodeType='cache.t3.micro', NumCacheNodes=1)['CacheCluster']['ARN']
# Memcached has no at-rest encryption to ask for; in transit it has.
out['cache-memcached'] = ec.create_cache_cluster(CacheClusterId=f'{p}-mc', Engine='memcached', CacheNodeType='cache.t3.micro', NumCacheNodes=1, TransitEncryptionEnabled=True)['CacheCluster']['ARN']
sns = boto3.client('sns', **kw)
out['topic-plain'] = sns.create_topic(Name=f'{p}-plain')['TopicArn']
out['topic-kms'] = sns.create_topic(Name=f'{p}-kms', Attributes={'KmsMasterKeyId': 'alias/aws/sns'})['TopicArn']
ec2 = boto3.client('ec2', **kw)
vpc = ec2.create_vpc(CidrBlock='10.7.0.0/16')['Vpc']['VpcId']
subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f'10.7.{i}.0/24', AvailabilityZone=az)['Subnet']['SubnetId']
           for i, az in enumerate(['us-east-1a', 'us-east-1b'])]
elb = boto3.client('elbv2', **kw)
tg = elb.create_target_group(Name=f'{p}-tg', Protocol='HTTP', Port=80, VpcId=vpc)['TargetGroups'][0]['TargetGroupArn']
for n, action in [('http', {'Type': 'forward', 'TargetGroupArn': tg}),
                  ('redirect', {'Type': 'redirect', 'RedirectConfig': {'Protocol': 'HTTPS', 'Port': '443', 'StatusCode': 'HTTP_301'}})]:
    lb = elb.create_load_balancer(Name=f'{p}-{n}', Subnets=subnets, Type='application')['LoadBalancers'][0]['LoadBalancerArn']
    elb.create_listener(LoadBalancerArn=lb, Protocol='HTTP', Port=80, DefaultActions=[action])
    out['lb-' + n] = lb
asg = boto3.client('autoscaling', **kw)
for n, tokens in [('v1', 'optional'), ('v2', 'required')]:
    ec2.create_launch_template(LaunchTemplateName=f'{p}-{n}', LaunchTemplateData={
        'ImageId': 'ami-0abcdef1234567890', 'MetadataOptions': {'HttpTokens': tokens}})
    asg.create_auto_scaling_group(AutoScalingGroupName=f'{p}-{n}', LaunchTemplate={'LaunchTemplateName': f'{p}-{n}'},
                                  MinSize=0, MaxSize=1, DesiredCapacity=0, VPCZoneIdentifier=subnets[0])
    out['asg-' + n] = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[f'{p}-{n}'])['AutoScalingGroups'][0]['AutoScalingGroupARN']
print(json.dumps(out))
"#,
        &[&p],
    );
    let dir = emulated_project();
    let entries: Vec<Value> = arns
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, arn)| {
            let kind = match id.split('-').next().unwrap() {
                "stream" => "kinesis",
                "cache" => "elasticache",
                "topic" => "sns",
                "lb" => "alb",
                _ => "asg",
            };
            json!({"id": id, "type": kind, "arn": arn})
        })
        .collect();
    register(dir.path(), &p, Value::Array(entries));
    let r = helm_emu(
        dir.path(),
        &["audit", "--type", "security", "--format", "json"],
    );
    let report = r.json();
    let found: Vec<(String, String, String)> = all_findings(&report)
        .into_iter()
        .filter(|(c, ..)| !c.starts_with("sg.") && !c.starts_with("iam."))
        .collect();
    let mut want = vec![
        ("alb.http_listener", "lb-http", "medium"),
        ("asg.imdsv1", "asg-v1", "medium"),
        ("elasticache.unencrypted_at_rest", "cache-redis", "medium"),
        (
            "elasticache.unencrypted_in_transit",
            "cache-redis",
            "medium",
        ),
        ("kinesis.unencrypted", "stream-plain", "medium"),
        ("sns.unencrypted", "topic-plain", "low"),
    ];
    want.sort();
    let mut got: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|(c, r, s)| (c.as_str(), r.as_str(), s.as_str()))
        .collect();
    got.sort();
    assert_eq!(got, want, "{r:?}");
    // Each resource was read: every check evaluated, nothing of theirs "not evaluated".
    let not_evaluated = report["summary"]["not_evaluated"]
        .as_array()
        .expect("the summary lists what was not evaluated");
    for id in ["stream", "cache", "topic", "lb-", "asg"] {
        assert!(
            !not_evaluated
                .iter()
                .any(|l| l.as_str().unwrap().contains(id)),
            "{not_evaluated:?}"
        );
    }
    let evaluated = report["checks_evaluated"].as_array().unwrap();
    for (check, ..) in &want {
        assert!(
            evaluated.iter().any(|c| c == check),
            "{check}: {evaluated:?}"
        );
    }
}
