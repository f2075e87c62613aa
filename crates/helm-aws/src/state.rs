//! The S3 backend of helm-core's `ObjectStore`: every key under one bucket and prefix.
//! Creates carry `If-None-Match: *`, updates `If-Match: <etag>`, deletes `If-Match` too;
//! S3 answers a failed precondition with 412 PreconditionFailed, and a write that raced
//! another conditional write on the same key with 409 ConditionalRequestConflict: both are
//! a conflict (the caller re-reads and re-applies), never an error.

use crate::clients::AwsClients;
use crate::error::{AwsError, AwsErrorKind};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use helm_core::ports::Failure;
use helm_core::state::{Cond, ObjectStore, Versioned, Written, check_key};

/// State under `s3://bucket/prefix`.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// Empty, or ends with `/`.
    prefix: String,
}

impl AwsClients {
    /// The state store in `bucket` under `prefix`, through this client set's credentials
    /// and endpoint, in `region`.
    pub fn state_store(&self, bucket: &str, prefix: &str, region: &str) -> S3Store {
        let prefix = prefix.trim_matches('/');
        S3Store {
            client: self.s3(region),
            bucket: bucket.to_string(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        }
    }
}

/// Whether an S3 error is a lost compare-and-swap rather than a failure.
fn is_conflict<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    match err {
        SdkError::ServiceError(se) => matches!(
            se.err().code(),
            Some("PreconditionFailed" | "ConditionalRequestConflict")
        ),
        _ => false,
    }
}

impl S3Store {
    #[allow(clippy::result_large_err)] // the port's own error type
    fn key(&self, key: &str) -> Result<String, Failure> {
        check_key(key).map_err(|why| {
            Failure::unavailable("state:key", why.clone(), why, "name a relative key")
        })?;
        Ok(format!("{}{key}", self.prefix))
    }

    fn fail<E, R>(&self, api: &'static str, key: &str, err: SdkError<E, R>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let mut e = AwsError::from_sdk(api, Some(&format!("s3://{}/{key}", self.bucket)), err);
        if e.kind == AwsErrorKind::NotFound && e.code.as_deref() == Some("NoSuchBucket") {
            e.message = format!("the state bucket {} does not exist", self.bucket);
        }
        e.into()
    }
}

impl ObjectStore for S3Store {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    async fn get(&self, key: &str) -> Result<Option<Versioned>, Failure> {
        let full = self.key(key)?;
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await
        {
            Ok(out) => {
                let etag = out.e_tag().unwrap_or_default().to_string();
                let bytes = out.body.collect().await.map_err(|e| {
                    Failure::unavailable(
                        "s3:GetObject",
                        e.to_string(),
                        format!("s3:GetObject failed on s3://{}/{full}: {e}", self.bucket),
                        "check the network, then run it again",
                    )
                })?;
                Ok(Some(Versioned {
                    bytes: bytes.into_bytes().to_vec(),
                    etag,
                }))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(self.fail("s3:GetObject", &full, e)),
        }
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, cond: Cond) -> Result<Written, Failure> {
        let full = self.key(key)?;
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&full)
            .content_type("application/json")
            .body(ByteStream::from(bytes));
        req = match cond {
            Cond::Absent => req.if_none_match("*"),
            Cond::Matches(etag) => req.if_match(etag),
        };
        match req.send().await {
            Ok(out) => Ok(Written::Done(out.e_tag().unwrap_or_default().to_string())),
            Err(e) if is_conflict(&e) => Ok(Written::Conflict),
            // If-Match on a key that is gone: S3 answers 404; the version we held is gone.
            Err(e)
                if e.as_service_error()
                    .and_then(|s| s.code())
                    .is_some_and(|c| c == "NoSuchKey") =>
            {
                Ok(Written::Conflict)
            }
            Err(e) => Err(self.fail("s3:PutObject", &full, e)),
        }
    }

    async fn delete(&self, key: &str, etag: &str) -> Result<Written, Failure> {
        let full = self.key(key)?;
        match self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(&full)
            .if_match(etag)
            .send()
            .await
        {
            Ok(_) => Ok(Written::Done(String::new())),
            Err(e) if is_conflict(&e) => Ok(Written::Conflict),
            Err(e)
                if e.as_service_error()
                    .and_then(|s| s.code())
                    .is_some_and(|c| c == "NoSuchKey") =>
            {
                Ok(Written::Conflict)
            }
            Err(e) => Err(self.fail("s3:DeleteObject", &full, e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, Failure> {
        let versions = self.list_versions(prefix).await?;
        Ok(versions.into_iter().map(|(k, _)| k).collect())
    }

    async fn list_versions(&self, prefix: &str) -> Result<Vec<(String, String)>, Failure> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(format!("{}{prefix}", self.prefix))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.fail("s3:ListObjectsV2", prefix, e))?;
            for o in page.contents() {
                if let Some(k) = o.key().and_then(|k| k.strip_prefix(&self.prefix)) {
                    out.push((k.to_string(), o.e_tag().unwrap_or_default().to_string()));
                }
            }
        }
        out.sort();
        Ok(out)
    }
}
