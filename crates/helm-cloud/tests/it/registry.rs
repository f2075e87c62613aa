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
  {"id": "k", "type": "AWS::Kinesis::Stream", "arn": "arn:aws:kinesis:us-east-1:123456789012:stream/k"}
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
            "AWS::Kinesis::Stream"
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
    let out = std::process::Command::new(emu.python())
        .args(["-c", seed, &emu.endpoint])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
