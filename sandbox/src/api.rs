//! The Kubernetes API of one cluster: from a decoded request (method, route, query,
//! headers, body) to a reply (JSON, Status, or a watch to stream). Verbs: get, list,
//! watch, create, update, patch (four types), delete, deletecollection.
//!
//! Knows nothing of sockets, TLS or faults (see `server`).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::cluster::Cluster;
use crate::discovery;
use crate::list::{
    FieldSelector, LabelSelector, decode_continue, encode_continue, table, wants_table,
};
use crate::objects::{self, Part, WriteOpts, key_of, present, schema_of};
use crate::openapi;
use crate::patch::{PatchType, apply_patch};
use crate::registry::ResourceType;
use crate::route::{ResourcePath, Route};
use crate::ssa;
use crate::status::{ApiError, ApiResult};
use crate::watch::WatchRequest;

/// A decoded HTTP request.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// HTTP method, upper case.
    pub method: String,
    /// Path without query.
    pub path: String,
    /// Query parameters (last value wins).
    pub query: HashMap<String, String>,
    /// Accept header.
    pub accept: String,
    /// Content-Type header.
    pub content_type: String,
    /// User-Agent header.
    pub user_agent: String,
    /// The body.
    pub body: bytes::Bytes,
    /// `127.0.0.1:PORT` of this cluster.
    pub server_addr: String,
}

/// What to send back.
pub enum Reply {
    /// A JSON body with a status code and content type.
    Json(u16, &'static str, Vec<u8>),
    /// A watch to stream.
    Watch(Box<WatchRequest>),
}

impl Reply {
    fn ok(v: &Value) -> Reply {
        Reply::Json(
            200,
            "application/json",
            serde_json::to_vec(v).unwrap_or_default(),
        )
    }
    fn created(v: &Value) -> Reply {
        Reply::Json(
            201,
            "application/json",
            serde_json::to_vec(v).unwrap_or_default(),
        )
    }
}

/// The verb and resource a request counts as in the metrics (`list`, `deployments.apps`).
pub fn verb_and_resource(req: &Request, route: Option<&Route>) -> (String, String) {
    match route {
        Some(Route::Resource(r)) => {
            let res = if r.group.is_empty() {
                r.plural.clone()
            } else {
                format!("{}.{}", r.plural, r.group)
            };
            let res = match &r.sub {
                Some(s) => format!("{res}/{s}"),
                None => res,
            };
            let verb = match (req.method.as_str(), r.name.is_some()) {
                ("GET", true) => "get",
                ("GET", false)
                    if req
                        .query
                        .get("watch")
                        .is_some_and(|w| w == "true" || w == "1") =>
                {
                    "watch"
                }
                ("GET", false) => "list",
                ("POST", _) => "create",
                ("PUT", _) => "update",
                ("PATCH", _) => "patch",
                ("DELETE", true) => "delete",
                ("DELETE", false) => "deletecollection",
                _ => "other",
            };
            (verb.into(), res)
        }
        Some(_) => ("get".into(), "discovery".into()),
        None => ("get".into(), "unknown".into()),
    }
}

/// Answers one request.
pub fn handle(cluster: &Arc<Cluster>, req: &Request, route: Option<Route>) -> ApiResult<Reply> {
    let Some(route) = route else {
        return Err(ApiError::no_route(&req.path));
    };
    if req.method != "GET" && !matches!(route, Route::Resource(_)) {
        return Err(ApiError::method_not_allowed());
    }
    match route {
        Route::Version => Ok(Reply::ok(&discovery::version_of(cluster.version))),
        Route::Health => Ok(Reply::Json(200, "text/plain", b"ok".to_vec())),
        Route::CoreVersions => discovery::serve_root(cluster, req, true),
        Route::Groups => discovery::serve_root(cluster, req, false),
        Route::Group(g) => discovery::group(&cluster.state().registry, &g)
            .map(|v| Reply::ok(&v))
            .ok_or_else(|| ApiError::no_route(&req.path)),
        Route::GroupVersion(g, v) => discovery::resource_list(&cluster.state().registry, &g, &v)
            .map(|v| Reply::ok(&v))
            .ok_or_else(|| ApiError::no_route(&req.path)),
        Route::OpenApiV2 => Err(ApiError::no_route(&req.path)),
        // Served at every version, although a real server has it from 1.24 only:
        // without it kubectl 1.32 falls back to /openapi/v2 (not emulated) and its
        // `apply` fails validation. See docs/sandbox.md.
        Route::OpenApiV3Root => Ok(Reply::ok(&openapi::root(&cluster.state().registry))),
        Route::OpenApiV3(g, v) => openapi::document(&cluster.state().registry, &g, &v)
            .map(|v| Reply::ok(&v))
            .ok_or_else(|| ApiError::no_route(&req.path)),
        Route::Resource(rp) => resource(cluster, req, &rp),
    }
}

/// Decodes a JSON or YAML body into an object.
pub fn decode_body(body: &[u8], content_type: &str) -> ApiResult<Value> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty; send a JSON or YAML object",
        ));
    }
    if content_type.contains("protobuf") {
        return match crate::proto::decode(body) {
            crate::proto::Decoded::Object(v) => Ok(v),
            crate::proto::Decoded::UnsupportedKind(k) => Err(ApiError::unsupported_media(format!(
                "the sandbox decodes protobuf only for v1 Namespace, ConfigMap, Secret, ServiceAccount and apps/v1 Deployment, not {k}; send JSON or YAML instead (e.g. kubectl create ... --dry-run=client -o yaml | kubectl apply -f -)"
            ))),
            crate::proto::Decoded::Malformed => Err(ApiError::bad_request(
                "the protobuf body is not a valid Kubernetes envelope",
            )),
        };
    }
    if content_type.contains("cbor") {
        return Err(ApiError::unsupported_media(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {content_type})"
        )));
    }
    let v: Value = if content_type.contains("yaml") {
        serde_yaml::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })?
    };
    Ok(v)
}

fn dry_run(req: &Request) -> bool {
    req.query.get("dryRun").is_some_and(|d| d == "All")
}

fn manager(req: &Request) -> String {
    match req.query.get("fieldManager") {
        Some(m) if !m.is_empty() => m.clone(),
        _ => req
            .user_agent
            .split('/')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown")
            .to_string(),
    }
}

fn resource(cluster: &Arc<Cluster>, req: &Request, rp: &ResourcePath) -> ApiResult<Reply> {
    let rt = cluster
        .state()
        .registry
        .find(&rp.group, &rp.version, &rp.plural)
        .cloned()
        .ok_or_else(|| ApiError::no_route(&req.path))?;
    if rp.namespace.is_some() && !rt.namespaced {
        return Err(ApiError::no_route(&req.path));
    }
    let ns = rp.namespace.clone().unwrap_or_default();
    if matches!(req.method.as_str(), "POST" | "PUT" | "PATCH") {
        // Counted whether honoured, ignored (before 1.25) or rejected.
        if let Some(v) = req.query.get("fieldValidation") {
            cluster.count_field_validation(v);
        }
        crate::version::check_field_validation(cluster.version, &req.method, &req.query)?;
    }
    if rp.sub.as_deref() == Some("scale") && crate::scale::has_scale(&rt) {
        return scale(
            cluster,
            req,
            &rt,
            &ns,
            rp.name.as_deref().unwrap_or_default(),
        );
    }
    let part = match rp.sub.as_deref() {
        None => Part::Main,
        Some("status") if rt.status_subresource => Part::Status,
        Some("finalize") if rt.kind == "Namespace" => Part::Main,
        Some(_) => return Err(ApiError::no_route(&req.path)),
    };
    let opts = WriteOpts {
        dry_run: dry_run(req),
        manager: manager(req),
        managed_done: false,
        internal: false,
    };
    let v = rp.version.as_str();
    let reply = match (req.method.as_str(), rp.name.as_deref()) {
        ("GET", Some(name)) => {
            let st = cluster.state();
            let obj = st
                .get(&key_of(&rt), &ns, name)
                .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
            if wants_table(&req.accept) {
                let rv = obj
                    .pointer("/metadata/resourceVersion")
                    .cloned()
                    .unwrap_or(json!(""));
                Reply::ok(&table(&[obj.as_ref()], &rt, json!({"resourceVersion": rv})))
            } else {
                Reply::ok(&present(obj, &rt, v))
            }
        }
        ("GET", None)
            if req
                .query
                .get("watch")
                .is_some_and(|w| w == "true" || w == "1") =>
        {
            Reply::Watch(Box::new(WatchRequest::from_query(
                &rt,
                v,
                rp.namespace.clone(),
                &req.query,
                wants_table(&req.accept),
            )?))
        }
        ("GET", None) => list(cluster, req, &rt, v, rp.namespace.as_deref())?,
        ("POST", None) => {
            let body = decode_body(&req.body, &req.content_type)?;
            let out = objects::create(&mut cluster.state(), &rt, &ns, body, &opts)?;
            Reply::created(&present(&out, &rt, v))
        }
        ("PUT", Some(name)) => {
            let body = decode_body(&req.body, &req.content_type)?;
            let out = objects::update(&mut cluster.state(), &rt, &ns, name, body, part, &opts)?;
            Reply::ok(&present(&out, &rt, v))
        }
        ("PATCH", Some(name)) => patch(cluster, req, &rt, &ns, name, part, opts.clone())?,
        ("DELETE", Some(name)) => {
            let body_dry = serde_json::from_slice::<Value>(&req.body)
                .ok()
                .and_then(|b| b.get("dryRun").cloned())
                .is_some_and(|d| d == json!(["All"]));
            let out = objects::delete(
                &mut cluster.state(),
                &rt,
                &ns,
                name,
                opts.dry_run || body_dry,
            )?;
            Reply::ok(&present(&out, &rt, v))
        }
        ("DELETE", None) => {
            let mut st = cluster.state();
            let (labels, fields) = selectors(req, &rt)?;
            let names: Vec<(String, String)> = st
                .list(&key_of(&rt), rp.namespace.as_deref())
                .filter(|o| labels.matches(o) && fields.matches(o))
                .map(|o| {
                    let s = |k: &str| {
                        o.pointer(&format!("/metadata/{k}"))
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    (s("namespace"), s("name"))
                })
                .collect();
            let mut items = Vec::new();
            for (ons, oname) in names {
                items.push(present(
                    &objects::delete(&mut st, &rt, &ons, &oname, opts.dry_run)?,
                    &rt,
                    v,
                ));
            }
            Reply::ok(
                &json!({"kind": format!("{}List", rt.kind), "apiVersion": rt.api_version(v),
                "metadata": {"resourceVersion": st.rv.to_string()}, "items": items}),
            )
        }
        _ => return Err(ApiError::method_not_allowed()),
    };
    if !opts.dry_run && matches!(req.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE") {
        cluster.changed.notify_waiters();
    }
    Ok(reply)
}

fn scale(
    cluster: &Arc<Cluster>,
    req: &Request,
    rt: &ResourceType,
    ns: &str,
    name: &str,
) -> ApiResult<Reply> {
    let opts = WriteOpts {
        dry_run: dry_run(req),
        manager: manager(req),
        managed_done: false,
        internal: false,
    };
    let mut st = cluster.state();
    let out = match req.method.as_str() {
        "GET" => return Ok(Reply::ok(&crate::scale::get(&st, rt, ns, name)?)),
        "PUT" => crate::scale::write(
            &mut st,
            rt,
            ns,
            name,
            &decode_body(&req.body, &req.content_type)?,
            None,
            &opts,
        )?,
        "PATCH" => {
            let pt = PatchType::from_content_type(&req.content_type).ok_or_else(|| {
                ApiError::unsupported_media(format!("unknown patch type {}", req.content_type))
            })?;
            let body = decode_body(&req.body, "json")?;
            crate::scale::write(&mut st, rt, ns, name, &body, Some(pt), &opts)?
        }
        _ => return Err(ApiError::method_not_allowed()),
    };
    drop(st);
    if !opts.dry_run {
        cluster.changed.notify_waiters();
    }
    Ok(Reply::ok(&out))
}

fn selectors(req: &Request, rt: &ResourceType) -> ApiResult<(LabelSelector, FieldSelector)> {
    let labels = LabelSelector::parse(
        req.query
            .get("labelSelector")
            .map(String::as_str)
            .unwrap_or(""),
    )?;
    let fields = FieldSelector::parse(
        req.query
            .get("fieldSelector")
            .map(String::as_str)
            .unwrap_or(""),
        rt,
    )?;
    Ok((labels, fields))
}

fn list(
    cluster: &Arc<Cluster>,
    req: &Request,
    rt: &ResourceType,
    version: &str,
    ns: Option<&str>,
) -> ApiResult<Reply> {
    let (labels, fields) = selectors(req, rt)?;
    let limit: usize = match req.query.get("limit") {
        Some(l) => l.parse().map_err(|_| {
            ApiError::bad_request(format!("invalid limit {l:?}: must be a positive integer"))
        })?,
        None => 0,
    };
    let after = match req.query.get("continue").filter(|c| !c.is_empty()) {
        Some(c) => Some(decode_continue(c)?),
        None => None,
    };
    let st = cluster.state();
    let key = key_of(rt);
    let mut items: Vec<&Value> = Vec::new();
    let mut next = None;
    for o in st.list(&key, ns) {
        if let Some((ans, aname)) = &after {
            let ons = o
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let oname = o
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if (ons, oname) <= (ans.as_str(), aname.as_str()) {
                continue;
            }
        }
        if !(labels.matches(o) && fields.matches(o)) {
            continue;
        }
        if limit > 0 && items.len() == limit {
            let last = items[items.len() - 1];
            let s = |k: &str| {
                last.pointer(&format!("/metadata/{k}"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            next = Some(encode_continue(&s("namespace"), &s("name"), st.rv));
            break;
        }
        items.push(o.as_ref());
    }
    let mut meta = json!({"resourceVersion": st.rv.to_string()});
    if let Some(c) = next {
        meta["continue"] = json!(c);
    }
    if wants_table(&req.accept) {
        return Ok(Reply::ok(&table(&items, rt, meta)));
    }
    // Written by hand so a large list is serialised without cloning every object.
    let api_version = rt.api_version(version);
    let relabel = api_version != rt.api_version(&rt.versions[0]);
    let mut out = Vec::with_capacity(items.len() * 512 + 256);
    out.extend_from_slice(
        format!(
            "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
            rt.kind, api_version, meta
        )
        .as_bytes(),
    );
    for (i, o) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let written = if relabel {
            serde_json::to_writer(&mut out, &present(o, rt, version))
        } else {
            serde_json::to_writer(&mut out, o)
        };
        written.map_err(|e| ApiError::internal(format!("could not encode the list: {e}")))?;
    }
    out.extend_from_slice(b"]}");
    Ok(Reply::Json(200, "application/json", out))
}

fn patch(
    cluster: &Arc<Cluster>,
    req: &Request,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    part: Part,
    mut opts: WriteOpts,
) -> ApiResult<Reply> {
    let pt = PatchType::from_content_type(&req.content_type).ok_or_else(|| {
        ApiError::unsupported_media(format!(
            "the body of the request was in an unknown format ({}) - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            req.content_type
        ))
    })?;
    let v = req.query.get("fieldManager").cloned();
    let patch_body = decode_body(
        &req.body,
        if pt == PatchType::Apply {
            "yaml"
        } else {
            "json"
        },
    )?;
    let schema = schema_of(rt);
    let mut st = cluster.state();
    let live = st.get(&key_of(rt), ns, name).cloned();
    if pt != PatchType::Apply {
        let live = live.ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
        let patched = apply_patch(&live, pt, &patch_body, &schema)?;
        let out = objects::update(&mut st, rt, ns, name, patched, part, &opts)?;
        return Ok(Reply::ok(&present(&out, rt, &req_version(req, rt))));
    }
    let Some(mgr) = v.filter(|m| !m.is_empty()) else {
        return Err(ApiError::bad_request(
            "PATCH, application/apply-patch+yaml requests require fieldManager to be set",
        ));
    };
    if !patch_body.is_object()
        || patch_body.get("apiVersion").is_none()
        || patch_body.get("kind").is_none()
    {
        return Err(ApiError::bad_request(
            "invalid object type: apply configurations must set apiVersion and kind",
        ));
    }
    if let Some(n) = patch_body.pointer("/metadata/name").and_then(Value::as_str)
        && n != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({n}) does not match the name on the URL ({name})"
        )));
    }
    let force = req.query.get("force").is_some_and(|f| f == "true");
    opts.manager = mgr.clone();
    opts.managed_done = true;
    let version = req_version(req, rt);
    let created = live.is_none();
    let out = match live {
        None => {
            let mut skeleton = json!({"apiVersion": rt.api_version(&version), "kind": rt.kind, "metadata": {"name": name}});
            if rt.namespaced {
                skeleton["metadata"]["namespace"] = json!(ns);
            }
            let merged = ssa::apply::apply_detailed(&skeleton, &patch_body, &mgr, force, &schema)
                .map_err(|c| ApiError::apply_conflicts(&c))?;
            objects::create(&mut st, rt, ns, merged, &opts)?
        }
        Some(live) => {
            let merged = ssa::apply::apply_detailed(&live, &patch_body, &mgr, force, &schema)
                .map_err(|c| ApiError::apply_conflicts(&c))?;
            objects::update(&mut st, rt, ns, name, merged, part, &opts)?
        }
    };
    let body = present(&out, rt, &version);
    // A real server answers 201 when apply created the object.
    Ok(if created {
        Reply::created(&body)
    } else {
        Reply::ok(&body)
    })
}

fn req_version(req: &Request, rt: &ResourceType) -> String {
    match crate::route::parse(&req.path) {
        Some(Route::Resource(rp)) => rp.version,
        _ => rt.versions[0].clone(),
    }
}
