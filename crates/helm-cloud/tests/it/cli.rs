use crate::support::*;

#[test]
fn version_and_help_exit_zero() {
    let dir = tempfile::tempdir().unwrap();
    let v = helm_run(dir.path(), &["--version"]);
    assert_eq!(v.code, 0);
    assert!(v.stdout.starts_with("helm-cloud "), "{}", v.stdout);
    let h = helm_run(dir.path(), &["--help"]);
    assert_eq!(h.code, 0);
    for cmd in ["init", "config", "registry"] {
        assert!(h.stdout.contains(cmd), "help lists {cmd}");
    }
}

#[test]
fn usage_errors_exit_64() {
    let dir = project();
    for args in [
        vec!["no-such-command"],
        vec!["registry", "list", "--no-such-flag"],
        vec!["config", "show", "--format", "yaml"],
        vec!["registry"],
        vec!["registry", "list", "--env", "staging"],
        vec!["config", "show", "--env=nope"],
        vec!["registry", "remove", "no-such-deployment"],
        vec!["--now", "yesterday", "config", "show"],
    ] {
        let r = helm_run(dir.path(), &args);
        assert_eq!(r.code, 64, "{args:?} → {r:?}");
        assert!(!r.stderr.contains("panicked"), "{r:?}");
    }
}

#[test]
fn an_unknown_environment_lists_the_valid_ones() {
    let dir = project();
    // (`prd` is an alias of prod now; a typo is still unknown.)
    let r = helm_run(dir.path(), &["registry", "list", "--env", "prdo"]);
    assert_eq!(r.code, 64);
    assert!(
        r.stderr.contains("unknown environment `prdo`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("did you mean `prod`?"), "{}", r.stderr);
    assert!(r.stderr.contains("prod, test"), "{}", r.stderr);
    assert!(
        r.stderr.lines().count() <= 2,
        "errors are one or two lines: {}",
        r.stderr
    );
}

#[test]
fn env_flag_with_equals_or_space_behaves_the_same_with_custom_environments() {
    let dir = project();
    std::fs::remove_file(dir.path().join(ENVIRONMENTS)).unwrap();
    write(
        dir.path(),
        ENVIRONMENTS,
        r#"{"version": "1.0.0", "environments": {"qa": {"name": "qa", "requires_confirmation": false}, "live": {"name": "live", "requires_confirmation": true}}}"#,
    );
    let deployment = write(
        dir.path(),
        "d.json",
        &deployment("acme-qa", "qa", &["qa-fn"]),
    );
    assert_eq!(
        helm_run(
            dir.path(),
            &["registry", "add", "--file", deployment.to_str().unwrap()]
        )
        .code,
        0
    );
    let spaced = helm_run(
        dir.path(),
        &["registry", "list", "--env", "qa", "--format", "json"],
    );
    let equals = helm_run(
        dir.path(),
        &["registry", "list", "--env=qa", "--format=json"],
    );
    assert_eq!(spaced.code, 0, "{spaced:?}");
    assert_eq!(spaced.stdout, equals.stdout);
    assert_eq!(spaced.json()["resources"][0]["id"], "qa-fn");
    // test is not an environment of this project any more.
    let r = helm_run(dir.path(), &["registry", "list", "--env=test"]);
    assert_eq!(r.code, 64);
    assert!(r.stderr.contains("live, qa"), "{}", r.stderr);
}

#[test]
fn json_format_prints_exactly_one_document() {
    let dir = project();
    for args in [
        vec!["config", "show", "--format", "json"],
        vec!["registry", "list", "--format", "json"],
        vec!["config", "validate", "--format", "json"],
    ] {
        let r = helm_run(dir.path(), &args);
        assert_eq!(r.code, 0, "{r:?}");
        let _ = r.json();
    }
    let r = run(helm(dir.path())
        .args(["registry", "list"])
        .env("HELM_FORMAT", "json"));
    assert!(r.json().is_object());
}

#[test]
fn completions_are_valid_shell_and_the_man_page_renders() {
    let dir = project();
    let bash = helm_run(dir.path(), &["completions", "bash"]);
    assert_eq!(bash.code, 0, "{bash:?}");
    assert!(bash.stdout.contains("remediate") && bash.stdout.contains("--dry-run"));
    // bash itself parses the script.
    let script = write(dir.path(), "helm-cloud.bash", &bash.stdout);
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for shell in ["zsh", "fish"] {
        let r = helm_run(dir.path(), &["completions", shell]);
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains("remediate"), "{shell}");
    }
    let man = helm_run(dir.path(), &["man"]);
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.contains(".TH helm-cloud 1"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
    assert!(man.stdout.contains("remediate"));
    assert_eq!(helm_run(dir.path(), &["completions", "tcsh"]).code, 64);
}
