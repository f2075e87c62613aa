use crate::support::*;
use std::collections::BTreeMap;
use std::path::Path;

fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn init_writes_the_skeleton_and_a_second_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let first = helm_run(dir.path(), &["init"]);
    assert_eq!(first.code, 0, "{first:?}");
    let files = snapshot(dir.path());
    for f in [
        REGISTRY,
        ENVIRONMENTS,
        ".fractary/shared/aws-credentials.example.json",
        MONITORING,
        ".fractary/helm/domain-monitors.json",
    ] {
        assert!(files.contains_key(f), "{f} missing: {:?}", files.keys());
        assert!(first.stdout.contains(f), "init says it wrote {f}");
    }
    assert!(first.stdout.contains("Next:"), "init says what to do next");
    let second = run(helm(dir.path())
        .arg("init")
        .env("HELM_NOW", "2030-01-01T00:00:00Z"));
    assert_eq!(second.code, 0);
    assert!(second.stdout.contains("Nothing to do"), "{}", second.stdout);
    assert_eq!(
        snapshot(dir.path()),
        files,
        "the second init changed a file"
    );
}

#[test]
fn init_keeps_a_file_the_user_already_has() {
    let dir = tempfile::tempdir().unwrap();
    let mine = "[cost]\ndaily_budget_usd = 5\n";
    write(dir.path(), MONITORING, mine);
    let r = helm_run(dir.path(), &["init", "--format", "json"]);
    assert_eq!(r.code, 0);
    let kept: Vec<_> = r.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["written"] == false)
        .cloned()
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(MONITORING)).unwrap(),
        mine
    );
}

#[test]
fn the_written_template_validates_and_carries_every_default() {
    let dir = project();
    let r = helm_run(dir.path(), &["config", "show", "--format", "json"]);
    assert_eq!(r.code, 0);
    let settings = &r.json()["settings"];
    assert_eq!(settings["slos.lambda.error_rate_percent"]["value"], 0.1);
    assert!(
        settings["slos.lambda.error_rate_percent"]["source"]
            .as_str()
            .unwrap()
            .starts_with(MONITORING)
    );
    assert_eq!(helm_run(dir.path(), &["config", "validate"]).code, 0);
}
