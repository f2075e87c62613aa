use crate::support::*;
use std::process::Stdio;

const ALL_KINDS: &str = r#"{"id": "acme-test", "environment": "test", "project": "acme", "deployed_at": "2025-11-04T09:12:00Z", "x-pipeline": 7,
 "resources": [
  {"id": "api", "type": "AWS::Lambda::Function", "arn": "arn:aws:lambda:us-east-1:123456789012:function:acme-api"},
  {"id": "web", "type": "AWS::ECS::Service", "arn": "arn:aws:ecs:us-east-1:123456789012:service/acme/web"},
  {"id": "db", "type": "AWS::RDS::DBInstance", "arn": "arn:aws:rds:us-east-1:123456789012:db:acme-db"},
  {"id": "assets", "type": "AWS::S3::Bucket", "arn": "arn:aws:s3:::acme-assets"},
  {"id": "cdn", "type": "AWS::CloudFront::Distribution", "arn": "arn:aws:cloudfront::123456789012:distribution/E1"},
  {"id": "gw", "type": "AWS::ApiGateway::RestApi", "arn": "arn:aws:apigateway:us-east-1::/restapis/abc"},
  {"id": "tbl", "type": "AWS::DynamoDB::Table", "arn": "arn:aws:dynamodb:us-east-1:123456789012:table/acme"},
  {"id": "q", "type": "AWS::SQS::Queue", "arn": "arn:aws:sqs:us-east-1:123456789012:acme-q", "owner": "team-a"},
  {"id": "k", "type": "AWS::EC2::Instance", "arn": "arn:aws:ec2:us-east-1:123456789012:instance/i-0k"}
 ]}"#;

#[test]
fn add_list_remove_round_trip_with_aliases_and_unknown_fields() {
    let dir = project();
    let f = write(dir.path(), "d.json", ALL_KINDS);
    let r = helm_run(
        dir.path(),
        &["registry", "add", "--file", f.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("added deployment acme-test (9 resources)"),
        "{}",
        r.stdout
    );

    let list = helm_run(
        dir.path(),
        &["registry", "list", "--env", "test", "--format", "json"],
    );
    let types: Vec<String> = list.json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "lambda",
            "ecs",
            "rds",
            "s3",
            "cloudfront",
            "apigateway",
            "dynamodb",
            "sqs",
            "AWS::EC2::Instance"
        ]
    );
    assert!(list.stderr.contains("unsupported type"), "{}", list.stderr);
    let text = helm_run(dir.path(), &["registry", "list"]);
    assert!(
        text.stdout.contains("9 resources in 1 deployments"),
        "{}",
        text.stdout
    );

    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(REGISTRY)).unwrap()).unwrap();
    assert_eq!(stored["deployments"][0]["x-pipeline"], 7);
    assert_eq!(stored["deployments"][0]["resources"][7]["owner"], "team-a");
    assert_eq!(
        stored["deployments"][0]["resources"][0]["type"], "AWS::Lambda::Function",
        "the type is kept as written"
    );

    // Upsert by id: the same id replaces.
    let f2 = write(
        dir.path(),
        "d2.json",
        &deployment("acme-test", "test", &["only-one"]),
    );
    let r = helm_run(
        dir.path(),
        &["registry", "add", "--file", f2.to_str().unwrap()],
    );
    assert!(
        r.stdout
            .contains("updated deployment acme-test (1 resources)"),
        "{}",
        r.stdout
    );

    let r = helm_run(dir.path(), &["registry", "remove", "acme-test"]);
    assert_eq!(r.code, 0, "{r:?}");
    let list = helm_run(dir.path(), &["registry", "list", "--format", "json"]);
    assert!(list.json()["deployments"].as_array().unwrap().is_empty());
}

#[test]
fn add_reads_stdin_with_a_dash() {
    let dir = project();
    let mut child = helm(dir.path())
        .args(["registry", "add", "--file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(deployment("from-stdin", "test", &["f1"]).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let list = helm_run(dir.path(), &["registry", "list", "--format", "json"]);
    assert_eq!(list.json()["deployments"][0]["id"], "from-stdin");
}

#[test]
fn later_deployed_at_wins_per_arn_in_the_environment_view() {
    let dir = project();
    let newer = deployment("v2", "test", &["shared-fn"])
        .replace("2025-11-04T09:12:00Z", "2025-11-05T00:00:00Z")
        .replace("\"id\": \"shared-fn\"", "\"id\": \"api-v2\"");
    let older = deployment("v1", "test", &["shared-fn"])
        .replace("\"id\": \"shared-fn\"", "\"id\": \"api-v1\"");
    for (name, doc) in [("a.json", newer), ("b.json", older)] {
        let f = write(dir.path(), name, &doc);
        assert_eq!(
            helm_run(
                dir.path(),
                &["registry", "add", "--file", f.to_str().unwrap()]
            )
            .code,
            0
        );
    }
    let list = helm_run(
        dir.path(),
        &["registry", "list", "--env", "test", "--format", "json"],
    );
    let res = list.json()["resources"].as_array().unwrap().clone();
    assert_eq!(res.len(), 1);
    assert_eq!(res[0]["id"], "api-v2");
    assert_eq!(res[0]["deployment"], "v2");
}

#[test]
fn a_corrupt_registry_gives_65_and_add_leaves_it_byte_identical() {
    let dir = project();
    let full = std::fs::read_to_string(dir.path().join(REGISTRY)).unwrap();
    for corrupt in [
        &full[..full.len() / 2],
        "{\"deployments\": [{\"id\": 5}]}",
        "{\"version\": \"9.0.0\", \"deployments\": []}",
    ] {
        write(dir.path(), REGISTRY, corrupt);
        let f = write(dir.path(), "d.json", &deployment("x", "test", &["f"]));
        let r = helm_run(
            dir.path(),
            &["registry", "add", "--file", f.to_str().unwrap()],
        );
        assert_eq!(r.code, 65, "{r:?}");
        assert!(r.stderr.contains("deployments.json"), "{}", r.stderr);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(REGISTRY)).unwrap(),
            corrupt,
            "the file changed"
        );
        assert_eq!(helm_run(dir.path(), &["registry", "list"]).code, 65);
        assert_eq!(helm_run(dir.path(), &["registry", "remove", "x"]).code, 65);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(REGISTRY)).unwrap(),
            corrupt
        );
    }
}

#[test]
fn an_invalid_deployment_file_is_refused_and_the_registry_untouched() {
    let dir = project();
    let before = std::fs::read(dir.path().join(REGISTRY)).unwrap();
    let bad_arn = deployment("x", "test", &["f"]).replace("arn:aws:lambda", "arn:aws:sqs");
    for doc in [bad_arn.as_str(), "{\"id\": \"x\"}", "not json"] {
        let f = write(dir.path(), "bad.json", doc);
        let r = helm_run(
            dir.path(),
            &["registry", "add", "--file", f.to_str().unwrap()],
        );
        assert_eq!(r.code, 65, "{doc}: {r:?}");
        assert!(r.stderr.contains("bad.json"), "{}", r.stderr);
    }
    let r = helm_run(dir.path(), &["registry", "add", "--file", "missing.json"]);
    assert_eq!(r.code, 64, "{r:?}");
    assert_eq!(std::fs::read(dir.path().join(REGISTRY)).unwrap(), before);
}

/// 50 separate processes add a deployment each at once, while a reader parses the file
/// continuously: every read parses, and all 50 deployments are there at the end.
#[test]
fn fifty_concurrent_writers_lose_nothing_and_readers_never_see_a_torn_file() {
    let dir = project();
    let root = dir.path().to_path_buf();
    let files: Vec<_> = (0..50)
        .map(|i| {
            write(
                &root,
                &format!("d{i}.json"),
                &deployment(&format!("dep-{i}"), "test", &[&format!("fn-{i}")]),
            )
        })
        .collect();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (stop, path) = (stop.clone(), root.join(REGISTRY));
        std::thread::spawn(move || {
            let mut reads = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let text = std::fs::read_to_string(&path).expect("the registry is always there");
                let v: serde_json::Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("torn read: {e}\n{text}"));
                assert!(v["deployments"].is_array());
                reads += 1;
            }
            reads
        })
    };
    let children: Vec<_> = files
        .iter()
        .map(|f| {
            helm(&root)
                .args(["registry", "add", "--file", f.to_str().unwrap()])
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().unwrap();
    assert!(reads > 0);
    let list = helm_run(&root, &["registry", "list", "--format", "json"]);
    let mut ids: Vec<String> = list.json()["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let mut expected: Vec<String> = (0..50).map(|i| format!("dep-{i}")).collect();
    expected.sort();
    assert_eq!(ids, expected);
    let leftovers: Vec<_> = std::fs::read_dir(root.join(".fractary/registry"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `registry import --terraform-state` on a state written the way Terraform writes it
/// (tests/it/fixtures/terraform/prod.tfstate: real attribute names, a data source, a
/// module, a for_each key, an IAM role helm-cloud has no kind for), against the emulator:
/// the deployment is written, the role is listed as not imported, a second import changes
/// nothing, a dry run prints the diff and writes nothing, and `health` judges what was
/// imported (the function the state names but AWS does not hold is not HEALTHY).
#[test]
fn import_from_a_terraform_state_then_again_changes_nothing_and_health_judges_it() {
    let emu = helm_testsupport::Emulator::shared();
    let seed = r#"
import sys, boto3
kw = dict(endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
boto3.client('sqs', **kw).create_queue(QueueName='tfimp-orders')
boto3.client('s3', **kw).create_bucket(Bucket='tfimp-assets-prod')
try:
    boto3.client('dynamodb', **kw).create_table(TableName='tfimp-sessions', BillingMode='PAY_PER_REQUEST',
        KeySchema=[{'AttributeName': 'id', 'KeyType': 'HASH'}], AttributeDefinitions=[{'AttributeName': 'id', 'AttributeType': 'S'}])
except boto3.client('dynamodb', **kw).exceptions.ResourceInUseException:
    pass
"#;
    emu.run_python(seed, &[]);
    let dir = emulated_project();
    let root = dir.path();
    write(
        root,
        ENVIRONMENTS,
        r#"{"version": "1.0.0", "environments": {"prod": {"name": "prod", "requires_confirmation": true}}}"#,
    );
    write(
        root,
        MONITORING,
        "[helm-cloud]\nenvironments = [\"prod\"]\n",
    );
    let state = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/fixtures/terraform/prod.tfstate"
    );
    let registry = root.join(REGISTRY);

    // A dry run: the diff, nothing written.
    let untouched = std::fs::read(&registry).ok();
    let dry = helm_run(
        root,
        &[
            "registry",
            "import",
            "--terraform-state",
            state,
            "--env",
            "prod",
            "--dry-run",
        ],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains(
            "+ sessions (dynamodb) arn:aws:dynamodb:us-east-1:123456789012:table/tfimp-sessions"
        ),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("+ jobs-orders (sqs)"), "{}", dry.stdout);
    assert_eq!(
        std::fs::read(&registry).ok(),
        untouched,
        "a dry run wrote the registry"
    );

    let first = helm_run(
        root,
        &[
            "registry",
            "import",
            "--terraform-state",
            state,
            "--env",
            "prod",
            "--format",
            "json",
        ],
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    let doc = first.json();
    let mut added: Vec<&str> = doc["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    added.sort();
    assert_eq!(
        added,
        vec!["api", "jobs-orders", "sessions", "storage-assets"]
    );
    assert_eq!(doc["unsupported"][0]["address"], "aws_iam_role.exec");
    assert_eq!(doc["data_sources"], 1);
    assert!(
        first
            .stderr
            .contains("aws_iam_role.exec (aws_iam_role): not imported"),
        "{}",
        first.stderr
    );
    let reg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&registry).unwrap()).unwrap();
    let d = &reg["deployments"][0];
    assert_eq!(d["id"], "terraform-default");
    assert_eq!(d["environment"], "prod");
    assert_eq!(d["source"]["terraform"]["serial"], 27);

    // The same state again: nothing changes, the file is byte for byte as it was.
    let before = std::fs::read(&registry).unwrap();
    let again = helm_run(
        root,
        &[
            "registry",
            "import",
            "--terraform-state",
            state,
            "--env",
            "prod",
            "--format",
            "json",
        ],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json()["written"], false);
    assert_eq!(again.json()["unchanged"], 4);
    assert_eq!(std::fs::read(&registry).unwrap(), before);

    let health = run(helm_against(emu, root).args(["health", "--env", "prod", "--format", "json"]));
    let doc = health.json();
    let status = |id: &str| {
        doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["status"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{id} not checked: {doc}"))
    };
    for id in ["jobs-orders", "sessions", "storage-assets"] {
        assert_eq!(status(id), "HEALTHY", "{id}: {doc}");
    }
    assert_ne!(status("api"), "HEALTHY", "{doc}");
}

/// A state that is not one is refused (65) naming the file, and the registry is untouched.
#[test]
fn importing_something_that_is_not_a_terraform_state_is_refused_and_changes_nothing() {
    let dir = project();
    let root = dir.path();
    write(
        root,
        REGISTRY,
        &format!(
            r#"{{"deployments": [{}]}}"#,
            deployment("d", "test", &["f"])
        ),
    );
    let before = std::fs::read(root.join(REGISTRY)).unwrap();
    let bad = write(root, "old.tfstate", r#"{"version": 3, "modules": []}"#);
    let r = helm_run(
        root,
        &[
            "registry",
            "import",
            "--terraform-state",
            bad.to_str().unwrap(),
            "--env",
            "test",
        ],
    );
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains("old.tfstate") && r.stderr.contains("only version 4"),
        "{}",
        r.stderr
    );
    let r = helm_run(
        root,
        &[
            "registry",
            "import",
            "--terraform-state",
            "missing.tfstate",
            "--env",
            "test",
        ],
    );
    assert_eq!(r.code, 64, "{}", r.stderr);
    assert_eq!(std::fs::read(root.join(REGISTRY)).unwrap(), before);
}

/// `registry import --cloudformation` and `--tag` against the emulator (a dedicated one:
/// `--all-stacks` and the tag query see the whole account), then `registry drift`: none
/// at first; after a stack's queue is deleted behind CloudFormation's back, a queue is
/// added to the stack and a resource gains the tag, drift names all three (exit 1).
#[test]
fn import_from_stacks_and_tags_then_drift_after_a_deletion_and_additions() {
    let emu = helm_testsupport::Emulator::dedicated();
    let py = |script: &str| {
        emu.run_python(script, &[]);
    };
    let prelude = r#"
import sys, json, boto3
kw = dict(endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
tpl = {"Resources": {
  "Orders": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "shop-orders"}},
  "Sessions": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "shop-sessions", "BillingMode": "PAY_PER_REQUEST",
     "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]}},
  "Assets": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "shop-assets-prod"}},
  "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "shop-alerts"}},
  "Flag": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "shop-flag", "Type": "String", "Value": "on"}}}}
cfn = boto3.client('cloudformation', **kw)
sqs = boto3.client('sqs', **kw)
"#;
    py(&format!(
        "{prelude}
cfn.create_stack(StackName='shop', TemplateBody=json.dumps(tpl))
sqs.create_queue(QueueName='pay-jobs', tags={{'team': 'payments'}})
boto3.client('dynamodb', **kw).create_table(TableName='pay-ledger', BillingMode='PAY_PER_REQUEST',
    KeySchema=[{{'AttributeName': 'id', 'KeyType': 'HASH'}}], AttributeDefinitions=[{{'AttributeName': 'id', 'AttributeType': 'S'}}],
    Tags=[{{'Key': 'team', 'Value': 'payments'}}])
"
    ));
    let dir = emulated_project();
    let root = dir.path();
    let helm = |args: &[&str]| run(helm_against(&emu, root).args(args));

    let first = helm(&[
        "registry",
        "import",
        "--cloudformation",
        "shop",
        "--format",
        "json",
    ]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let doc = first.json();
    let mut added: Vec<&str> = doc["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    added.sort();
    assert_eq!(
        added,
        vec!["Alerts", "Assets", "Orders", "Sessions"],
        "{doc}"
    );
    assert_eq!(doc["deployment"], "shop");
    assert_eq!(doc["unsupported"][0]["kind"], "AWS::SSM::Parameter");
    assert!(
        first
            .stderr
            .contains("Flag (AWS::SSM::Parameter): not imported"),
        "{}",
        first.stderr
    );
    let reg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join(REGISTRY)).unwrap()).unwrap();
    let shop = reg["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "shop")
        .unwrap();
    let orders = shop["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "Orders")
        .unwrap();
    assert_eq!(
        orders["arn"],
        "arn:aws:sqs:us-east-1:123456789012:shop-orders"
    );
    assert_eq!(orders["type"], "sqs");
    // CloudFormation names a topic by its ARN: the entry is named by the topic.
    let alerts = shop["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "Alerts")
        .unwrap();
    assert_eq!(alerts["type"], "sns");
    assert!(
        alerts["arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:sns:us-east-1:")
    );
    assert_eq!(
        alerts["name"].as_str(),
        alerts["arn"].as_str().unwrap().rsplit(':').next()
    );

    // Again, and every stack as a dry run: nothing changes, nothing is written.
    let before = std::fs::read(root.join(REGISTRY)).unwrap();
    let again = helm(&[
        "registry",
        "import",
        "--cloudformation",
        "shop",
        "--format",
        "json",
    ]);
    assert_eq!(again.json()["written"], false, "{}", again.stdout);
    let all = helm(&["registry", "import", "--all-stacks", "--dry-run"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    assert!(
        all.stdout
            .contains("deployment shop is up to date (4 resources)"),
        "{}",
        all.stdout
    );
    assert_eq!(std::fs::read(root.join(REGISTRY)).unwrap(), before);
    let missing = helm(&["registry", "import", "--cloudformation", "nope"]);
    assert_eq!(missing.code, 64, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("no CloudFormation stack \"nope\""),
        "{}",
        missing.stderr
    );

    let tagged = helm(&[
        "registry",
        "import",
        "--tag",
        "team=payments",
        "--format",
        "json",
    ]);
    assert_eq!(tagged.code, 0, "{}", tagged.stderr);
    let doc = tagged.json();
    assert_eq!(doc["deployment"], "tag-team-payments");
    let mut added: Vec<&str> = doc["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    added.sort();
    assert_eq!(added, vec!["pay-jobs", "pay-ledger"], "{doc}");

    let clean = helm(&["registry", "drift", "--format", "json"]);
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    assert_eq!(clean.json()["checked"], 6);

    // Behind the registry's back: a stack queue deleted, a queue added to the stack, a
    // new resource tagged.
    py(&format!(
        "{prelude}
sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName='shop-orders')['QueueUrl'])
tpl['Resources']['Returns'] = {{'Type': 'AWS::SQS::Queue', 'Properties': {{'QueueName': 'shop-returns'}}}}
cfn.update_stack(StackName='shop', TemplateBody=json.dumps(tpl))
sqs.create_queue(QueueName='pay-refunds', tags={{'team': 'payments'}})
"
    ));
    let before = std::fs::read(root.join(REGISTRY)).unwrap();
    let drift = helm(&["registry", "drift", "--format", "json"]);
    assert_eq!(drift.code, 1, "{}\n{}", drift.stdout, drift.stderr);
    let doc = drift.json();
    let gone: Vec<&str> = doc["gone"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(gone, vec!["Orders"], "{doc}");
    let mut new: Vec<(String, String)> = doc["unregistered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["arn"].as_str().unwrap().to_string(),
                u["source"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    new.sort();
    assert_eq!(
        new,
        vec![
            (
                "arn:aws:sqs:us-east-1:123456789012:pay-refunds".to_string(),
                "tag team=payments".to_string()
            ),
            (
                "arn:aws:sqs:us-east-1:123456789012:shop-returns".to_string(),
                "stack shop".to_string()
            ),
        ],
        "{doc}"
    );
    let text = helm(&["registry", "drift"]);
    assert_eq!(text.code, 1);
    assert!(
        text.stdout
            .contains("gone          Orders arn:aws:sqs:us-east-1:123456789012:shop-orders"),
        "{}",
        text.stdout
    );
    assert_eq!(
        std::fs::read(root.join(REGISTRY)).unwrap(),
        before,
        "drift only reads"
    );
}

/// A state recorded at import is read again by `drift`: a resource added to the state
/// that is not registered is drift; a state file that is gone is "not checked" (exit 3),
/// never "no drift".
#[test]
fn drift_reads_the_imported_state_again_and_a_missing_state_is_not_checked() {
    let emu = helm_testsupport::Emulator::shared();
    emu.run_python("import sys, boto3; boto3.client('sqs', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='t', aws_secret_access_key='t').create_queue(QueueName='tfdrift-jobs')", &[]);
    let dir = emulated_project();
    let root = dir.path();
    let queue = |name: &str| {
        serde_json::json!({"mode": "managed", "type": "aws_sqs_queue", "name": name,
            "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
            "instances": [{"schema_version": 0, "attributes": {"name": format!("tfdrift-{name}"),
                "arn": format!("arn:aws:sqs:us-east-1:123456789012:tfdrift-{name}"),
                "id": format!("https://sqs.us-east-1.amazonaws.com/123456789012/tfdrift-{name}")}}]})
    };
    let state = |resources: Vec<serde_json::Value>| {
        serde_json::json!({"version": 4, "terraform_version": "1.9.8", "serial": 3,
            "lineage": "l", "outputs": {}, "resources": resources})
        .to_string()
    };
    write(root, "infra/terraform.tfstate", &state(vec![queue("jobs")]));
    let r = run(helm_against(emu, root).args([
        "registry",
        "import",
        "--terraform-state",
        "infra/terraform.tfstate",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(helm_against(emu, root).args(["registry", "drift", "--format", "json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    write(
        root,
        "infra/terraform.tfstate",
        &state(vec![queue("jobs"), queue("mail")]),
    );
    let r = run(helm_against(emu, root).args(["registry", "drift", "--format", "json"]));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let doc = r.json();
    assert_eq!(
        doc["unregistered"][0]["arn"],
        "arn:aws:sqs:us-east-1:123456789012:tfdrift-mail"
    );
    assert_eq!(
        doc["unregistered"][0]["source"],
        "state infra/terraform.tfstate"
    );

    std::fs::remove_file(root.join("infra/terraform.tfstate")).unwrap();
    let r = run(helm_against(emu, root).args(["registry", "drift", "--format", "json"]));
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.json()["not_checked"][0]
            .as_str()
            .unwrap()
            .contains("cannot be read"),
        "{}",
        r.stdout
    );
}

/// A stack's Auto Scaling group is imported under its real ARN (its physical id is only a
/// name; the ARN's UUID is read back with DescribeAutoScalingGroups), a stream under the
/// ARN built from its name, a target group with the balancer it forwards from
/// (DescribeTargetGroups: the stack does not say); all are then judged by `health`.
/// Not covered here: ElastiCache clusters in a stack (the emulator's CloudFormation cannot
/// create them; the unit tests build their ARN) and an ECS service's target group (the
/// emulator drops a stack's, and UpdateService's, LoadBalancers of a service).
#[test]
fn a_stacks_instance_group_stream_and_target_group_are_imported_with_what_the_stack_omits() {
    let emu = helm_testsupport::Emulator::shared();
    let p = helm_testsupport::unique_name("stk");
    emu.run_python(
        r#"
import sys, json, boto3
ep, p = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=ep, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
ec2 = boto3.client('ec2', **kw)
vpc = ec2.create_vpc(CidrBlock='10.6.0.0/16')['Vpc']['VpcId']
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock='10.6.0.0/24', AvailabilityZone='us-east-1a')['Subnet']['SubnetId']
other = ec2.create_subnet(VpcId=vpc, CidrBlock='10.6.1.0/24', AvailabilityZone='us-east-1b')['Subnet']['SubnetId']
tpl = {"Resources": {
  "Lb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"Name": f"{p}-lb", "Subnets": [subnet, other], "Type": "application"}},
  "Tg": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {"Name": f"{p}-tg", "Protocol": "HTTP", "Port": 80, "VpcId": vpc, "TargetType": "ip"}},
  "Http": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {"LoadBalancerArn": {"Ref": "Lb"}, "Protocol": "HTTP", "Port": 80,
         "DefaultActions": [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}]}},
  "Https": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {"LoadBalancerArn": {"Ref": "Lb"}, "Protocol": "HTTP", "Port": 8443,
         "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Tg"}}]}},
  "Tpl": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateName": f"{p}-workers",
          "LaunchTemplateData": {"ImageId": "ami-0abcdef1234567890", "InstanceType": "t3.micro"}}},
  "Workers": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {"AutoScalingGroupName": f"{p}-workers",
          "MinSize": "1", "MaxSize": "3", "DesiredCapacity": "1", "VPCZoneIdentifier": [subnet],
          "LaunchTemplate": {"LaunchTemplateId": {"Ref": "Tpl"}, "Version": {"Fn::GetAtt": ["Tpl", "LatestVersionNumber"]}}}},
  "Clicks": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": f"{p}-clicks", "ShardCount": 1}}}}
boto3.client('cloudformation', **kw).create_stack(StackName=p, TemplateBody=json.dumps(tpl))
"#,
        &[&p],
    );
    let want = emu.run_python(
        r#"
import sys, json, boto3
ep, p = sys.argv[1], sys.argv[2]
a = boto3.client('autoscaling', endpoint_url=ep, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
e = boto3.client('elbv2', endpoint_url=ep, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
# The emulator's CloudFormation does not register a group's Targets: registered here.
tg = e.describe_target_groups(Names=[f'{p}-tg'])['TargetGroups'][0]['TargetGroupArn']
e.register_targets(TargetGroupArn=tg, Targets=[{'Id': '10.6.0.20', 'Port': 80}])
print(json.dumps({
  'asg': a.describe_auto_scaling_groups(AutoScalingGroupNames=[f'{p}-workers'])['AutoScalingGroups'][0]['AutoScalingGroupARN'],
  'lb': e.describe_load_balancers(Names=[f'{p}-lb'])['LoadBalancers'][0]['LoadBalancerArn']}))
"#,
        &[&p],
    );
    let dir = emulated_project();
    let root = dir.path();
    let r = run(helm_against(emu, root).args([
        "registry",
        "import",
        "--cloudformation",
        &p,
        "--format",
        "json",
    ]));
    assert_eq!(r.code, 0, "{r:?}");
    let reg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join(REGISTRY)).unwrap()).unwrap();
    let entry = |id: &str| {
        reg["deployments"][0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id}: {reg:#}"))
            .clone()
    };
    assert_eq!(entry("Workers")["type"], "asg");
    assert_eq!(entry("Workers")["arn"], want["asg"]);
    assert_eq!(entry("Lb")["type"], "alb");
    assert_eq!(entry("Tg")["type"], "targetgroup");
    assert_eq!(entry("Tg")["load_balancer_arn"], want["lb"]);
    assert_eq!(entry("Clicks")["type"], "kinesis");
    assert_eq!(
        entry("Clicks")["arn"],
        format!("arn:aws:kinesis:us-east-1:123456789012:stream/{p}-clicks")
    );
    let h = run(helm_against(emu, root).args(["health", "--format", "json"]));
    let report = h.json();
    for id in ["Workers", "Clicks", "Tg", "Lb"] {
        let res = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap();
        assert_eq!(res["status"], "HEALTHY", "{res:#}");
    }
}

/// A target group found by its tag is imported with the balancer it forwards from
/// (DescribeTargetGroups), so its metrics can be read; then `health` judges it.
#[test]
fn a_tagged_target_group_is_imported_with_its_balancer() {
    let emu = helm_testsupport::Emulator::shared();
    let p = helm_testsupport::unique_name("tgtag");
    let want = emu.run_python(
        r#"
import sys, json, boto3
ep, p = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=ep, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
ec2 = boto3.client('ec2', **kw)
vpc = ec2.create_vpc(CidrBlock='10.5.0.0/16')['Vpc']['VpcId']
subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f'10.5.{i}.0/24', AvailabilityZone=az)['Subnet']['SubnetId']
           for i, az in enumerate(['us-east-1a', 'us-east-1b'])]
elb = boto3.client('elbv2', **kw)
lb = elb.create_load_balancer(Name=f'{p}-lb', Subnets=subnets, Type='application')['LoadBalancers'][0]['LoadBalancerArn']
tg = elb.create_target_group(Name=f'{p}-tg', Protocol='HTTP', Port=80, VpcId=vpc, TargetType='ip',
                             Tags=[{'Key': 'team', 'Value': p}])['TargetGroups'][0]['TargetGroupArn']
elb.create_listener(LoadBalancerArn=lb, Protocol='HTTP', Port=80, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tg}])
elb.register_targets(TargetGroupArn=tg, Targets=[{'Id': '10.5.0.9', 'Port': 80}])
print(json.dumps({'lb': lb, 'tg': tg}))
"#,
        &[&p],
    );
    let dir = emulated_project();
    let root = dir.path();
    let r = run(helm_against(emu, root).args([
        "registry",
        "import",
        "--tag",
        &format!("team={p}"),
        "--format",
        "json",
    ]));
    assert_eq!(r.code, 0, "{r:?}");
    let reg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join(REGISTRY)).unwrap()).unwrap();
    let entry = &reg["deployments"][0]["resources"][0];
    assert_eq!(entry["type"], "targetgroup", "{reg:#}");
    assert_eq!(entry["arn"], want["tg"]);
    assert_eq!(entry["load_balancer_arn"], want["lb"]);
    let h = run(helm_against(emu, root).args(["health", "--format", "json"]));
    let res = &h.json()["results"][0];
    assert_eq!(res["status"], "HEALTHY", "{res:#}");
    assert_eq!(res["metrics"]["healthy_count"], 1);
}
