//! Kubernetes `Status` bodies for failed requests, with the reason, code and details a
//! real API server gives, so clients (kubectl, kube-rs) react to them the same way.
//!
//! Must not carry tokens or request bodies in messages.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::ssa::apply::FieldConflict;

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

    /// 409 Conflict of a server-side apply from (manager, apiVersion, field) triples,
    /// each owner taken as an `Update` one. Prefer [`ApiError::apply_conflicts`].
    pub fn apply_conflict(
        group: &str,
        plural: &str,
        name: &str,
        causes: Vec<(String, String, String)>,
    ) -> Self {
        let _ = (group, plural, name); // a real server's apply conflict names no object
        let conflicts: Vec<FieldConflict> = causes
            .into_iter()
            .map(|(manager, api_version, field)| FieldConflict {
                manager,
                operation: "Update".into(),
                api_version,
                subresource: None,
                field,
            })
            .collect();
        Self::apply_conflicts(&conflicts)
    }

    /// 409 Conflict of a server-side apply, worded as k8s.io/apiserver's
    /// `NewConflictError`: one cause per field (`conflict with "m" using v1`, the field
    /// apart), and a message listing the fields per owner, owners sorted.
    pub fn apply_conflicts(conflicts: &[FieldConflict]) -> Self {
        let causes: Vec<Value> = conflicts
            .iter()
            .map(|c| json!({"reason": "FieldManagerConflict", "message": format!("conflict with {}", print_manager(c)), "field": c.field}))
            .collect();
        let message = match conflicts {
            [one] => format!(
                "Apply failed with 1 conflict: conflict with {}: {}",
                print_manager(one),
                one.field
            ),
            _ => {
                // Grouped by the manager identifier the server sorts on (name, operation,
                // apiVersion for Update owners, subresource), fields in conflict order.
                let mut by_owner: BTreeMap<String, (&FieldConflict, Vec<&str>)> = BTreeMap::new();
                for c in conflicts {
                    by_owner
                        .entry(owner_key(c))
                        .or_insert((c, Vec::new()))
                        .1
                        .push(&c.field);
                }
                let mut lines = Vec::new();
                for (owner, fields) in by_owner.values() {
                    lines.push(format!("conflicts with {}:", print_manager(owner)));
                    lines.extend(fields.iter().map(|f| format!("- {f}")));
                }
                format!(
                    "Apply failed with {} conflicts: {}",
                    conflicts.len(),
                    lines.join("\n")
                )
            }
        };
        // NewApplyConflict sets only the causes in details: no name, group or kind.
        Self::new(409, "Conflict", message).with_details(json!({"causes": causes}))
    }

    /// 422 Invalid for a bad request option (`fieldValidation`), as the server's
    /// validation of `CreateOptions`/`UpdateOptions`/`PatchOptions` words it.
    pub fn invalid_option(options_kind: &str, field: &str, message: &str) -> Self {
        let cause = json!({"reason": "FieldValueNotSupported", "message": message, "field": field});
        Self::new(
            422,
            "Invalid",
            format!("{options_kind}.meta.k8s.io \"\" is invalid: {field}: {message}"),
        )
        .with_details(
            json!({"name": "", "group": "meta.k8s.io", "kind": options_kind, "causes": [cause]}),
        )
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

    /// 406 NotAcceptable for an Accept header naming nothing the server can send.
    pub fn not_acceptable() -> Self {
        Self::new(
            406,
            "NotAcceptable",
            "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
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

/// printManager of the apiserver: the quoted name, `with subresource "status"` if any,
/// plus `using VERSION` for an Update owner (appliers' identifiers carry no apiVersion).
fn print_manager(c: &FieldConflict) -> String {
    let mut out = format!("{:?}", c.manager);
    if let Some(sub) = c.subresource.as_deref().filter(|s| !s.is_empty()) {
        out.push_str(&format!(" with subresource {sub:?}"));
    }
    if c.operation == "Update" {
        out.push_str(&format!(" using {}", c.api_version));
    }
    out
}

/// Sorts as the apiserver's manager identifier (JSON of name, operation, apiVersion
/// for Update owners, subresource) does.
fn owner_key(c: &FieldConflict) -> String {
    let version = if c.operation == "Apply" {
        ""
    } else {
        &c.api_version
    };
    let sub = c.subresource.as_deref().unwrap_or("");
    format!("{}\0{}\0{version}\0{sub}", c.manager, c.operation)
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

    fn owner(manager: &str, operation: &str, field: &str) -> FieldConflict {
        FieldConflict {
            manager: manager.into(),
            operation: operation.into(),
            api_version: "v1".into(),
            subresource: None,
            field: field.into(),
        }
    }

    #[test]
    fn one_conflict_is_worded_as_the_apiserver_does() {
        let e = ApiError::apply_conflicts(&[owner("kubectl-edit", "Update", ".data.x")]);
        assert_eq!(
            e.message,
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .data.x"
        );
        let b = e.body();
        assert_eq!(
            (b["code"].clone(), b["reason"].clone()),
            (json!(409), json!("Conflict"))
        );
        assert_eq!(
            b["details"],
            json!({"causes": [{"reason": "FieldManagerConflict", "message": "conflict with \"kubectl-edit\" using v1", "field": ".data.x"}]})
        );
        let applier = ApiError::apply_conflicts(&[owner("helm", "Apply", ".data.x")]);
        assert_eq!(
            applier.message,
            "Apply failed with 1 conflict: conflict with \"helm\": .data.x"
        );
        assert_eq!(
            applier.body()["details"]["causes"][0]["message"],
            "conflict with \"helm\""
        );
    }

    #[test]
    fn several_conflicts_are_grouped_per_sorted_manager() {
        let e = ApiError::apply_conflicts(&[
            owner("zed", "Update", ".data.a"),
            owner("alice", "Apply", ".data.b"),
            owner("zed", "Update", ".data.c"),
        ]);
        assert_eq!(
            e.message,
            "Apply failed with 3 conflicts: conflicts with \"alice\":\n- .data.b\nconflicts with \"zed\" using v1:\n- .data.a\n- .data.c"
        );
        let causes = e.body()["details"]["causes"].clone();
        assert_eq!(causes.as_array().map(Vec::len), Some(3));
        assert_eq!(causes[0]["message"], "conflict with \"zed\" using v1");
        assert_eq!(causes[1]["message"], "conflict with \"alice\"");
        assert_eq!(causes[2]["field"], ".data.c");
    }

    #[test]
    fn a_subresource_owner_is_named_with_it() {
        let mut c = owner("kube-controller-manager", "Update", ".metadata.labels.x");
        c.subresource = Some("status".into());
        assert_eq!(
            ApiError::apply_conflicts(&[c]).message,
            "Apply failed with 1 conflict: conflict with \"kube-controller-manager\" with subresource \"status\" using v1: .metadata.labels.x"
        );
    }

    #[test]
    fn tuple_conflicts_are_update_owners() {
        let e = ApiError::apply_conflict(
            "",
            "configmaps",
            "c",
            vec![("a".into(), "v1".into(), ".data.x".into())],
        );
        assert_eq!(
            e.message,
            "Apply failed with 1 conflict: conflict with \"a\" using v1: .data.x"
        );
    }

    #[test]
    fn bad_option_is_invalid_naming_the_parameter() {
        let e = ApiError::invalid_option(
            "PatchOptions",
            "fieldValidation",
            "Unsupported value: \"x\"",
        );
        assert_eq!((e.code, e.reason), (422, "Invalid"));
        assert_eq!(
            e.message,
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"x\""
        );
        assert_eq!(e.body()["details"]["causes"][0]["field"], "fieldValidation");
    }
}
