//! An environment that spans accounts (`accounts` in environments.json) against the
//! emulator: moto's STS AssumeRole gives each role's credentials its own account, so 10
//! accounts × 3 regions hold their own queues. One account's role is denied (an injected
//! AccessDenied on its AssumeRole): its resources are UNKNOWN with the reason, and every
//! other account is judged, one resource missing in each account and region among them.

use crate::support::*;
use helm_testsupport::Emulator;
use serde_json::{Value, json};
use std::path::Path;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
/// The account whose role is denied.
const DENIED: &str = "222222222222";

fn account(n: usize) -> String {
    format!("{}", 222_222_222_214 + n as u64 * 2)
}

/// Seed `per` queues in every account and region (through each account's assumed role),
/// and write the environment and a registry that also names one queue per account and
/// region that does not exist.
fn fleet(emu: &Emulator, root: &Path, accounts: usize, per: usize) -> usize {
    let ids: Vec<String> = (0..accounts).map(account).collect();
    assert!(ids.contains(&DENIED.to_string()));
    let script = r#"
import sys, json, boto3
ep, accounts, regions, per = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
kw = dict(endpoint_url=ep, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
sts = boto3.client('sts', **kw)
for a in accounts:
    c = sts.assume_role(RoleArn=f'arn:aws:iam::{a}:role/helm-read', RoleSessionName='seed')['Credentials']
    for r in regions:
        sqs = boto3.client('sqs', endpoint_url=ep, region_name=r, aws_access_key_id=c['AccessKeyId'],
                           aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'])
        for i in range(per):
            sqs.create_queue(QueueName=f'q{i}')
"#;
    emu.run_python(
        script,
        &[
            serde_json::to_string(&ids).unwrap().as_str(),
            serde_json::to_string(&REGIONS).unwrap().as_str(),
            per.to_string().as_str(),
        ],
    );
    let mut resources = Vec::new();
    for a in &ids {
        for r in REGIONS {
            for i in 0..=per {
                // q<per> was never created: one missing queue per account and region.
                resources.push(json!({"id": format!("q-{a}-{r}-{i}"), "type": "sqs",
                    "arn": format!("arn:aws:sqs:{r}:{a}:q{i}")}));
            }
        }
    }
    let n = resources.len();
    write(
        root,
        REGISTRY,
        &json!({"deployments": [{"id": "fleet", "environment": "test", "resources": resources}]})
            .to_string(),
    );
    let accesses: Vec<Value> = ids
        .iter()
        .map(|a| {
            json!({"account_id": a, "role_arn": format!("arn:aws:iam::{a}:role/helm-read"),
            "external_id": "helm", "regions": REGIONS})
        })
        .collect();
    write(
        root,
        ENVIRONMENTS,
        &json!({"version": "1.0.0", "environments": {"test": {"name": "test",
            "requires_confirmation": false, "accounts": accesses}}})
        .to_string(),
    );
    write(
        root,
        MONITORING,
        "[helm-cloud]\nenvironments = [\"test\"]\n",
    );
    n
}

fn deny_the_role(emu: &Emulator) {
    let rule = json!({"operation": "AssumeRole", "match": DENIED, "code": "AccessDenied",
        "message": "injected fault: not authorized to assume this role", "status": 403});
    let (code, _) = emu
        .request("POST", "/helm-emulator/faults", &rule.to_string())
        .unwrap();
    assert_eq!(code, 200);
}

/// (AWS calls, seconds) of `health --concurrency C`, from `-v`'s call lines.
fn health(emu: &Emulator, root: &Path, concurrency: &str) -> (Run, usize, f64) {
    let started = std::time::Instant::now();
    let r = run(helm_against(emu, root).args([
        "health",
        "--format",
        "json",
        "-v",
        "--concurrency",
        concurrency,
    ]));
    let secs = started.elapsed().as_secs_f64();
    let calls = r.stderr.lines().filter(|l| l.starts_with("aws: ")).count();
    (r, calls, secs)
}

#[test]
fn health_fans_out_over_accounts_and_regions_and_a_denied_account_is_unknown_with_the_reason() {
    let emu = Emulator::dedicated();
    let dir = emulated_project();
    let root = dir.path();
    let per = 200;
    let n = fleet(&emu, root, 10, per);
    assert_eq!(n, 10 * 3 * (per + 1));
    deny_the_role(&emu);

    let (r, calls, secs) = health(&emu, root, "8");
    assert!(r.code == 2 || r.code == 3, "{}", r.stderr);
    let doc = r.json();
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), n);
    let of = |a: &str| -> Vec<&Value> {
        results
            .iter()
            .filter(|x| x["account"].as_str() == Some(a))
            .collect()
    };
    // The denied account: every resource UNKNOWN, saying why; no issue opened for it.
    let denied = of(DENIED);
    assert_eq!(denied.len(), 3 * (per + 1));
    for x in &denied {
        assert_eq!(x["status"], "UNKNOWN", "{x}");
        let why = x["reasons"].to_string();
        assert!(
            why.contains("sts:AssumeRole") && why.contains(DENIED),
            "{why}"
        );
    }
    assert!(
        r.stderr
            .contains(&format!("account {DENIED} of test could not be reached")),
        "{}",
        r.stderr
    );
    // Every other account judged: its queues HEALTHY, the missing one UNHEALTHY.
    for a in (0..10).map(account).filter(|a| a != DENIED) {
        let mine = of(&a);
        assert_eq!(mine.len(), 3 * (per + 1), "{a}");
        let unhealthy: Vec<&str> = mine
            .iter()
            .filter(|x| x["status"] == "UNHEALTHY")
            .map(|x| x["id"].as_str().unwrap())
            .collect();
        let mut want: Vec<String> = REGIONS.iter().map(|r| format!("q-{a}-{r}-{per}")).collect();
        want.sort();
        let mut got: Vec<String> = unhealthy.iter().map(|s| s.to_string()).collect();
        got.sort();
        assert_eq!(got, want, "{a}");
        assert_eq!(
            mine.iter().filter(|x| x["status"] == "HEALTHY").count(),
            3 * per,
            "{a}"
        );
    }
    // Issues carry the account.
    let issues_dir = root.join(".fractary/helm/issues/active");
    let issues: Vec<Value> = std::fs::read_dir(&issues_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap())
        .collect();
    assert_eq!(issues.len(), 9 * 3, "one per missing queue");
    assert!(
        issues
            .iter()
            .all(|i| i["account"].as_str().is_some_and(|a| a != DENIED))
    );

    // The same work one account and region at a time: the same AWS requests.
    let (serial, serial_calls, serial_secs) = health(&emu, root, "1");
    assert_eq!(serial.json()["results"].as_array().unwrap().len(), n);
    assert_eq!(serial_calls, calls, "the same requests, fanned out or not");
    eprintln!(
        "health over 10 accounts x 3 regions x {} resources: {calls} requests; {secs:.2}s fanned out (8), {serial_secs:.2}s one at a time ({:.1}x)",
        per + 1,
        serial_secs / secs
    );
}

/// A resource of a listed account would be changed with the project's own credentials, in
/// the wrong account: refused (exit 4) before anything is planned, files as they were.
#[test]
fn remediation_in_a_listed_account_is_refused_before_anything_is_planned() {
    let dir = project();
    let root = dir.path();
    write(
        root,
        REGISTRY,
        &json!({"deployments": [{"id": "d", "environment": "test", "resources": [
            {"id": "api", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:111111111111:function:api"}]}]})
        .to_string(),
    );
    write(
        root,
        ENVIRONMENTS,
        &json!({"version": "1.0.0", "environments": {"test": {"name": "test", "requires_confirmation": false,
            "accounts": [{"account_id": "111111111111", "role_arn": "arn:aws:iam::111111111111:role/helm"}]}}})
        .to_string(),
    );
    let history = root.join(".fractary/plugins/helm-cloud/remediations");
    let r = helm_run(
        root,
        &[
            "remediate",
            "--action",
            "restart_lambda",
            "--service",
            "api",
            "--yes",
        ],
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains("account 111111111111") && r.stderr.contains("nothing was changed"),
        "{}",
        r.stderr
    );
    assert!(!history.exists(), "nothing planned, nothing recorded");
}

#[test]
fn a_bad_account_entry_is_refused_where_it_is_written_and_zero_concurrency_is_a_usage_error() {
    let dir = project();
    for (access, says) in [
        (
            json!({"account_id": "1234", "role_arn": "arn:aws:iam::1234:role/r"}),
            "12-digit",
        ),
        (
            json!({"account_id": "111111111111", "role_arn": "arn:aws:iam::222222222222:role/r"}),
            "a role of account 222222222222",
        ),
        (
            json!({"account_id": "111111111111", "role_arn": "role/r"}),
            "not an IAM role ARN",
        ),
        (
            json!({"account_id": "111111111111", "role_arn": "arn:aws:iam::111111111111:role/r", "regions": ["mars"]}),
            "not an AWS region",
        ),
        (
            json!({"account_id": "111111111111", "role_arn": "arn:aws:iam::111111111111:role/r", "rgions": []}),
            "rgions",
        ),
    ] {
        let text = json!({"version": "1.0.0", "environments": {"test": {"name": "test",
            "requires_confirmation": false, "accounts": [access]}}})
        .to_string();
        write(dir.path(), ENVIRONMENTS, &text);
        let r = helm_run(dir.path(), &["health"]);
        assert_eq!(r.code, 65, "{access}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{access}: {}", r.stderr);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(ENVIRONMENTS)).unwrap(),
            text
        );
    }
    let r = helm_run(dir.path(), &["health", "--concurrency", "0"]);
    assert_eq!(r.code, 64, "{}", r.stderr);
}

/// Two functions of the same name in two accounts: one clean, one failing half its calls.
/// Each account's metrics are read with its own credentials, so the failing twin pages and
/// the clean one does not (read with one account's credentials, both would look alike).
#[test]
fn twins_of_the_same_name_in_two_accounts_are_judged_each_on_its_own_metrics() {
    let emu = Emulator::shared();
    let name = helm_testsupport::unique_name("twin");
    let (a, b) = ("111111111111", "333333333333");
    let traffic = |errors: u32| -> Vec<Value> {
        let dims = json!({"FunctionName": name});
        let mut out = Vec::new();
        let mut m = 3 * 60 - 2;
        while m > 0 {
            out.push(json!({"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": dims, "value": 20, "minutes_ago": m}));
            out.push(json!({"namespace": "AWS/Lambda", "name": "Errors", "dimensions": dims, "value": errors, "minutes_ago": m}));
            m -= 5;
        }
        out
    };
    for (account, errors) in [(a, 0), (b, 10)] {
        emu.seed(
            &json!({"assume_role": format!("arn:aws:iam::{account}:role/helm-read"),
                "lambdas": [{"name": name}], "metrics": traffic(errors)})
            .to_string(),
        );
    }
    let dir = emulated_project();
    let root = dir.path();
    let resources: Vec<Value> = [("api-a", a), ("api-b", b)]
        .iter()
        .map(|(id, acct)| {
            json!({"id": id, "type": "lambda",
            "arn": format!("arn:aws:lambda:us-east-1:{acct}:function:{name}")})
        })
        .collect();
    write(
        root,
        REGISTRY,
        &json!({"deployments": [{"id": "d", "environment": "test", "resources": resources}]})
            .to_string(),
    );
    let accesses: Vec<Value> = [a, b]
        .iter()
        .map(|x| json!({"account_id": x, "role_arn": format!("arn:aws:iam::{x}:role/helm-read")}))
        .collect();
    write(
        root,
        ENVIRONMENTS,
        &json!({"version": "1.0.0", "environments": {"test": {"name": "test",
            "requires_confirmation": false, "accounts": accesses}}})
        .to_string(),
    );
    write(
        root,
        MONITORING,
        "[helm-cloud]\nenvironments = [\"test\"]\n",
    );

    let h = run(helm_against(emu, root).args(["health", "--format", "json"]));
    let results = h.json()["results"].as_array().unwrap().clone();
    let status = |id: &str| {
        results
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status("api-a"), "HEALTHY", "{}", h.stdout);
    assert_eq!(status("api-b"), "UNHEALTHY", "{}", h.stdout);

    let s = run(helm_against(emu, root).args(["slo", "--format", "json"]));
    assert_eq!(s.code, 2, "a page: {}", s.stderr);
    let doc = s.json();
    let availability = |id: &str| {
        doc["slo_report"]["objectives"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["resource"] == id && o["objective"] == "availability")
            .cloned()
            .unwrap_or_else(|| panic!("no availability objective of {id}: {doc:#}"))
    };
    assert_eq!(availability("api-a")["alert"], "ok");
    assert_eq!(availability("api-b")["alert"], "page");
}

/// Seed, through each account's assumed role, a security group in us-east-1; those of
/// `open` accounts with SSH open to the world. Returns each account's group id.
fn security_groups(emu: &Emulator, accounts: &[&str], open: &[&str]) -> Vec<String> {
    let script = r#"
import sys, json, boto3
ep, accounts, open_ = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
kw = dict(endpoint_url=ep, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
sts = boto3.client('sts', **kw)
ids = []
for a in accounts:
    c = sts.assume_role(RoleArn=f'arn:aws:iam::{a}:role/helm-read', RoleSessionName='seed')['Credentials']
    ec2 = boto3.client('ec2', endpoint_url=ep, region_name='us-east-1', aws_access_key_id=c['AccessKeyId'],
                       aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'])
    g = ec2.create_security_group(GroupName='admin', Description='bastion')['GroupId']
    if a in open_:
        ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[{'IpProtocol': 'tcp',
            'FromPort': 22, 'ToPort': 22, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
    ids.append(g)
print(json.dumps(ids))
"#;
    let ids = emu.run_python(
        script,
        &[
            serde_json::to_string(accounts).unwrap().as_str(),
            serde_json::to_string(open).unwrap().as_str(),
        ],
    );
    serde_json::from_value(ids).unwrap()
}

/// Close account `a`'s world-open SSH rule on group `g` (through its role).
fn close_ssh(emu: &Emulator, a: &str, g: &str) {
    let script = r#"
import sys, boto3
ep, a, g = sys.argv[1:4]
kw = dict(endpoint_url=ep, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
c = boto3.client('sts', **kw).assume_role(RoleArn=f'arn:aws:iam::{a}:role/helm-read', RoleSessionName='fix')['Credentials']
boto3.client('ec2', endpoint_url=ep, region_name='us-east-1', aws_access_key_id=c['AccessKeyId'],
             aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken']
).revoke_security_group_ingress(GroupId=g, IpPermissions=[{'IpProtocol': 'tcp', 'FromPort': 22,
    'ToPort': 22, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
"#;
    emu.run_python(script, &[a, g]);
}

fn active_issues(root: &Path, dir: &str) -> Vec<Value> {
    let d = root.join(format!(".fractary/helm/issues/{dir}"));
    let Ok(entries) = std::fs::read_dir(&d) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap())
        .collect()
}

/// `audit` fans out over the environment's accounts: each account's findings are named in
/// it and carry it, and its evidence resolves only its own issues. An account whose role is
/// then denied evaluates nothing, says so, and its issue stays open while the fixed
/// account's issue resolves: a check that passed in one account is no pass in another.
#[test]
fn audit_fans_out_over_accounts_and_a_denied_account_keeps_its_issue_open() {
    let emu = Emulator::dedicated();
    let dir = emulated_project();
    let root = dir.path();
    let (a, b) = ("111111111111", "333333333333");
    let accounts = [a, DENIED, b];
    let groups = security_groups(&emu, &accounts, &[a, DENIED]);
    let resources: Vec<Value> = accounts
        .iter()
        .map(|x| json!({"id": format!("q-{x}"), "type": "sqs", "arn": format!("arn:aws:sqs:us-east-1:{x}:q")}))
        .collect();
    write(
        root,
        REGISTRY,
        &json!({"deployments": [{"id": "fleet", "environment": "test", "resources": resources}]})
            .to_string(),
    );
    let accesses: Vec<Value> = accounts
        .iter()
        .map(|x| json!({"account_id": x, "role_arn": format!("arn:aws:iam::{x}:role/helm-read"), "regions": ["us-east-1"]}))
        .collect();
    write(
        root,
        ENVIRONMENTS,
        &json!({"version": "1.0.0", "environments": {"test": {"name": "test",
            "requires_confirmation": false, "accounts": accesses}}})
        .to_string(),
    );
    write(
        root,
        MONITORING,
        "[helm-cloud]\nenvironments = [\"test\"]\n",
    );
    let audit =
        || run(helm_against(&emu, root).args(["audit", "--type", "security", "--format", "json"]));
    let open_ssh = |doc: &Value| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = doc["findings"]["by_severity"]["critical"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check"] == "sg.open_admin_port")
            .map(|f| {
                (
                    f["account"].as_str().unwrap_or("-").to_string(),
                    f["resource"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };

    let first = audit();
    assert_ne!(first.code, 0, "{}", first.stderr);
    let doc = first.json();
    assert_eq!(
        open_ssh(&doc),
        vec![
            (a.to_string(), format!("{a}:{} (admin)", groups[0])),
            (
                DENIED.to_string(),
                format!("{DENIED}:{} (admin)", groups[1])
            ),
        ],
        "{doc}"
    );
    // Scores are not added up over accounts: the worst is the environment's.
    assert_eq!(doc["metrics"]["security_score"], 80, "{doc}");
    assert_eq!(doc["metrics"]["by_account"][b]["security_score"], 100);
    assert_eq!(doc["metrics"]["checked"]["world_open_ingress_rules"], 2);
    let reached: Vec<(&str, bool)> = doc["audit"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["account"].as_str().unwrap(),
                x["reached"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(reached, vec![(a, true), (DENIED, true), (b, true)]);
    let opened = active_issues(root, "active");
    let mut owners: Vec<&str> = opened
        .iter()
        .filter(|i| i["metrics"]["check"] == "sg.open_admin_port")
        .map(|i| i["account"].as_str().unwrap())
        .collect();
    owners.sort();
    assert_eq!(owners, vec![a, DENIED]);

    // Account a fixes its group; account DENIED's role is then refused.
    close_ssh(&emu, a, &groups[0]);
    deny_the_role(&emu);
    let second = audit();
    let doc = second.json();
    assert_eq!(open_ssh(&doc), Vec::<(String, String)>::new(), "{doc}");
    assert_eq!(doc["summary"]["evaluation"], "partial", "{doc}");
    let missed = doc["summary"]["not_evaluated"].to_string();
    assert!(
        missed.contains(&format!("account {DENIED}: every check")) && missed.contains("AssumeRole"),
        "{missed}"
    );
    let denied = doc["audit"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["account"] == DENIED)
        .unwrap()
        .clone();
    assert_eq!(denied["reached"], false, "{denied}");
    let still: Vec<String> = active_issues(root, "active")
        .iter()
        .filter(|i| i["metrics"]["check"] == "sg.open_admin_port")
        .map(|i| i["account"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        still,
        vec![DENIED.to_string()],
        "only the fixed account's issue resolves"
    );
    let resolved: Vec<String> = active_issues(root, "resolved")
        .iter()
        .filter(|i| i["metrics"]["check"] == "sg.open_admin_port")
        .map(|i| i["account"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(resolved, vec![a.to_string()]);
}
