use crate::support::*;

/// Each kind of bad configuration: exit 65, and a message naming file and line.
#[test]
fn each_configuration_failure_exits_65_naming_file_and_line() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // (file, content, expected "file:line", expected words)
        (
            MONITORING,
            "[slos.lambda]\np95_latency_ms = \"fast\"\n",
            "monitoring.toml:2",
            "must be a number",
        ),
        (
            MONITORING,
            "[slos.lambda]\n\neror_rate_percent = 1\n",
            "monitoring.toml:3",
            "did you mean `error_rate_percent`?",
        ),
        (
            MONITORING,
            "[monitoring]\nhealth_check_interval = \"often\"\n",
            "monitoring.toml:2",
            "duration",
        ),
        (
            MONITORING,
            "[cost\ndaily_budget_usd = 1\n",
            "monitoring.toml:1",
            "invalid TOML",
        ),
        (
            ENVIRONMENTS,
            "{\n  \"environments\": {\n    \"test\": {\n",
            "environments.json:4",
            "JSON",
        ),
        (
            ENVIRONMENTS,
            "{\"environments\": {\n \"test\": {\"requires_confirmation\": \"no\"}}}",
            "environments.json:2",
            "environments.test.requires_confirmation",
        ),
        (
            ".fractary/shared/aws-credentials.json",
            "{\"version\": \"2.0.0\", \"aws\": {}}",
            "aws-credentials.json:1",
            "newer",
        ),
    ];
    for (file, content, location, words) in cases {
        let dir = project();
        write(dir.path(), file, content);
        for args in [
            vec!["config", "validate"],
            vec!["config", "show"],
            vec!["registry", "list"],
        ] {
            let r = helm_run(dir.path(), &args);
            assert_eq!(r.code, 65, "{file} / {args:?}: {r:?}");
            let all = format!("{}{}", r.stdout, r.stderr);
            assert!(
                all.contains(location),
                "{args:?} must name {location}: {all}"
            );
            assert!(all.contains(words), "{args:?} must say {words:?}: {all}");
            assert!(!all.contains("panicked"));
        }
    }
}

#[test]
fn validate_reports_every_invalid_file_not_just_the_first() {
    let dir = project();
    write(dir.path(), MONITORING, "[bogus]\n");
    write(dir.path(), REGISTRY, "{\"deployments\": [");
    let r = helm_run(dir.path(), &["config", "validate", "--format", "json"]);
    assert_eq!(r.code, 65);
    let invalid: Vec<String> = r.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "invalid")
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(invalid, vec![MONITORING.to_string(), REGISTRY.to_string()]);
}

#[test]
fn show_names_the_source_of_each_value() {
    let dir = project();
    write(
        dir.path(),
        ".fractary/shared/aws-credentials.json",
        r#"{"version": "1.0.0", "aws": {"account_id": "111122223333", "region": "eu-west-1", "profiles": {"prod": "acme-prod"}}}"#,
    );
    write(
        dir.path(),
        MONITORING,
        "[cost]\n# a comment\ndaily_budget_usd = 250\n",
    );
    let r = run(helm(dir.path())
        .args([
            "config",
            "show",
            "--env",
            "prod",
            "--format",
            "json",
            "--endpoint-url",
            "http://127.0.0.1:1",
        ])
        .env("AWS_REGION", "ap-south-1"));
    assert_eq!(r.code, 0, "{r:?}");
    let s = &r.json()["settings"];
    assert_eq!(s["environment"]["value"], "prod");
    assert_eq!(s["environment"]["source"], "flag --env");
    assert_eq!(s["environment.requires_confirmation"]["value"], true);
    assert_eq!(s["aws.region"]["value"], "ap-south-1");
    assert_eq!(s["aws.region"]["source"], "env AWS_REGION");
    assert_eq!(s["aws.credentials"]["value"], "profile acme-prod");
    assert_eq!(
        s["aws.credentials"]["source"],
        ".fractary/shared/aws-credentials.json"
    );
    assert_eq!(s["aws.endpoint_url"]["source"], "flag --endpoint-url");
    assert_eq!(s["aws.account_id"]["value"], "111122223333");
    assert_eq!(s["cost.daily_budget_usd"]["value"], 250);
    assert_eq!(
        s["cost.daily_budget_usd"]["source"],
        format!("{MONITORING}:3")
    );
    assert_eq!(s["cost.monthly_budget_usd"]["source"], "default");

    let flag = run(helm(dir.path())
        .args([
            "config",
            "show",
            "--format",
            "json",
            "--region",
            "us-west-2",
        ])
        .env("AWS_REGION", "ap-south-1"));
    assert_eq!(
        flag.json()["settings"]["aws.region"]["source"],
        "flag --region"
    );
    let text = helm_run(dir.path(), &["config", "show"]);
    assert!(
        text.stdout.contains("cost.daily_budget_usd")
            && text.stdout.contains(&format!("{MONITORING}:3"))
    );
}

#[test]
fn the_legacy_faber_cloud_config_is_used_when_aws_credentials_is_absent() {
    let dir = project();
    write(
        dir.path(),
        ".fractary/plugins/faber-cloud/config.json",
        r#"{"version": "1.0", "providers": {"aws": {"account_id": "444455556666", "region": "us-west-1", "profiles": {"test": "legacy-test"}}}}"#,
    );
    let r = helm_run(dir.path(), &["config", "show", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["settings"]["aws.region"]["value"], "us-west-1");
    assert_eq!(
        r.json()["settings"]["aws.credentials"]["value"],
        "profile legacy-test"
    );
    assert!(
        r.stderr
            .contains("using the legacy AWS settings of .fractary/plugins/faber-cloud/config.json"),
        "{}",
        r.stderr
    );
}
