use crate::support::*;
use helm_testsupport::Emulator;

#[test]
fn validate_aws_prints_account_region_endpoint_and_credentials_from_the_emulator() {
    let emu = Emulator::shared();
    let dir = project();
    write(
        dir.path(),
        ".fractary/shared/aws-credentials.json",
        r#"{"version": "1.0.0", "aws": {"account_id": "123456789012", "region": "us-east-1", "profiles": {}}}"#,
    );
    let mut cmd = helm(dir.path());
    for (k, v) in emu.env() {
        cmd.env(k, v);
    }
    let r = run(cmd.args(["config", "validate", "--aws", "--format", "json"]));
    assert_eq!(r.code, 0, "{r:?}");
    let aws = &r.json()["aws"];
    assert_eq!(aws["account"], "123456789012");
    assert_eq!(aws["region"], "us-east-1");
    assert_eq!(aws["endpoint_url"], emu.endpoint.as_str());
    assert_eq!(aws["credentials"], "access keys from the environment");
    assert!(r.json()["warnings"].as_array().unwrap().is_empty());

    // Text form, and the account mismatch warning.
    write(
        dir.path(),
        ".fractary/shared/aws-credentials.json",
        r#"{"version": "1.0.0", "aws": {"account_id": "999999999999", "region": "us-east-1"}}"#,
    );
    let mut cmd = helm(dir.path());
    for (k, v) in emu.env() {
        cmd.env(k, v);
    }
    let r = run(cmd.args(["config", "validate", "--aws"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("account      123456789012"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(&emu.endpoint), "{}", r.stdout);
    assert!(
        r.stdout.contains("999999999999"),
        "mismatch warned: {}",
        r.stdout
    );
}

#[test]
fn validate_aws_with_nothing_listening_exits_69_in_two_lines() {
    let dir = project();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = run(helm(dir.path())
        .args([
            "config",
            "validate",
            "--aws",
            "--endpoint-url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("HELM_AWS_MAX_ATTEMPTS", "1"));
    assert_eq!(r.code, 69, "{r:?}");
    assert!(
        r.stderr.contains("sts:GetCallerIdentity failed"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 2, "{}", r.stderr);
}
