//! Errors of the Route53 provider: an AWS call that failed (with its
//! operation and AWS error code) and the provider's own refusals.
//!
//! Messages never carry credentials: they are built from the operation
//! name, the AWS error code and AWS's message, which holds no secrets.

use posture_provider_core::provider::ProviderError;

/// A failed AWS call, after retries.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{operation} failed: {code}: {message}")]
pub struct AwsError {
    /// The Route53 operation (`ChangeResourceRecordSets`).
    pub operation: &'static str,
    /// AWS's error code (`InvalidChangeBatch`, `Throttling`), or a
    /// transport condition (`Timeout`, `DispatchFailure`).
    pub code: String,
    /// AWS's message, or a description of the transport failure.
    pub message: String,
    /// The HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// True when the same call may succeed later.
    pub retryable: bool,
}

impl AwsError {
    /// True when AWS said the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.code.as_str(),
            "NoSuchHostedZone" | "NoSuchChange" | "NoSuchResource" | "NotFound"
        )
    }
}

/// Any error of this crate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A setting or argument cannot be used; the message says which and why.
    #[error("{0}")]
    Invalid(String),
    /// The provider was used before `configure`.
    #[error("the route53 provider is not configured: the engine must call configure() first")]
    NotConfigured,
}

impl Error {
    /// The error as the engine's [`ProviderError`] for the instance at
    /// `address`. The engine prefixes the address itself (plan and read
    /// diagnostics, the apply report), so the message does not repeat it.
    pub fn for_address(&self, address: &str) -> ProviderError {
        let _ = address;
        ProviderError {
            message: self.to_string(),
            retryable: matches!(self, Error::Aws(e) if e.retryable),
        }
    }
}

impl From<Error> for ProviderError {
    fn from(e: Error) -> ProviderError {
        ProviderError {
            message: e.to_string(),
            retryable: matches!(&e, Error::Aws(a) if a.retryable),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
