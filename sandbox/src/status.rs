//! Kubernetes `Status` bodies for failed requests, with the reason, code and details a
//! real API server gives, so clients (kubectl, kube-rs) react to them the same way.
//!
//! Must not carry tokens or request bodies in messages.

use serde_json::{Value, json};

/// A failed API request, rendered as a `Status` body with its HTTP code.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// Machine-readable reason (`NotFound`, `AlreadyExists`, ...).
    pub reason: &'static str,
    /// Human-readable message, as the real server words it.
    pub message: String,
    /// `details` object (name, group, kind, causes), if any.
    pub details: Option<Box<Value>>,
    /// Seconds for a `Retry-After` header, if any.
    pub retry_after: Option<u64>,
}

/// Result type of request handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    /// 404 for an object: `deployments.apps "web" not found`.
    pub fn not_found(group: &str, plural: &str, name: &str) -> Self {
        let q = qualified(group, plural);
        Self::new(404, "NotFound", format!("{q} \"{name}\" not found"))
            .with_details(json!({"name": name, "group": group, "kind": plural}))
    }

    /// 404 for a path that names no resource.
    pub fn no_route(path: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        )
        .with_details(json!({}))
    }

    /// 409 AlreadyExists for a create of an existing name.
    pub fn already_exists(group: &str, plural: &str, name: &str) -> Self {
        let q = qualified(group, plural);
        Self::new(
            409,
            "AlreadyExists",
            format!("{q} \"{name}\" already exists"),
        )
        .with_details(json!({"name": name, "group": group, "kind": plural}))
    }

    /// 409 Conflict for a stale resourceVersion.
    pub fn conflict(group: &str, plural: &str, name: &str) -> Self {
        let q = qualified(group, plural);
        Self::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {q} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"),
        )
        .with_details(json!({"name": name, "group": group, "kind": plural}))
    }

    /// 409 Conflict of a server-side apply, with one cause per conflicting field.
    pub fn apply_conflict(
        group: &str,
        plural: &str,
        name: &str,
        causes: Vec<(String, String, String)>,
    ) -> Self {
        let n = causes.len();
        let lines: Vec<String> = causes
            .iter()
            .map(|(mgr, ver, field)| format!("conflict with \"{mgr}\" using {ver}: {field}"))
            .collect();
        let message = if n == 1 {
            format!("Apply failed with 1 conflict: {}", lines[0])
        } else {
            format!("Apply failed with {n} conflicts: {}", lines.join("\n"))
        };
        let causes: Vec<Value> = causes
            .iter()
            .zip(&lines)
            .map(|((_, _, field), line)| json!({"reason": "FieldManagerConflict", "message": line, "field": field}))
            .collect();
        Self::new(409, "Conflict", message)
            .with_details(json!({"name": name, "group": group, "kind": plural, "causes": causes}))
    }

    /// 422 Invalid, with one cause per bad field.
    pub fn invalid(group: &str, kind: &str, name: &str, causes: Vec<(String, String)>) -> Self {
        let detail: Vec<String> = causes.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        let gk = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let causes_json: Vec<Value> = causes
            .iter()
            .map(|(f, m)| json!({"reason": "FieldValueInvalid", "message": m, "field": f}))
            .collect();
        Self::new(
            422,
            "Invalid",
            format!("{gk} \"{name}\" is invalid: {}", detail.join(", ")),
        )
        .with_details(json!({"name": name, "group": group, "kind": kind, "causes": causes_json}))
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 401 Unauthorized.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// 403 Forbidden (e.g. creating in a terminating namespace).
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message)
    }

    /// 405 MethodNotAllowed.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    /// 410 Gone for a watch from a compacted resourceVersion.
    pub fn gone(rv: u64) -> Self {
        Self::new(410, "Expired", format!("too old resource version: {rv}"))
    }

    /// 413 for bodies over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
        )
    }

    /// 415 for a patch type the resource does not support.
    pub fn unsupported_media(message: impl Into<String>) -> Self {
        Self::new(415, "UnsupportedMediaType", message)
    }

    /// 429 with Retry-After (fault injection).
    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            429,
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later",
        )
        .with_details(json!({"retryAfterSeconds": retry_after}));
        e.retry_after = Some(retry_after);
        e
    }

    /// 500 or 503 (fault injection).
    pub fn server_error(code: u16) -> Self {
        if code == 503 {
            Self::new(
                503,
                "ServiceUnavailable",
                "the server is currently unable to handle the request",
            )
        } else {
            Self::new(
                500,
                "InternalError",
                "an error on the server (\"injected fault\") has prevented the request from succeeding",
            )
        }
    }

    /// 422 Invalid without field causes (e.g. a JSON patch that does not apply).
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, "Invalid", message)
    }

    /// 500 for a failure inside the sandbox itself.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// The `Status` JSON body.
    pub fn body(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            v["details"] = (**d).clone();
        }
        v
    }
}

fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

/// A `Status` of success (returned by some deletes).
pub fn success(group: &str, plural: &str, name: &str, uid: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
           "details": {"name": name, "group": group, "kind": plural, "uid": uid}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_matches_the_real_wording() {
        let e = ApiError::not_found("apps", "deployments", "web");
        let b = e.body();
        assert_eq!(b["message"], "deployments.apps \"web\" not found");
        assert_eq!(b["reason"], "NotFound");
        assert_eq!(b["code"], 404);
        assert_eq!(b["details"]["kind"], "deployments");
    }

    #[test]
    fn apply_conflict_names_each_field_and_manager() {
        let e = ApiError::apply_conflict(
            "",
            "configmaps",
            "c",
            vec![
                ("a".into(), "v1".into(), ".data.x".into()),
                ("b".into(), "v1".into(), ".data.y".into()),
            ],
        );
        assert!(e.message.starts_with("Apply failed with 2 conflicts"));
        let causes = e.body()["details"]["causes"].clone();
        assert_eq!(causes[1]["field"], ".data.y");
        assert_eq!(
            causes[0]["message"],
            "conflict with \"a\" using v1: .data.x"
        );
    }
}
