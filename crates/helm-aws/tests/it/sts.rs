use helm_aws::{AwsClients, AwsErrorKind, ClientSettings, StaticKeys};
use helm_core::config::Credentials;
use helm_testsupport::Emulator;
use std::time::Duration;

/// Test keys for the emulator (it accepts any), given in code: the process environment is
/// never changed in a multi-threaded test binary, and the developer's own credentials never
/// take part.
fn settings(endpoint: &str) -> ClientSettings {
    let mut s = ClientSettings::new(Credentials::DefaultChain, "us-east-1");
    s.static_keys = Some(StaticKeys {
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        session_token: None,
    });
    s.endpoint_url = Some(endpoint.to_string());
    s.max_attempts = 1;
    s.operation_timeout = Duration::from_secs(20);
    s
}

#[tokio::test]
async fn caller_identity_through_the_client_factory() {
    let emu = Emulator::shared();
    let clients = AwsClients::new(settings(&emu.endpoint)).await;
    let id = clients
        .caller_identity()
        .await
        .expect("sts:GetCallerIdentity against the emulator");
    assert_eq!(id.account, "123456789012");
    assert!(id.arn.starts_with("arn:aws:"), "{}", id.arn);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_reported_as_unreachable_naming_the_call() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut s = settings(&format!("http://127.0.0.1:{port}"));
    s.connect_timeout = Duration::from_secs(2);
    let err = AwsClients::new(s)
        .await
        .caller_identity()
        .await
        .unwrap_err();
    assert_eq!(err.kind, AwsErrorKind::Unreachable, "{err}");
    assert!(
        err.to_string().starts_with("sts:GetCallerIdentity failed"),
        "{err}"
    );
}
