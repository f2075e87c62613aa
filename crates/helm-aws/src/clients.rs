//! The client factory: the only code that builds AWS SDK clients.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use helm_core::config::Credentials;
use std::time::Duration;

/// Everything that decides how clients talk to AWS, resolved by the caller from flags,
/// environment and configuration (precedence rules live in `helm_core::config`).
#[derive(Clone)]
pub struct ClientSettings {
    pub credentials: Credentials,
    /// The default region (resources in other regions get clients of their own).
    pub region: String,
    /// Send every call here (an emulator, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// Attempts per call in the SDK's standard retry mode (1 = no retry).
    pub max_attempts: u32,
    /// The longest wait between two attempts (the SDK backs off exponentially with
    /// jitter from min(1 s, this) up to this).
    pub max_backoff: Duration,
    pub connect_timeout: Duration,
    /// Bound on one attempt.
    pub attempt_timeout: Duration,
    /// Bound on a whole call, retries included.
    pub operation_timeout: Duration,
    /// Keys given in code (tests, embedders), used instead of `credentials`. Never read from
    /// a file; never printed (Debug shows ****).
    pub static_keys: Option<StaticKeys>,
    /// Receives a record of every AWS call (None: nothing is recorded).
    pub call_sink: Option<CallSink>,
}

/// An access key pair held in memory.
#[derive(Clone)]
pub struct StaticKeys {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Temporary credentials' session token (an assumed role's).
    pub session_token: Option<String>,
}

impl std::fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticKeys(****)")
    }
}

impl ClientSettings {
    pub fn new(credentials: Credentials, region: impl Into<String>) -> Self {
        ClientSettings {
            credentials,
            region: region.into(),
            endpoint_url: None,
            max_attempts: 3,
            max_backoff: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(20),
            operation_timeout: Duration::from_secs(60),
            static_keys: None,
            call_sink: None,
        }
    }
}

/// One client of `$krate` for `$region` from the shared SDK configuration, with the call
/// log: every service's client is built the same way, here.
macro_rules! client {
    ($self:ident, $krate:ident, $region:expr) => {{
        let region = $region;
        let conf = $krate::config::Builder::from(&$self.sdk)
            .region(region.clone())
            .interceptor(CallLog::new(&$self.settings, &region))
            .build();
        $krate::Client::from_conf(conf)
    }};
}

/// One AWS call as `-v` shows it, and as a caller counting requests sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The SDK's service name (`Lambda`, `CloudWatch`…).
    pub service: String,
    pub operation: String,
    pub region: String,
    pub duration: Duration,
    pub ok: bool,
    /// Attempts the SDK made (1: no retry).
    pub attempts: u32,
}

/// Where call records go (the binary prints them with `-v`; `watch` will count them).
pub type CallSink = std::sync::Arc<dyn Fn(&CallRecord) + Send + Sync>;

/// An SDK interceptor that reports each call's service, operation, region and duration.
#[derive(Clone)]
struct CallLog {
    sink: Option<CallSink>,
    region: String,
}

impl std::fmt::Debug for CallLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallLog")
            .field("region", &self.region)
            .finish()
    }
}

impl CallLog {
    fn new(settings: &ClientSettings, region: &Region) -> CallLog {
        CallLog {
            sink: settings.call_sink.clone(),
            region: region.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct CallStarted(std::time::Instant);

impl aws_smithy_types::config_bag::Storable for CallStarted {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

#[derive(Debug, Clone, Copy)]
struct Attempts(u32);

impl aws_smithy_types::config_bag::Storable for Attempts {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for CallLog {
    fn name(&self) -> &'static str {
        "helm-cloud call log"
    }

    fn read_before_execution(
        &self,
        _ctx: &aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if self.sink.is_some() {
            cfg.interceptor_state()
                .store_put(CallStarted(std::time::Instant::now()));
        }
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _ctx: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _rc: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if self.sink.is_some() {
            let n = cfg.load::<Attempts>().map_or(0, |a| a.0);
            cfg.interceptor_state().store_put(Attempts(n + 1));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        ctx: &aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef<
            '_,
        >,
        _rc: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let Some(sink) = &self.sink else {
            return Ok(());
        };
        let meta = cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>();
        let started = cfg.load::<CallStarted>();
        sink(&CallRecord {
            service: meta.map(|m| m.service().to_string()).unwrap_or_default(),
            operation: meta.map(|m| m.name().to_string()).unwrap_or_default(),
            region: self.region.clone(),
            duration: started.map(|s| s.0.elapsed()).unwrap_or_default(),
            ok: ctx.output_or_error().is_some_and(|r| r.is_ok()),
            attempts: cfg.load::<Attempts>().map_or(0, |a| a.0),
        });
        Ok(())
    }
}

/// Builds the clients of every service from one shared SDK configuration.
#[derive(Debug, Clone)]
pub struct AwsClients {
    sdk: SdkConfig,
    settings: ClientSettings,
}

impl AwsClients {
    /// Resolve the SDK configuration once (profile files are read here).
    pub async fn new(settings: ClientSettings) -> AwsClients {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(settings.region.clone()))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(settings.max_attempts.max(1))
                    .with_initial_backoff(settings.max_backoff.min(Duration::from_secs(1)))
                    .with_max_backoff(settings.max_backoff),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(settings.connect_timeout)
                    .operation_attempt_timeout(settings.attempt_timeout)
                    .operation_timeout(settings.operation_timeout)
                    .build(),
            );
        match &settings.credentials {
            Credentials::Profile(name) => loader = loader.profile_name(name),
            Credentials::EnvironmentKeys => loader = loader.credentials_provider(
                aws_config::environment::credentials::EnvironmentVariableCredentialsProvider::new(),
            ),
            Credentials::DefaultChain => {}
        }
        if let Some(k) = &settings.static_keys {
            loader = loader.credentials_provider(aws_credential_types::Credentials::new(
                k.access_key_id.clone(),
                k.secret_access_key.clone(),
                k.session_token.clone(),
                None,
                "helm-cloud-static",
            ));
        }
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        AwsClients {
            sdk: loader.load().await,
            settings,
        }
    }

    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// The region a client for `region` (or the default) uses.
    fn region(&self, region: Option<&str>) -> Region {
        Region::new(region.unwrap_or(&self.settings.region).to_string())
    }

    pub(crate) fn sts(&self, region: Option<&str>) -> aws_sdk_sts::Client {
        let r = self.region(region);
        client!(self, aws_sdk_sts, r)
    }
    pub(crate) fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        client!(self, aws_sdk_cloudwatch, self.region(Some(region)))
    }
    pub(crate) fn lambda(&self, region: &str) -> aws_sdk_lambda::Client {
        client!(self, aws_sdk_lambda, self.region(Some(region)))
    }
    pub(crate) fn ecs(&self, region: &str) -> aws_sdk_ecs::Client {
        client!(self, aws_sdk_ecs, self.region(Some(region)))
    }
    pub(crate) fn rds(&self, region: &str) -> aws_sdk_rds::Client {
        client!(self, aws_sdk_rds, self.region(Some(region)))
    }
    pub(crate) fn apigateway(&self, region: &str) -> aws_sdk_apigateway::Client {
        client!(self, aws_sdk_apigateway, self.region(Some(region)))
    }
    pub(crate) fn dynamodb(&self, region: &str) -> aws_sdk_dynamodb::Client {
        client!(self, aws_sdk_dynamodb, self.region(Some(region)))
    }
    pub(crate) fn client_cloudformation(&self, region: &str) -> aws_sdk_cloudformation::Client {
        client!(self, aws_sdk_cloudformation, self.region(Some(region)))
    }
    pub(crate) fn client_tagging(&self, region: &str) -> aws_sdk_resourcegroupstagging::Client {
        client!(
            self,
            aws_sdk_resourcegroupstagging,
            self.region(Some(region))
        )
    }
    pub(crate) fn sfn(&self, region: &str) -> aws_sdk_sfn::Client {
        client!(self, aws_sdk_sfn, self.region(Some(region)))
    }
    pub(crate) fn eventbridge(&self, region: &str) -> aws_sdk_eventbridge::Client {
        client!(self, aws_sdk_eventbridge, self.region(Some(region)))
    }
    pub(crate) fn elbv2(&self, region: &str) -> aws_sdk_elasticloadbalancingv2::Client {
        client!(
            self,
            aws_sdk_elasticloadbalancingv2,
            self.region(Some(region))
        )
    }
    pub(crate) fn sns(&self, region: &str) -> aws_sdk_sns::Client {
        client!(self, aws_sdk_sns, self.region(Some(region)))
    }
    pub(crate) fn kinesis(&self, region: &str) -> aws_sdk_kinesis::Client {
        client!(self, aws_sdk_kinesis, self.region(Some(region)))
    }
    pub(crate) fn elasticache(&self, region: &str) -> aws_sdk_elasticache::Client {
        client!(self, aws_sdk_elasticache, self.region(Some(region)))
    }
    /// EC2 Auto Scaling (groups of instances); `autoscaling` is Application Auto Scaling.
    pub(crate) fn ec2_autoscaling(&self, region: &str) -> aws_sdk_autoscaling::Client {
        client!(self, aws_sdk_autoscaling, self.region(Some(region)))
    }
    pub(crate) fn sqs(&self, region: &str) -> aws_sdk_sqs::Client {
        client!(self, aws_sdk_sqs, self.region(Some(region)))
    }

    /// S3 with path-style addressing when an endpoint is overridden (emulators and VPC
    /// endpoints do not resolve bucket subdomains).
    pub(crate) fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let region = self.region(Some(region));
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk)
            .region(region.clone())
            .force_path_style(self.settings.endpoint_url.is_some())
            .interceptor(CallLog::new(&self.settings, &region))
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// CloudFront is global: its API lives in us-east-1.
    pub(crate) fn cloudfront(&self) -> aws_sdk_cloudfront::Client {
        client!(self, aws_sdk_cloudfront, Region::new("us-east-1"))
    }
    pub(crate) fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        client!(self, aws_sdk_cloudwatchlogs, self.region(Some(region)))
    }
    pub(crate) fn autoscaling(&self, region: &str) -> aws_sdk_applicationautoscaling::Client {
        client!(
            self,
            aws_sdk_applicationautoscaling,
            self.region(Some(region))
        )
    }
    /// Cost Explorer's API lives in us-east-1.
    pub(crate) fn cost_explorer(&self) -> aws_sdk_costexplorer::Client {
        client!(self, aws_sdk_costexplorer, Region::new("us-east-1"))
    }
    pub(crate) fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        client!(self, aws_sdk_ec2, self.region(Some(region)))
    }
    pub(crate) fn securityhub(&self, region: &str) -> aws_sdk_securityhub::Client {
        client!(self, aws_sdk_securityhub, self.region(Some(region)))
    }
    pub(crate) fn guardduty(&self, region: &str) -> aws_sdk_guardduty::Client {
        client!(self, aws_sdk_guardduty, self.region(Some(region)))
    }
    pub(crate) fn secretsmanager(&self, region: &str) -> aws_sdk_secretsmanager::Client {
        client!(self, aws_sdk_secretsmanager, self.region(Some(region)))
    }
    pub(crate) fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        client!(self, aws_sdk_kms, self.region(Some(region)))
    }
    pub(crate) fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        client!(self, aws_sdk_cloudtrail, self.region(Some(region)))
    }
    pub(crate) fn config(&self, region: &str) -> aws_sdk_config::Client {
        client!(self, aws_sdk_config, self.region(Some(region)))
    }
    /// IAM is global: its API lives in us-east-1.
    pub(crate) fn iam(&self) -> aws_sdk_iam::Client {
        client!(self, aws_sdk_iam, Region::new("us-east-1"))
    }

    /// S3 Control. Its endpoint rules put the account id in the host name; with an
    /// overridden endpoint (an emulator, a VPC endpoint) there is no such host, so the
    /// endpoint is used as it is.
    pub(crate) fn s3control(&self, region: &str) -> aws_sdk_s3control::Client {
        let region = self.region(Some(region));
        let mut conf = aws_sdk_s3control::config::Builder::from(&self.sdk)
            .region(region.clone())
            .interceptor(CallLog::new(&self.settings, &region));
        if let Some(url) = &self.settings.endpoint_url {
            conf = conf.endpoint_resolver(FixedEndpoint(url.clone()));
        }
        aws_sdk_s3control::Client::from_conf(conf.build())
    }
}

/// An endpoint used as given, without the service's host-name rules.
#[derive(Debug)]
struct FixedEndpoint(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(
            aws_smithy_types::endpoint::Endpoint::builder()
                .url(self.0.clone())
                .build(),
        ))
    }
}

impl std::fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSettings")
            .field("credentials", &self.credentials)
            .field("region", &self.region)
            .field("endpoint_url", &self.endpoint_url)
            .field("max_attempts", &self.max_attempts)
            .field("max_backoff", &self.max_backoff)
            .field("static_keys", &self.static_keys)
            .field("call_sink", &self.call_sink.is_some())
            .finish()
    }
}
