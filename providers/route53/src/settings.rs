//! Provider settings: the AWS credential chain and region (environment,
//! profiles, SSO, web identity, or static keys in the settings), the
//! endpoint override, the shared rate limit and retry budget.
//!
//! Builds the SDK client once; must not make any AWS call itself (the
//! credential chain resolves lazily, on the first request).

use crate::client::{Api, Timing};
use crate::error::{Error, Result};
use crate::values as v;
use posture_aws::StaticKeys;
use posture_provider_core::provider::Notices;
use posture_provider_core::value::Value;

/// Route53's global signing region, used when nothing names one.
pub const DEFAULT_REGION: &str = posture_aws::DEFAULT_REGION;

/// Settings after validation. Its `Debug` output redacts the keys.
#[derive(Clone, Default, PartialEq)]
pub struct Settings {
    /// Signing region.
    pub region: Option<String>,
    /// Shared-config profile.
    pub profile: Option<String>,
    /// Endpoint override.
    pub endpoint: Option<String>,
    /// Static credentials.
    pub static_keys: Option<StaticKeys>,
    /// Client-side request rate.
    pub max_requests_per_second: f64,
    /// Attempts per call.
    pub max_retries: Option<u32>,
    /// Wait for INSYNC after changes.
    pub wait_for_sync: bool,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("endpoint", &self.endpoint)
            .field(
                "static_keys",
                &self.static_keys.as_ref().map(|_| "<redacted>"),
            )
            .field("max_requests_per_second", &self.max_requests_per_second)
            .field("max_retries", &self.max_retries)
            .field("wait_for_sync", &self.wait_for_sync)
            .finish()
    }
}

impl Settings {
    /// Reads the `provider "route53"` block's value.
    ///
    /// # Errors
    /// A setting out of range, or half of a static key pair.
    pub fn from_value(s: &Value) -> Result<Settings> {
        let (s, _) = s.clone().unmark_deep();
        let rate = match v::get(&s, "max_requests_per_second") {
            None => 5.0,
            Some(n) => {
                let r = n.as_number().map(|n| n.to_f64()).unwrap_or(f64::NAN);
                if !(r.is_finite() && r > 0.0) {
                    return Err(Error::Invalid(
                        "max_requests_per_second must be a positive number (Route53 allows 5 per second per account)".into(),
                    ));
                }
                r
            }
        };
        let max_retries = match v::get_i64(&s, "max_retries") {
            None => None,
            Some(n) if (1..=100).contains(&n) => Some(n as u32),
            Some(_) => {
                return Err(Error::Invalid(
                    "max_retries must be between 1 and 100".into(),
                ));
            }
        };
        let static_keys = match (v::get_str(&s, "access_key"), v::get_str(&s, "secret_key")) {
            (Some(access_key), Some(secret_key)) => Some(StaticKeys {
                access_key,
                secret_key,
                session_token: v::get_str(&s, "token"),
            }),
            (None, None) => None,
            _ => {
                return Err(Error::Invalid(
                    "set both access_key and secret_key, or neither (and use the AWS credential chain)".into(),
                ));
            }
        };
        Ok(Settings {
            region: v::get_str(&s, "region"),
            profile: v::get_str(&s, "profile"),
            endpoint: v::get_str(&s, "endpoint"),
            static_keys,
            max_requests_per_second: rate,
            max_retries,
            wait_for_sync: v::get_bool(&s, "wait_for_sync").unwrap_or(true),
        })
    }

    /// The endpoint requests go to, as the SDK picks it: the setting, then
    /// `AWS_ENDPOINT_URL_ROUTE_53`, then `AWS_ENDPOINT_URL`, else Route53's
    /// global endpoint. For messages only.
    pub fn endpoint_shown(&self) -> String {
        self.endpoint
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_ROUTE_53").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .filter(|e| !e.trim().is_empty())
            .unwrap_or_else(|| "https://route53.amazonaws.com".to_string())
    }

    /// Builds the paced, retrying client; its retries are reported to `notices`.
    pub async fn build_api(&self, mut timing: Timing, notices: Notices) -> Api {
        let overrides = posture_aws::Overrides {
            profile: self.profile.as_deref(),
            region: self.region.as_deref(),
            endpoint: self.endpoint.as_deref(),
            static_keys: self.static_keys.as_ref(),
        };
        // Our own retry loop paces every attempt through the token bucket.
        let conf = posture_aws::sdk_config(
            overrides,
            posture_aws::https_client(),
            posture_aws::Retries::Disabled,
            "posture-provider-settings",
        )
        .await;
        let b = aws_sdk_route53::config::Builder::from(&conf);
        if let Some(n) = self.max_retries {
            timing.max_attempts = n;
        }
        Api::new(
            aws_sdk_route53::Client::from_conf(b.build()),
            self.max_requests_per_second,
            timing,
            self.endpoint_shown(),
            notices,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::object;

    #[test]
    fn defaults_and_refusals() {
        let s = Settings::from_value(&Value::NULL).expect("defaults");
        assert_eq!(s.max_requests_per_second, 5.0);
        assert!(s.wait_for_sync);
        let bad = object(vec![("max_requests_per_second", Value::from(0))]);
        assert!(Settings::from_value(&bad).is_err());
        let half = object(vec![("access_key", Value::from("AKIA").mark_sensitive())]);
        let err = Settings::from_value(&half).expect_err("half a key pair");
        assert!(!err.to_string().contains("AKIA"), "{err}");
        let full = object(vec![
            ("access_key", Value::from("AKIASECRETID")),
            ("secret_key", Value::from("hunter2")),
        ]);
        let s = Settings::from_value(&full).expect("keys");
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("AKIASECRETID"),
            "{shown}"
        );
    }
}
