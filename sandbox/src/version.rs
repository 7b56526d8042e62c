//! The Kubernetes version a cluster emulates, and what depends on it: the discovery
//! shapes it can serve, server-side field validation and OpenAPI v3.
//!
//! Thresholds are those at which the feature is on by default in a real
//! kube-apiserver (beta or GA), so a sandbox cluster at version X answers as a stock
//! X server does. Pure values; must not look at requests beyond a query parameter.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use crate::status::{ApiError, ApiResult};

/// A Kubernetes minor release (`1.23`); patch releases do not change the API surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeVersion {
    /// Major version (always 1 for real servers).
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl KubeVersion {
    /// What a cluster emulates unless told otherwise (the kubectl the tests use).
    pub const DEFAULT: KubeVersion = KubeVersion::new(1, 32);

    /// A version from its parts.
    pub const fn new(major: u32, minor: u32) -> Self {
        KubeVersion { major, minor }
    }

    /// Whether aggregated discovery `apidiscovery.k8s.io/v2beta1` is served (1.26+).
    pub fn aggregated_v2beta1(self) -> bool {
        self >= KubeVersion::new(1, 26)
    }

    /// Whether aggregated discovery `apidiscovery.k8s.io/v2` is served (1.30+, GA).
    pub fn aggregated_v2(self) -> bool {
        self >= KubeVersion::new(1, 30)
    }

    /// Whether the `fieldValidation` query parameter is honoured (1.25+, beta on).
    pub fn field_validation(self) -> bool {
        self >= KubeVersion::new(1, 25)
    }

    /// Whether a real server serves `/openapi/v3` (1.24+, beta on). The sandbox serves
    /// it at every version: kubectl 1.32 cannot `apply` without it (no `/openapi/v2`).
    pub fn openapi_v3(self) -> bool {
        self >= KubeVersion::new(1, 24)
    }

    /// `gitVersion` of `/version`: `v1.23.0`.
    pub fn git_version(self) -> String {
        format!("v{}.{}.0", self.major, self.minor)
    }
}

impl Default for KubeVersion {
    fn default() -> Self {
        KubeVersion::DEFAULT
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Why a version string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid Kubernetes version {given:?}: {reason}; write MAJOR.MINOR, e.g. 1.23, v1.23 or 1.23.4"
)]
pub struct ParseVersionError {
    /// The text as given.
    pub given: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for KubeVersion {
    type Err = ParseVersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseVersionError {
            given: s.to_string(),
            reason,
        };
        let t = s.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let parts: Vec<&str> = t.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(err("expected two or three dot-separated numbers"));
        }
        let num = |p: &str| -> Result<u32, ParseVersionError> {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("each part must be a decimal number"));
            }
            p.parse().map_err(|_| err("a part is too large"))
        };
        let major = num(parts[0])?;
        let minor = num(parts[1])?;
        if let Some(patch) = parts.get(2) {
            num(patch)?; // checked, then dropped: patch releases serve the same API
        }
        if major != 1 {
            return Err(err("only Kubernetes 1.x exists"));
        }
        Ok(KubeVersion { major, minor })
    }
}

/// The values a `fieldValidation` query parameter may take on a server that honours it.
pub const FIELD_VALIDATION_VALUES: [&str; 3] = ["Ignore", "Warn", "Strict"];

/// Checks the `fieldValidation` parameter of a write (`method` POST, PUT or PATCH) as
/// a server at `version` does and returns the value received (for the counters).
///
/// # Errors
/// At 1.25 and later, a value other than Ignore, Warn, Strict (or empty) is 422 Invalid,
/// worded as the apiserver's validation of the request options words it; older
/// servers have the feature off and ignore the parameter.
pub fn check_field_validation(
    version: KubeVersion,
    method: &str,
    query: &HashMap<String, String>,
) -> ApiResult<Option<String>> {
    let Some(value) = query.get("fieldValidation") else {
        return Ok(None);
    };
    if version.field_validation()
        && !value.is_empty()
        && !FIELD_VALIDATION_VALUES.contains(&value.as_str())
    {
        let kind = match method {
            "POST" => "CreateOptions",
            "PUT" => "UpdateOptions",
            _ => "PatchOptions",
        };
        // field.NotSupported lists the allowed set sorted, empty string first.
        let message = format!(
            "Unsupported value: {value:?}: supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""
        );
        return Err(ApiError::invalid_option(kind, "fieldValidation", &message));
    }
    Ok(Some(value.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_spellings() {
        for s in ["1.23", "v1.23", "1.23.4", " v1.23.0 "] {
            assert_eq!(s.parse::<KubeVersion>(), Ok(KubeVersion::new(1, 23)), "{s}");
        }
        assert_eq!(KubeVersion::new(1, 23).to_string(), "1.23");
        assert_eq!(KubeVersion::DEFAULT.git_version(), "v1.32.0");
        assert_eq!(KubeVersion::default(), KubeVersion::new(1, 32));
    }

    #[test]
    fn rejects_other_text_with_a_clear_message() {
        for s in [
            "",
            "1",
            "1.",
            "1.x",
            "1.23.4.5",
            "2.0",
            "v",
            "1.-3",
            "1.99999999999",
        ] {
            let e = s.parse::<KubeVersion>().expect_err(s).to_string();
            assert!(e.contains("invalid Kubernetes version"), "{s}: {e}");
            assert!(e.contains("e.g. 1.23"), "{s}: {e}");
        }
    }

    #[test]
    fn features_switch_on_at_their_thresholds() {
        let v = |m| KubeVersion::new(1, m);
        assert!(!v(23).openapi_v3() && v(24).openapi_v3());
        assert!(!v(24).field_validation() && v(25).field_validation());
        assert!(!v(25).aggregated_v2beta1() && v(26).aggregated_v2beta1());
        assert!(!v(29).aggregated_v2() && v(30).aggregated_v2());
        assert!(v(32).aggregated_v2beta1(), "1.30+ still serves v2beta1");
        assert!(v(9) < v(10), "ordered numerically, not as text");
    }

    #[test]
    fn field_validation_is_checked_only_where_the_feature_is_on() {
        let q = |v: &str| HashMap::from([("fieldValidation".to_string(), v.to_string())]);
        let new = KubeVersion::new(1, 30);
        let old = KubeVersion::new(1, 23);
        assert_eq!(
            check_field_validation(new, "PATCH", &q("Strict")),
            Ok(Some("Strict".into()))
        );
        let e = check_field_validation(new, "POST", &q("Loose")).expect_err("bad value");
        assert_eq!((e.code, e.reason), (422, "Invalid"));
        assert_eq!(
            e.message,
            "CreateOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"Loose\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""
        );
        assert_eq!(
            check_field_validation(old, "PATCH", &q("Loose")),
            Ok(Some("Loose".into()))
        );
        assert_eq!(
            check_field_validation(new, "PUT", &HashMap::new()),
            Ok(None)
        );
    }
}
