//! The AWS SDK configuration that posture's AWS clients share: the Route53
//! provider and the S3 state backend build their service clients from the
//! [`SdkConfig`] that [`sdk_config`] loads.
//!
//! What is shared, and why it is one place:
//! - the standard chain (environment, shared profiles, SSO, web identity,
//!   IMDS), overridden by what a `provider` or `backend` block sets;
//! - rustls with ring, so nothing needs cmake or a C toolchain beyond cc;
//! - the same connect and attempt timeouts;
//! - root certificates loaded at the first connection ([`https_client`]):
//!   every command configures providers and opens its backend, and most
//!   never reach AWS.
//!
//! Nothing here makes a request: the chain resolves credentials lazily, on
//! a client's first call.

use std::time::Duration;

use aws_config::BehaviorVersion;
pub use aws_config::Region;
pub use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

mod http;

pub use http::{https_client, on_first_use};

/// The region when neither the settings nor the chain name one: Route53's
/// signing region, and S3's global endpoint.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Static credentials given in a block. Its `Debug` shows no part of them.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticKeys {
    /// The access key id.
    pub access_key: String,
    /// The secret access key.
    pub secret_key: String,
    /// A session token, for temporary credentials.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticKeys(<redacted>)")
    }
}

/// What a block overrides of the standard chain; `None` leaves it to the chain.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides<'a> {
    /// A profile of the shared config files.
    pub profile: Option<&'a str>,
    /// The region.
    pub region: Option<&'a str>,
    /// An endpoint for every service (moto, MinIO, a proxy); the chain also
    /// reads `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`.
    pub endpoint: Option<&'a str>,
    /// Static credentials instead of the chain's.
    pub static_keys: Option<&'a StaticKeys>,
}

/// How the client retries: the SDK's standard retries, or none (a caller
/// with its own paced retry loop, as the Route53 provider).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retries {
    /// The SDK's standard retry strategy.
    Standard,
    /// The SDK retries nothing.
    Disabled,
}

/// Loads the SDK configuration: the standard chain with `overrides` on top,
/// `http` as the HTTP client, and the region defaulting to
/// [`DEFAULT_REGION`] when nothing names one. `source` names the static
/// credentials' origin in the SDK's own logs (never the keys).
pub async fn sdk_config(
    overrides: Overrides<'_>,
    http: SharedHttpClient,
    retries: Retries,
    source: &'static str,
) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        );
    if retries == Retries::Disabled {
        loader = loader.retry_config(RetryConfig::disabled());
    }
    if let Some(p) = overrides.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = overrides.region {
        loader = loader.region(Region::new(r.to_string()));
    }
    if let Some(e) = overrides.endpoint {
        loader = loader.endpoint_url(e);
    }
    if let Some(k) = overrides.static_keys {
        loader = loader.credentials_provider(Credentials::new(
            k.access_key.clone(),
            k.secret_key.clone(),
            k.session_token.clone(),
            None,
            source,
        ));
    }
    let conf = loader.load().await;
    if conf.region().is_some() {
        return conf;
    }
    conf.into_builder()
        .region(Region::new(DEFAULT_REGION))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::ProvideCredentials;

    fn keys() -> StaticKeys {
        StaticKeys {
            access_key: "AKIACANARYID".into(),
            secret_key: "canary-secret-key".into(),
            session_token: Some("canary-token".into()),
        }
    }

    #[tokio::test]
    async fn overrides_win_over_the_chain() {
        let k = keys();
        let conf = sdk_config(
            Overrides {
                profile: None,
                region: Some("eu-west-3"),
                endpoint: Some("http://127.0.0.1:9"),
                static_keys: Some(&k),
            },
            https_client(),
            Retries::Disabled,
            "posture-aws-test",
        )
        .await;
        assert_eq!(conf.region().map(|r| r.as_ref()), Some("eu-west-3"));
        assert_eq!(conf.endpoint_url(), Some("http://127.0.0.1:9"));
        assert_eq!(conf.retry_config().map(|r| r.max_attempts()), Some(1));
        let creds = conf
            .credentials_provider()
            .expect("a provider")
            .provide_credentials()
            .await
            .expect("static credentials");
        assert_eq!(creds.access_key_id(), "AKIACANARYID");
        assert_eq!(creds.secret_access_key(), "canary-secret-key");
        assert_eq!(creds.session_token(), Some("canary-token"));
    }

    #[test]
    fn static_keys_debug_shows_no_part_of_them() {
        let shown = format!(
            "{:?}",
            Overrides {
                static_keys: Some(&keys()),
                ..Overrides::default()
            }
        );
        assert!(
            !shown.contains("CANARY") && !shown.contains("canary"),
            "{shown}"
        );
    }
}
