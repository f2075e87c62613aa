//! Shared state on S3 (`[state] backend = "s3"`) against the emulator: concurrent writers
//! through S3 conditional writes lose nothing, a stale ETag is a conflict that is retried,
//! `state migrate` copies a project up and back with nothing lost, and replicas of `watch`
//! share one lease: one runs, the others stand by, one takes over when the holder is
//! killed.

use crate::support::*;
use helm_core::state::{self, Cond, ObjectStore, Written};
use helm_testsupport::{Emulator, unique_name};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// Create `bucket` in the emulator (boto3, beside the code under test).
pub(crate) fn create_bucket(emu: &Emulator, bucket: &str) {
    emu.run_python(
        "import sys, boto3\n\
         s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
         aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         s3.create_bucket(Bucket=sys.argv[2])",
        &[bucket],
    );
}

/// Every key in `bucket` (boto3).
pub(crate) fn bucket_keys(emu: &Emulator, bucket: &str) -> Vec<String> {
    let keys = emu.run_python(
        "import sys, json, boto3\n\
         s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
         aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         print(json.dumps([o['Key'] for o in s3.list_objects_v2(Bucket=sys.argv[2]).get('Contents', [])]))",
        &[bucket],
    );
    serde_json::from_value(keys).unwrap()
}

/// The S3 store the binary would build, with one attempt per call (no SDK retry hides a
/// conflict) and every call counted in `calls`.
async fn store(emu: &Emulator, bucket: &str, calls: Arc<AtomicU32>) -> helm_aws::state::S3Store {
    let mut cs =
        helm_aws::ClientSettings::new(helm_core::config::Credentials::DefaultChain, "us-east-1");
    cs.endpoint_url = Some(emu.endpoint.clone());
    cs.static_keys = Some(helm_aws::StaticKeys {
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        session_token: None,
    });
    cs.max_attempts = 1;
    cs.call_sink = Some(Arc::new(move |_c: &helm_aws::CallRecord| {
        calls.fetch_add(1, Ordering::SeqCst);
    }));
    helm_aws::AwsClients::new(cs)
        .await
        .state_store(bucket, "team/helm", "us-east-1")
}

/// Appends `item` to the JSON list at the key (the change re-applied on every round).
fn append(item: String) -> impl FnMut(Option<&[u8]>) -> Result<Vec<u8>, String> {
    move |prev| {
        let mut list: Vec<String> = match prev {
            None => Vec::new(),
            Some(b) => serde_json::from_slice(b).map_err(|e| e.to_string())?,
        };
        list.push(item.clone());
        Ok(serde_json::to_vec(&list).unwrap())
    }
}

/// 20 writers × 5 appends to one object. The emulator answers one request at a time
/// (`--serialize`): moto checks `If-Match` apart from the write, so under concurrent
/// writers two can both win, which S3 does not allow; serialised, this tests our
/// compare-and-swap, not moto's race.
#[test]
fn twenty_concurrent_writers_on_s3_lose_nothing_and_a_stale_etag_is_retried() {
    let emu = Emulator::dedicated_serialized();
    let bucket = unique_name("state").to_lowercase();
    create_bucket(&emu, &bucket);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let calls = Arc::new(AtomicU32::new(0));
        let s = Arc::new(store(&emu, &bucket, Arc::clone(&calls)).await);

        // Uncontended: one write is one GET and one conditional PUT.
        let before = calls.load(Ordering::SeqCst);
        let done = state::update(&*s, "solo.json", append("x".into())).await.unwrap();
        assert_eq!(done.attempts, 1);
        assert_eq!(calls.load(Ordering::SeqCst) - before, 2, "GET + PUT");

        // 20 concurrent writers, 5 appends each.
        let before = calls.load(Ordering::SeqCst);
        let mut tasks = Vec::new();
        for w in 0..20 {
            let s = Arc::clone(&s);
            tasks.push(tokio::spawn(async move {
                let mut rounds = 0;
                for k in 0..5 {
                    let done = state::update(&*s, "shared.json", append(format!("w{w}-{k}")))
                        .await
                        .unwrap_or_else(|e| panic!("writer {w}: {e}"));
                    rounds += done.attempts;
                }
                rounds
            }));
        }
        let mut rounds = 0;
        for t in tasks {
            rounds += t.await.unwrap();
        }
        let requests = calls.load(Ordering::SeqCst) - before;
        let v = s.get("shared.json").await.unwrap().unwrap();
        let mut got: Vec<String> = serde_json::from_slice(&v.bytes).unwrap();
        got.sort();
        let mut want: Vec<String> = (0..20)
            .flat_map(|w| (0..5).map(move |k| format!("w{w}-{k}")))
            .collect();
        want.sort();
        assert_eq!(got, want, "every writer's every update is there, once");
        assert!(rounds > 100, "the writers did collide ({rounds} rounds for 100 writes)");
        eprintln!(
            "20 writers x 5: {requests} S3 requests for 100 writes ({:.2} per write, {rounds} rounds)",
            f64::from(requests) / 100.0
        );

        // A stale ETag: read, another writer moves the object on, our write is refused.
        let old = s.get("solo.json").await.unwrap().unwrap();
        let Written::Done(_) = s
            .put("solo.json", b"[\"y\"]".to_vec(), Cond::Matches(old.etag.clone()))
            .await
            .unwrap()
        else {
            panic!("a write on the current version lands")
        };
        assert_eq!(
            s.put("solo.json", b"[\"z\"]".to_vec(), Cond::Matches(old.etag.clone()))
                .await
                .unwrap(),
            Written::Conflict,
            "412 PreconditionFailed is a conflict"
        );
        assert_eq!(
            s.put("solo.json", b"[]".to_vec(), Cond::Absent).await.unwrap(),
            Written::Conflict,
            "If-None-Match on an existing key is a conflict"
        );
        assert_eq!(s.delete("solo.json", &old.etag).await.unwrap(), Written::Conflict);
        // update retried: its first round read a version that another writer (its own
        // client, from another thread) replaces before the write; the second round lands
        // and both changes are there.
        let endpoint = emu.endpoint.clone();
        let bucket2 = bucket.clone();
        let mut first = true;
        let done = state::update(&*s, "solo.json", |prev| {
            if std::mem::take(&mut first) {
                let (endpoint, bucket2) = (endpoint.clone(), bucket2.clone());
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Runtime::new().unwrap();
                    rt.block_on(async {
                        let emu_calls = Arc::new(AtomicU32::new(0));
                        let other = store_at(&endpoint, &bucket2, emu_calls).await;
                        state::update(&other, "solo.json", append("other".into()))
                            .await
                            .unwrap();
                    })
                })
                .join()
                .unwrap();
            }
            append("mine".into())(prev)
        })
        .await
        .unwrap();
        assert_eq!(done.attempts, 2, "the stale round was refused and retried");
        let v = s.get("solo.json").await.unwrap().unwrap();
        let got: Vec<String> = serde_json::from_slice(&v.bytes).unwrap();
        assert_eq!(got, ["y", "other", "mine"]);
    });
}

async fn store_at(endpoint: &str, bucket: &str, calls: Arc<AtomicU32>) -> helm_aws::state::S3Store {
    let mut cs =
        helm_aws::ClientSettings::new(helm_core::config::Credentials::DefaultChain, "us-east-1");
    cs.endpoint_url = Some(endpoint.to_string());
    cs.static_keys = Some(helm_aws::StaticKeys {
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        session_token: None,
    });
    cs.max_attempts = 1;
    cs.call_sink = Some(Arc::new(move |_c: &helm_aws::CallRecord| {
        calls.fetch_add(1, Ordering::SeqCst);
    }));
    helm_aws::AwsClients::new(cs)
        .await
        .state_store(bucket, "team/helm", "us-east-1")
}

pub(crate) fn state_config(root: &Path, bucket: &str, extra: &str) {
    write(
        root,
        MONITORING,
        &format!(
            "[helm-cloud]\nenvironments = [\"test\"]\n\n[state]\nbucket = \"{bucket}\"\nprefix = \"team/helm\"\n{extra}"
        ),
    );
}

/// Every file under `.fractary/`, relative path → bytes (locks left out).
fn tree(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let base = root.join(".fractary");
    let mut stack = vec![base.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.to_string_lossy().ends_with(".lock") {
                let rel = p
                    .strip_prefix(&base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn migrate_copies_a_project_up_and_back_with_nothing_lost_and_no_secret_uploaded() {
    let emu = Emulator::shared();
    let bucket = unique_name("migrate").to_lowercase();
    create_bucket(emu, &bucket);
    let up = emulated_project();
    let root = up.path();
    state_config(root, &bucket, "");
    let state_files = [
        (REGISTRY, "{\"deployments\": []}\n"),
        (
            ".fractary/helm/issues/active/INFRA-001.json",
            "{\"id\": \"INFRA-001\"}\n",
        ),
        (".fractary/helm/issues/sequence.json", "{\"INFRA\": 1}\n"),
        (
            ".fractary/plugins/helm-cloud/monitoring/test/2026-12-03T08-00-00Z.json",
            "{}\n",
        ),
        (
            ".fractary/plugins/helm-cloud/watch/state.json",
            "{\"version\": 1}\n",
        ),
    ];
    for (p, t) in state_files {
        write(root, p, t);
    }
    let before = tree(root);

    // Bad input first: an unknown target is a usage error, and nothing changes.
    let bad = run(helm_against(emu, root).args(["state", "migrate", "--to", "gcs"]));
    assert_eq!(bad.code, 64, "{}", bad.stderr);
    assert_eq!(tree(root), before);
    assert!(bucket_keys(emu, &bucket).is_empty());

    let dry = run(helm_against(emu, root).args([
        "state",
        "migrate",
        "--to",
        "s3",
        "--dry-run",
        "--format",
        "json",
    ]));
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(
        dry.json()["created"].as_array().unwrap().len(),
        6,
        "{}",
        dry.stdout
    );
    assert!(
        bucket_keys(emu, &bucket).is_empty(),
        "a dry run writes nothing"
    );

    let first = run(helm_against(emu, root).args(["state", "migrate", "--to", "s3"]));
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stdout.contains("6 created, 0 updated, 0 unchanged"),
        "{}",
        first.stdout
    );
    let mut keys = bucket_keys(emu, &bucket);
    keys.sort();
    let mut want: Vec<String> = state_files
        .iter()
        .map(|(p, _)| format!("team/helm/{}", p.trim_start_matches(".fractary/")))
        .collect();
    // init's list of monitored domains is shared state too.
    want.push("team/helm/helm/domain-monitors.json".into());
    want.sort();
    assert_eq!(keys, want, "state only: no configuration, no credentials");

    let again = run(helm_against(emu, root).args(["state", "migrate", "--to", "s3"]));
    assert_eq!(again.code, 0);
    assert!(
        again.stdout.contains("0 created, 0 updated, 6 unchanged"),
        "{}",
        again.stdout
    );

    // Back into a new clone of the project: the same bytes.
    let down = emulated_project();
    state_config(down.path(), &bucket, "");
    let back = run(helm_against(emu, down.path()).args(["state", "migrate", "--to", "local"]));
    assert_eq!(back.code, 0, "{}", back.stderr);
    let restored = tree(down.path());
    for (p, t) in state_files {
        let rel = p.trim_start_matches(".fractary/");
        assert_eq!(
            restored.get(rel).map(Vec::as_slice),
            Some(t.as_bytes()),
            "{rel}"
        );
    }
    let twice = run(helm_against(emu, down.path()).args(["state", "migrate", "--to", "local"]));
    assert!(
        twice.stdout.contains("0 created, 0 updated, 6 unchanged"),
        "{}",
        twice.stdout
    );
}

#[test]
fn migrate_without_a_bucket_says_what_to_set_and_changes_nothing() {
    let emu = Emulator::shared();
    let dir = emulated_project();
    write(
        dir.path(),
        MONITORING,
        "[helm-cloud]\nenvironments = [\"test\"]\n",
    );
    write(dir.path(), REGISTRY, "{\"deployments\": []}\n");
    let before = tree(dir.path());
    let r = run(helm_against(emu, dir.path()).args(["state", "migrate", "--to", "s3"]));
    assert_eq!(r.code, 64, "{}", r.stderr);
    assert!(r.stderr.contains("[state] names no bucket"), "{}", r.stderr);
    assert_eq!(tree(dir.path()), before);
    // And an S3 backend without a bucket is refused where it is written.
    write(dir.path(), MONITORING, "[state]\nbackend = \"s3\"\n");
    let r = run(helm_against(emu, dir.path()).args(["state", "status"]));
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("needs `bucket`"), "{}", r.stderr);
}

/// A replica of `watch`, its stdout and stderr in files the test reads as they grow.
struct Replica {
    child: std::process::Child,
    out: std::path::PathBuf,
    err: std::path::PathBuf,
}

impl Replica {
    fn start(emu: &Emulator, root: &Path, logs: &Path, n: usize) -> Replica {
        let out = logs.join(format!("r{n}.out"));
        let err = logs.join(format!("r{n}.err"));
        let child = helm_against(emu, root)
            .args(["watch", "--interval", "1s"])
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        Replica { child, out, err }
    }
    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }
    fn holds(&self) -> bool {
        self.stderr().contains("took the watch lease")
    }
    fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
    fn wait(mut self) -> (Option<i32>, String) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return (s.code(), self.stderr());
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the replica did not stop"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

/// A replica left running by a failed assertion is killed, not left behind.
impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "waited 90 s for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The cycle numbers a replica printed (`cycle N test: ...`).
fn cycles(stdout: &str) -> Vec<u64> {
    stdout
        .lines()
        .filter_map(|l| {
            l.strip_prefix("cycle ")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

#[test]
fn watch_replicas_share_one_lease_and_a_standby_takes_over_when_the_holder_is_killed() {
    let emu = Emulator::shared();
    let bucket = unique_name("lease").to_lowercase();
    create_bucket(emu, &bucket);
    let (dir, _) = crate::watch::steady_project();
    let root = dir.path();
    state_config(root, &bucket, "backend = \"s3\"\nlease = \"6s\"\n");
    // The project's state goes up first: every cycle runs in a session on it.
    let up = run(helm_against(emu, root).args(["state", "migrate", "--to", "s3"]));
    assert_eq!(up.code, 0, "{up:?}");
    let logs = tempfile::tempdir().unwrap();
    let replicas: Vec<Replica> = (0..3)
        .map(|n| Replica::start(emu, root, logs.path(), n))
        .collect();

    // One takes the lease and runs cycles; the others stand by and run none.
    wait_for("a holder's second cycle", || {
        replicas.iter().any(|r| cycles(&r.stdout()).len() >= 2)
    });
    let holders: Vec<usize> = (0..3).filter(|&i| replicas[i].holds()).collect();
    assert_eq!(holders.len(), 1, "exactly one holder: {holders:?}");
    let h = holders[0];
    for (i, r) in replicas.iter().enumerate().filter(|(i, _)| *i != h) {
        assert!(
            cycles(&r.stdout()).is_empty(),
            "replica {i} ran cycles while standing by"
        );
        assert!(
            r.stderr().contains("standing by"),
            "replica {i}: {}",
            r.stderr()
        );
    }
    let status = run(helm_against(emu, root).args(["state", "status", "--format", "json"])).json();
    let first = status["lease"].clone();
    assert_eq!(first["generation"], 1, "{status}");
    assert_eq!(first["live"], true);

    // The holder dies without a word (SIGKILL: its lease stays behind until it expires).
    replicas[h].signal("-KILL");
    let killed_at = chrono::Utc::now();
    let last_by_dead = *cycles(&replicas[h].stdout()).last().unwrap();
    wait_for("a take-over", || {
        replicas
            .iter()
            .enumerate()
            .any(|(i, r)| i != h && r.holds())
    });
    let new: Vec<usize> = (0..3).filter(|&i| i != h && replicas[i].holds()).collect();
    assert_eq!(new.len(), 1, "one replica took over: {new:?}");
    let n = new[0];
    let said = replicas[n].stderr();
    assert!(
        said.contains(&format!("from {}", first["holder"].as_str().unwrap())),
        "{said}"
    );
    wait_for("the new holder's first cycle", || {
        !cycles(&replicas[n].stdout()).is_empty()
    });
    let status = run(helm_against(emu, root).args(["state", "status", "--format", "json"])).json();
    let second = &status["lease"];
    assert_eq!(second["generation"], 2, "{status}");
    // Never before the dead holder's lease ran out; within two lease periods of its death
    // (its last lease, the skew margin and one stand-by poll).
    let t = |v: &serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let lease = chrono::Duration::seconds(6);
    assert!(
        t(&second["acquired_at"]) > t(&first["expires_at"]),
        "{first} → {second}"
    );
    assert!(
        t(&second["acquired_at"]) <= killed_at + lease * 2,
        "{killed_at} → {second}"
    );
    // The shared state carried over: the numbering goes on from the dead holder's cycles
    // (its last cycle again when it died between printing and saving it).
    let resumed = cycles(&replicas[n].stdout())[0];
    assert!(
        resumed > 1 && resumed >= last_by_dead && resumed <= last_by_dead + 1,
        "resumed at {resumed} after {last_by_dead}"
    );
    let other = (0..3).find(|&i| i != h && i != n).unwrap();
    assert!(
        cycles(&replicas[other].stdout()).is_empty(),
        "the third replica still stands by"
    );

    // SIGTERM: the holder finishes its cycle, releases the lease (a conditional delete),
    // exits 0; the stand-by stops too.
    let mut replicas = replicas.into_iter().enumerate();
    let mut rest = Vec::new();
    for (i, r) in replicas.by_ref() {
        if i != h {
            r.signal("-TERM");
            rest.push((i, r));
        }
    }
    for (i, r) in rest {
        let (code, err) = r.wait();
        assert_eq!(code, Some(0), "replica {i}: {err}");
        if i == n {
            assert!(err.contains("released the watch lease"), "{err}");
        }
    }
    let status = run(helm_against(emu, root).args(["state", "status", "--format", "json"])).json();
    assert!(status["lease"].is_null(), "{status}");
    assert!(
        status["watch_cycles"].as_u64().unwrap() >= resumed,
        "{status}"
    );
    // What the cycles wrote was shared: their health reports are in the bucket, and the
    // state lock was left free.
    let keys = bucket_keys(emu, &bucket);
    assert!(
        keys.iter()
            .any(|k| k.starts_with("team/helm/plugins/helm-cloud/monitoring/")),
        "{keys:?}"
    );
    assert!(status["lock"].is_null(), "{status}");
}

/// `helm-cloud ARGS…` in `root` against `emu`.
fn team(emu: &Emulator, root: &Path, args: &[&str]) -> Run {
    run(helm_against(emu, root).args(args))
}

/// Adds a deployment of one Lambda, `f`, through the CLI.
fn add_lambda(emu: &Emulator, root: &Path, id: &str, function: &str) -> Run {
    let doc = serde_json::json!({"id": id, "environment": "test", "deployed_at": "2026-01-01T00:00:00Z",
        "resources": [{"id": "f", "type": "lambda",
            "arn": format!("arn:aws:lambda:us-east-1:123456789012:function:{function}")}]});
    let f = write(root, &format!("{id}.json"), &doc.to_string());
    team(
        emu,
        root,
        &["registry", "add", "--file", f.to_str().unwrap()],
    )
}

/// A bucket and two clones of one project on it (`backend = "s3"`: two people, or a
/// laptop and a CI job). The first has put its state up (`state migrate`), added a
/// deployment of one Lambda whose errors alarm, and run `health`, which opened infra-001.
pub(crate) struct Team {
    pub bucket: String,
    pub first: tempfile::TempDir,
    pub second: tempfile::TempDir,
    /// The deployment id (and the Lambda's name prefix).
    pub p: String,
}

pub(crate) fn team_with_an_open_issue(emu: &Emulator, name: &str) -> Team {
    let bucket = unique_name(name).to_lowercase();
    create_bucket(emu, &bucket);
    let p = unique_name(name);
    emu.seed(
        &serde_json::json!({
            "lambdas": [{"name": format!("{p}-f")}],
            "alarms": [{"name": format!("{p}-errors"), "namespace": "AWS/Lambda", "metric": "Errors",
                "dimensions": {"FunctionName": format!("{p}-f")}, "state": "ALARM"}],
        })
        .to_string(),
    );
    let (first, second) = (emulated_project(), emulated_project());
    for c in [&first, &second] {
        state_config(c.path(), &bucket, "backend = \"s3\"\n");
    }
    // The first clone's state from `init` goes up first, on purpose.
    let up = team(emu, first.path(), &["state", "migrate", "--to", "s3"]);
    assert_eq!(up.code, 0, "{up:?}");
    assert_eq!(add_lambda(emu, first.path(), &p, &format!("{p}-f")).code, 0);
    let health = team(emu, first.path(), &["health", "--format", "json"]);
    assert_eq!(health.code, 2, "{health:?}");
    assert_eq!(health.json()["issues"][0]["issue_id"], "infra-001");
    Team {
        bucket,
        first,
        second,
        p,
    }
}

/// What one clone does, the other sees: the registry, an issue opened by `health`,
/// resolved by hand in the other clone, the next issue number, a remediation's history;
/// a state file written here outside a session is refused before anything runs, and left
/// as it is.
#[test]
fn two_clones_share_the_registry_and_issues_through_s3() {
    let emu = Emulator::shared();
    let Team {
        bucket,
        first: a,
        second: b,
        p,
    } = team_with_an_open_issue(emu, "team");
    let keys = bucket_keys(emu, &bucket);
    for k in [
        "team/helm/registry/deployments.json",
        "team/helm/helm/issues/active/infra-001.json",
    ] {
        assert!(keys.iter().any(|x| x == k), "{k} in {keys:?}");
    }
    assert!(
        !keys.iter().any(|k| k.contains("locks/")),
        "the lock is released: {keys:?}"
    );

    // B, which never ran health, sees the deployment and the issue, and resolves it.
    let listed = team(emu, b.path(), &["issues", "--format", "json"]);
    assert_eq!(listed.code, 0, "{listed:?}");
    assert!(listed.stdout.contains("infra-001"), "{}", listed.stdout);
    let reg = team(emu, b.path(), &["registry", "list", "--format", "json"]);
    assert!(reg.stdout.contains(&p), "{}", reg.stdout);
    let resolved = team(
        emu,
        b.path(),
        &["issues", "resolve", "infra-001", "--note", "fixed by B"],
    );
    assert_eq!(resolved.code, 0, "{resolved:?}");

    // A sees it resolved, and its own stale active copy is gone.
    let shown = team(
        emu,
        a.path(),
        &["issues", "show", "infra-001", "--format", "json"],
    );
    assert_eq!(shown.code, 0, "{shown:?}");
    assert_eq!(shown.json()["status"], "resolved", "{}", shown.stdout);
    assert!(
        !a.path()
            .join(".fractary/helm/issues/active/infra-001.json")
            .exists()
    );
    assert!(
        a.path()
            .join(".fractary/helm/issues/resolved/infra-001.json")
            .exists()
    );

    // Still failing: the next health opens a new issue with the next number of the shared
    // sequence, whichever clone runs it.
    let again = team(emu, b.path(), &["health", "--format", "json"]);
    assert_eq!(
        again.json()["issues"][0]["issue_id"],
        "infra-002",
        "{}",
        again.stdout
    );

    // B remediates: the run's records are in the shared history (the `started` one shared
    // before the action, by the checkpoint; the rest at the end).
    let fixed = team(
        emu,
        b.path(),
        &[
            "remediate",
            "--action",
            "restart_lambda",
            "--service",
            "f",
            "--yes",
            "--env",
            "test",
        ],
    );
    assert_eq!(fixed.code, 0, "{fixed:?}");
    let history = emu.run_python(
        "import sys, json, boto3\n\
         s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
         aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         body = s3.get_object(Bucket=sys.argv[2], \
         Key='team/helm/plugins/helm-cloud/remediations/test/history.jsonl')['Body'].read()\n\
         print(json.dumps([json.loads(l)['decision'] for l in body.decode().splitlines()]))",
        &[&bucket],
    );
    assert_eq!(
        history,
        serde_json::json!(["started", "applied"]),
        "{history}"
    );

    // A file written here by hand, never shared: refused, nothing runs, it stays.
    let stray = ".fractary/helm/issues/active/infra-099.json";
    write(a.path(), stray, "{\"id\": \"infra-099\"}\n");
    let before = tree(a.path());
    let refused = team(emu, a.path(), &["issues"]);
    assert_eq!(refused.code, 65, "{refused:?}");
    assert!(
        refused.stderr.contains("helm/issues/active/infra-099.json")
            && refused.stderr.contains("state migrate --to s3"),
        "{}",
        refused.stderr
    );
    assert_eq!(tree(a.path()), before, "every file as it was");
    assert!(
        !bucket_keys(emu, &bucket)
            .iter()
            .any(|k| k.contains("infra-099"))
    );
}

/// A lock left by a holder that died is taken over once it has expired; a live one is
/// waited for, then refused naming its holder, with nothing run.
#[test]
fn a_dead_holders_state_lock_expires_and_a_live_one_is_refused_with_its_holder() {
    let emu = Emulator::shared();
    let bucket = unique_name("lock").to_lowercase();
    create_bucket(emu, &bucket);
    let dir = emulated_project();
    state_config(dir.path(), &bucket, "backend = \"s3\"\nlease = \"3s\"\n");
    assert_eq!(
        team(emu, dir.path(), &["state", "migrate", "--to", "s3"]).code,
        0
    );
    let put_lock = |expires: &str| {
        emu.run_python(
            "import sys, json, boto3\n\
             s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
             aws_access_key_id='testing', aws_secret_access_key='testing')\n\
             s3.put_object(Bucket=sys.argv[2], Key='team/helm/locks/state.json', Body=json.dumps({\
             'holder': 'ci-runner:4242:dead', 'acquired_at': '2026-01-01T00:00:00Z', \
             'renewed_at': '2026-01-01T00:00:00Z', 'expires_at': sys.argv[3], 'generation': 7}))\n\
             print('null')",
            &[&bucket, expires],
        );
    };
    put_lock("2026-01-01T00:01:00Z");
    let took = team(emu, dir.path(), &["issues", "-v"]);
    assert_eq!(took.code, 0, "an expired lock is taken over: {took:?}");
    assert!(
        !bucket_keys(emu, &bucket)
            .iter()
            .any(|k| k.contains("locks/"))
    );

    put_lock("2099-01-01T00:00:00Z");
    let before = tree(dir.path());
    let busy = team(emu, dir.path(), &["issues"]);
    assert_eq!(busy.code, 75, "{busy:?}");
    assert!(
        busy.stderr.contains("locked by ci-runner:4242:dead"),
        "{}",
        busy.stderr
    );
    assert_eq!(tree(dir.path()), before);
    let status = team(emu, dir.path(), &["state", "status", "--format", "json"]);
    assert_eq!(
        status.json()["lock"]["holder"],
        "ci-runner:4242:dead",
        "{}",
        status.stdout
    );
}

/// 20 clones add a deployment each at the same moment: one shared registry object, 20
/// read-modify-writes, none lost. The emulator answers one request at a time
/// (`--serialize`): moto checks `If-Match` apart from the write, so under concurrent
/// writers two can both win, which S3 does not allow; serialised, this tests our lock and
/// conditional writes, not moto's race.
#[test]
fn twenty_clones_writing_at_once_lose_no_update() {
    let emu = Emulator::dedicated_serialized();
    let bucket = unique_name("twenty").to_lowercase();
    create_bucket(&emu, &bucket);
    let clones: Vec<_> = (0..20).map(|_| emulated_project()).collect();
    for c in &clones {
        state_config(c.path(), &bucket, "backend = \"s3\"\n");
    }
    assert_eq!(
        team(&emu, clones[0].path(), &["state", "migrate", "--to", "s3"]).code,
        0
    );
    let children: Vec<_> = clones
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let doc = serde_json::json!({"id": format!("d{i:02}"), "environment": "test",
                "resources": [{"id": "f", "type": "lambda",
                    "arn": format!("arn:aws:lambda:us-east-1:123456789012:function:f{i}")}]});
            let f = write(c.path(), "d.json", &doc.to_string());
            helm_against(&emu, c.path())
                .args(["registry", "add", "--file", f.to_str().unwrap()])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let fresh = emulated_project();
    state_config(fresh.path(), &bucket, "backend = \"s3\"\n");
    let listed = team(
        &emu,
        fresh.path(),
        &["registry", "list", "--format", "json"],
    );
    assert_eq!(listed.code, 0, "{listed:?}");
    let text = listed.stdout;
    let found = (0..20)
        .filter(|i| text.contains(&format!("\"d{i:02}\"")))
        .count();
    assert_eq!(found, 20, "{text}");
}
