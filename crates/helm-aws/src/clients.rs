//! The client factory: the only code that builds AWS SDK clients.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use helm_core::config::Credentials;
use std::time::Duration;

/// Everything that decides how clients talk to AWS, resolved by the caller from flags,
/// environment and configuration (precedence rules live in `helm_core::config`).
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub credentials: Credentials,
    /// The default region (resources in other regions get clients of their own).
    pub region: String,
    /// Send every call here (an emulator, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// Attempts per call in the SDK's standard retry mode (1 = no retry).
    pub max_attempts: u32,
    pub connect_timeout: Duration,
    /// Bound on one attempt.
    pub attempt_timeout: Duration,
    /// Bound on a whole call, retries included.
    pub operation_timeout: Duration,
    /// Keys given in code (tests, embedders), used instead of `credentials`. Never read from
    /// a file; never printed (Debug shows ****).
    pub static_keys: Option<StaticKeys>,
}

/// An access key pair held in memory.
#[derive(Clone)]
pub struct StaticKeys {
    pub access_key_id: String,
    pub secret_access_key: String,
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
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(20),
            operation_timeout: Duration::from_secs(60),
            static_keys: None,
        }
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
            .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts.max(1)))
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
                None,
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
        let conf = aws_sdk_sts::config::Builder::from(&self.sdk)
            .region(self.region(region))
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }
    pub(crate) fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        let conf = aws_sdk_cloudwatch::config::Builder::from(&self.sdk)
            .region(self.region(Some(region)))
            .build();
        aws_sdk_cloudwatch::Client::from_conf(conf)
    }

    pub(crate) fn lambda(&self, region: &str) -> aws_sdk_lambda::Client {
        let conf = aws_sdk_lambda::config::Builder::from(&self.sdk)
            .region(self.region(Some(region)))
            .build();
        aws_sdk_lambda::Client::from_conf(conf)
    }

    pub(crate) fn ecs(&self, region: &str) -> aws_sdk_ecs::Client {
        let conf = aws_sdk_ecs::config::Builder::from(&self.sdk)
            .region(self.region(Some(region)))
            .build();
        aws_sdk_ecs::Client::from_conf(conf)
    }

    pub(crate) fn rds(&self, region: &str) -> aws_sdk_rds::Client {
        let conf = aws_sdk_rds::config::Builder::from(&self.sdk)
            .region(self.region(Some(region)))
            .build();
        aws_sdk_rds::Client::from_conf(conf)
    }

    pub(crate) fn apigateway(&self, region: &str) -> aws_sdk_apigateway::Client {
        let conf = aws_sdk_apigateway::config::Builder::from(&self.sdk)
            .region(self.region(Some(region)))
            .build();
        aws_sdk_apigateway::Client::from_conf(conf)
    }

    pub(crate) fn dynamodb(&self, region: &str) -> aws_sdk_dynamodb::Client {
        let conf = aws_sdk_dynamodb::config::Builder::from(&self.sdk)
            .region(self.region(Some(region)))
            .build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    }

    pub(crate) fn sqs(&self, region: &str) -> aws_sdk_sqs::Client {
        let conf = aws_sdk_sqs::config::Builder::from(&self.sdk)
            .region(self.region(Some(region)))
            .build();
        aws_sdk_sqs::Client::from_conf(conf)
    }

    /// S3 with path-style addressing when an endpoint is overridden (emulators and VPC
    /// endpoints do not resolve bucket subdomains).
    pub(crate) fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk)
            .region(self.region(Some(region)))
            .force_path_style(self.settings.endpoint_url.is_some())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// CloudFront is global: its API lives in us-east-1.
    pub(crate) fn cloudfront(&self) -> aws_sdk_cloudfront::Client {
        let conf = aws_sdk_cloudfront::config::Builder::from(&self.sdk)
            .region(Region::new("us-east-1"))
            .build();
        aws_sdk_cloudfront::Client::from_conf(conf)
    }

    pub(crate) fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        let conf = aws_sdk_cloudwatchlogs::config::Builder::from(&self.sdk)
            .region(self.region(Some(region)))
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(conf)
    }

    pub(crate) fn autoscaling(&self, region: &str) -> aws_sdk_applicationautoscaling::Client {
        let conf = aws_sdk_applicationautoscaling::config::Builder::from(&self.sdk)
            .region(self.region(Some(region)))
            .build();
        aws_sdk_applicationautoscaling::Client::from_conf(conf)
    }

    /// Cost Explorer's API lives in us-east-1.
    pub(crate) fn cost_explorer(&self) -> aws_sdk_costexplorer::Client {
        let conf = aws_sdk_costexplorer::config::Builder::from(&self.sdk)
            .region(Region::new("us-east-1"))
            .build();
        aws_sdk_costexplorer::Client::from_conf(conf)
    }

    pub(crate) fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::config::Builder::from(&self.sdk)
            .region(self.region(Some(region)))
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    pub(crate) fn securityhub(&self, region: &str) -> aws_sdk_securityhub::Client {
        let conf = aws_sdk_securityhub::config::Builder::from(&self.sdk)
            .region(self.region(Some(region)))
            .build();
        aws_sdk_securityhub::Client::from_conf(conf)
    }

    pub(crate) fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        let conf = aws_sdk_cloudtrail::config::Builder::from(&self.sdk)
            .region(self.region(Some(region)))
            .build();
        aws_sdk_cloudtrail::Client::from_conf(conf)
    }

    pub(crate) fn config(&self, region: &str) -> aws_sdk_config::Client {
        let conf = aws_sdk_config::config::Builder::from(&self.sdk)
            .region(self.region(Some(region)))
            .build();
        aws_sdk_config::Client::from_conf(conf)
    }

    /// IAM is global: its API lives in us-east-1.
    pub(crate) fn iam(&self) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::config::Builder::from(&self.sdk)
            .region(Region::new("us-east-1"))
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    /// S3 Control. Its endpoint rules put the account id in the host name; with an
    /// overridden endpoint (an emulator, a VPC endpoint) there is no such host, so the
    /// endpoint is used as it is.
    pub(crate) fn s3control(&self, region: &str) -> aws_sdk_s3control::Client {
        let mut conf =
            aws_sdk_s3control::config::Builder::from(&self.sdk).region(self.region(Some(region)));
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
