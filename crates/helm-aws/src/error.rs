//! One error type for every AWS call: which API, on which resource, and what kind of failure.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::fmt;

/// What kind of failure an AWS call had; decides exit codes and UNKNOWN reasons upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// No answer: connection refused, DNS, timeout.
    Unreachable,
    /// No credentials could be found or they were refused.
    Credentials,
    /// The caller is not allowed to make this call.
    AccessDenied,
    /// Throttled after the SDK's retries.
    Throttled,
    /// The resource does not exist.
    NotFound,
    /// Any other error AWS answered with.
    Service,
}

#[derive(Debug, Clone, thiserror::Error)]
pub struct AwsError {
    /// `service:Operation`, as in IAM policies (`sts:GetCallerIdentity`).
    pub api: &'static str,
    pub resource: Option<String>,
    pub kind: AwsErrorKind,
    /// The AWS error code, when AWS answered with one.
    pub code: Option<String>,
    pub message: String,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.api)?;
        if let Some(r) = &self.resource {
            write!(f, " on {r}")?;
        }
        match &self.code {
            Some(code) => write!(f, ": {code}: {}", self.message),
            None => write!(f, ": {}", self.message),
        }
    }
}

impl AwsError {
    /// An error helm-cloud found itself, with no AWS error code: a request it could not
    /// build, a result AWS did not return, an action that does not fit the resource.
    pub fn local(
        api: &'static str,
        resource: Option<&str>,
        kind: AwsErrorKind,
        message: impl Into<String>,
    ) -> AwsError {
        AwsError {
            api,
            resource: resource.map(str::to_owned),
            kind,
            code: None,
            message: message.into(),
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self.kind {
            AwsErrorKind::Unreachable => {
                "check the network, --endpoint-url / AWS_ENDPOINT_URL and --region"
            }
            AwsErrorKind::Credentials => {
                "set --profile or AWS_PROFILE, or aws.profiles in .fractary/shared/aws-credentials.json, or export access keys"
            }
            AwsErrorKind::AccessDenied => {
                "grant the IAM permission named above to the profile in use"
            }
            AwsErrorKind::Throttled => {
                "AWS throttled the call after retries; try again in a minute"
            }
            AwsErrorKind::NotFound => {
                "the resource is in the registry but not in AWS: check the ARN and region"
            }
            AwsErrorKind::Service => "see the AWS message above",
        }
    }

    /// Build an error from an SDK failure.
    pub fn from_sdk<E, R>(
        api: &'static str,
        resource: Option<&str>,
        err: SdkError<E, R>,
    ) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
    {
        let resource = resource.map(str::to_string);
        let full = DisplayErrorContext(&err).to_string();
        let (kind, code, message) = match &err {
            SdkError::ServiceError(se) => {
                let e = se.err();
                let code = e.code().map(str::to_string);
                let message = e
                    .message()
                    .map(str::to_string)
                    .unwrap_or_else(|| full.clone());
                (classify_code(code.as_deref(), &message), code, message)
            }
            SdkError::TimeoutError(_) => (AwsErrorKind::Unreachable, None, "timed out".to_string()),
            SdkError::DispatchFailure(_) => {
                // Identity resolution fails before a request is sent, and shows up here too.
                let kind = if full.contains("credentials") || full.contains("identity") {
                    AwsErrorKind::Credentials
                } else {
                    AwsErrorKind::Unreachable
                };
                (kind, None, full)
            }
            SdkError::ResponseError(_) => (AwsErrorKind::Service, None, full),
            _ => {
                let kind = if full.contains("credentials") {
                    AwsErrorKind::Credentials
                } else {
                    AwsErrorKind::Service
                };
                (kind, None, full)
            }
        };
        AwsError {
            api,
            resource,
            kind,
            code,
            // AWS quotes what it was sent (Lambda's environment-size error quotes every
            // variable): the message is redacted before it can reach stderr, a history line
            // or an issue.
            message: one_line(&helm_core::investigator::redact::redact(&message)),
        }
    }

    /// One line in the operator's words, for `not_evaluated` lists and UNKNOWN reasons:
    /// `ec2:DescribeSecurityGroups: endpoint unreachable` (the caller adds the region).
    pub fn brief(&self) -> String {
        match &self.resource {
            Some(r) => format!("{} on {r}: {}", self.api, self.cause()),
            None => format!("{}: {}", self.api, self.cause()),
        }
    }

    /// What went wrong, without the API: `endpoint unreachable`, `access denied`…
    pub fn cause(&self) -> String {
        match self.kind {
            AwsErrorKind::Unreachable if self.message == "timed out" => "timed out".to_string(),
            AwsErrorKind::Unreachable => "endpoint unreachable".to_string(),
            AwsErrorKind::Credentials => "no valid credentials".to_string(),
            AwsErrorKind::AccessDenied => "access denied".to_string(),
            AwsErrorKind::Throttled => "throttled after retries".to_string(),
            AwsErrorKind::NotFound => "not found".to_string(),
            AwsErrorKind::Service => {
                let msg: String = self.message.chars().take(120).collect();
                match &self.code {
                    Some(c) => format!("{c}: {msg}"),
                    None if self.message.contains("status code: 5")
                        || self.message.contains("500")
                        || self.message.contains("503") =>
                    {
                        "the service answered with a server error".to_string()
                    }
                    // An answer that is no AWS error at all (an HTML error page, a proxy's
                    // text): the SDK's parser complaint means nothing to an operator.
                    None if self.message.starts_with("response error")
                        || self.message.contains("malformed") =>
                    {
                        "the service's answer was not an AWS response (an error page?)".to_string()
                    }
                    None => msg,
                }
            }
        }
    }
}

/// Map an AWS error code (or message) to a kind.
pub fn classify_code(code: Option<&str>, message: &str) -> AwsErrorKind {
    let c = code.unwrap_or("");
    match c {
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "AuthorizationError"
        | "AuthorizationErrorException" => AwsErrorKind::AccessDenied,
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "AuthFailure"
        | "SignatureDoesNotMatch"
        | "InvalidAccessKeyId" => AwsErrorKind::Credentials,
        "Throttling"
        | "ThrottlingException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "ProvisionedThroughputExceededException"
        | "SlowDown" => AwsErrorKind::Throttled,
        _ if c.ends_with("NotFound")
            || c.ends_with("NotFoundException")
            || c.ends_with("NotFoundFault")
            || c == "NoSuchBucket" =>
        {
            AwsErrorKind::NotFound
        }
        _ if message.contains("Rate exceeded") => AwsErrorKind::Throttled,
        _ if message.contains("not authorized to perform") => AwsErrorKind::AccessDenied,
        _ => AwsErrorKind::Service,
    }
}

fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 400 {
        flat.chars().take(400).collect::<String>() + "…"
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_answer_is_one_plain_line() {
        let e = AwsError::local(
            "config:DescribeComplianceByConfigRule",
            None,
            AwsErrorKind::Service,
            "response error: invalid input: malformed JSON error body: Error at offset 0: unexpected token '<'",
        );
        assert_eq!(
            e.cause(),
            "the service's answer was not an AWS response (an error page?)"
        );
        assert!(!e.brief().contains("offset 0"));
    }

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(
            classify_code(Some("AccessDeniedException"), ""),
            AwsErrorKind::AccessDenied
        );
        assert_eq!(
            classify_code(Some("ThrottlingException"), ""),
            AwsErrorKind::Throttled
        );
        assert_eq!(
            classify_code(Some("ResourceNotFoundException"), ""),
            AwsErrorKind::NotFound
        );
        assert_eq!(
            classify_code(Some("DBInstanceNotFound"), ""),
            AwsErrorKind::NotFound
        );
        assert_eq!(
            classify_code(Some("DBInstanceNotFoundFault"), ""),
            AwsErrorKind::NotFound
        );
        assert_eq!(
            classify_code(Some("ExpiredToken"), ""),
            AwsErrorKind::Credentials
        );
        assert_eq!(
            classify_code(None, "Rate exceeded"),
            AwsErrorKind::Throttled
        );
        assert_eq!(
            classify_code(
                Some("Other"),
                "User x is not authorized to perform: lambda:GetFunction"
            ),
            AwsErrorKind::AccessDenied
        );
        assert_eq!(
            classify_code(Some("ValidationError"), "bad"),
            AwsErrorKind::Service
        );
    }
}
