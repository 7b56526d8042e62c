//! Clusters emulating older Kubernetes versions: /version, the discovery shape chosen
//! from the Accept header, OpenAPI v3, `fieldValidation`, the real kubectl against a
//! 1.23 cluster, and server-side apply conflicts worded as a real apiserver words them.

use std::collections::BTreeMap;
use std::sync::Arc;

use posture_sandbox::api::{self, Reply, Request};
use posture_sandbox::cluster::Cluster;
use posture_sandbox::{KubeVersion, SandboxConfig, SandboxError};
use serde_json::{Value, json};

use crate::common::{call, env_config, https, instant};

const KUBECTL_ACCEPT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
const V2_ONLY: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
const V2BETA1_ONLY: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

fn v(minor: u32) -> KubeVersion {
    KubeVersion::new(1, minor)
}

/// An in-process cluster emulating `version`.
fn cluster_at(version: KubeVersion) -> Arc<Cluster> {
    let mut st = posture_sandbox::store::State::new();
    posture_sandbox::seed::namespaces(&mut st);
    Arc::new(
        Cluster::new("t".into(), "tok".into(), st, Default::default(), instant())
            .with_version(version),
    )
}

/// A GET with an Accept header: (code, content type, body).
fn get(c: &Arc<Cluster>, path: &str, accept: &str) -> (u16, String, Value) {
    let req = Request {
        method: "GET".into(),
        path: path.into(),
        accept: accept.into(),
        server_addr: "127.0.0.1:1".into(),
        ..Request::default()
    };
    match api::handle(c, &req, posture_sandbox::route::parse(path)) {
        Ok(Reply::Json(code, ct, body)) => (
            code,
            ct.to_string(),
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        ),
        Ok(Reply::Watch(_)) => panic!("no watch expected for {path}"),
        Err(e) => (e.code, "application/json".into(), e.body()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_is_per_cluster_in_one_sandbox() {
    let e = env_config(SandboxConfig {
        clusters: vec!["old".into(), "mid".into(), "new".into()],
        nodes: 1,
        controllers: instant(),
        kubernetes_version: Some(v(27)),
        cluster_versions: BTreeMap::from([("old".into(), v(23)), ("new".into(), v(32))]),
        ..SandboxConfig::default()
    })
    .await;
    for (name, minor) in [("old", "23"), ("mid", "27"), ("new", "32")] {
        let token = e.sb.token(name).expect("token");
        let (code, _, body) = https(&e.sb, name, "GET", "/version", Some(&token), "", b"")
            .await
            .expect("GET /version");
        assert_eq!(code, 200, "{body}");
        let doc: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(doc["major"], "1", "{name}");
        assert_eq!(doc["minor"], minor, "{name}");
        assert_eq!(doc["gitVersion"], format!("v1.{minor}.0"), "{name}");
        assert_eq!(
            e.sb.cluster(name).expect("cluster").version,
            v(minor.parse().expect("n"))
        );
    }
}

#[tokio::test]
async fn a_version_for_a_cluster_not_started_is_refused() {
    let err = posture_sandbox::start(SandboxConfig {
        clusters: vec!["a".into()],
        cluster_versions: BTreeMap::from([("b".into(), v(23))]),
        ..SandboxConfig::default()
    })
    .await
    .err()
    .expect("refused");
    assert!(
        matches!(&err, SandboxError::VersionForUnknownCluster { name, .. } if name == "b"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("\"b\", which is not one of --clusters (a)"),
        "{err}"
    );
}

#[test]
fn v1_23_serves_legacy_discovery_for_every_accept_and_406_for_aggregated_only() {
    let c = cluster_at(v(23));
    for accept in [KUBECTL_ACCEPT, "application/json", "*/*", ""] {
        let (code, ct, apis) = get(&c, "/apis", accept);
        assert_eq!((code, ct.as_str()), (200, "application/json"), "{accept}");
        assert_eq!(apis["kind"], "APIGroupList", "{accept}");
        let (_, _, core) = get(&c, "/api", accept);
        assert_eq!(
            (core["kind"].clone(), core["versions"].clone()),
            (json!("APIVersions"), json!(["v1"]))
        );
    }
    for accept in [V2_ONLY, V2BETA1_ONLY, &format!("{V2_ONLY},{V2BETA1_ONLY}")] {
        for path in ["/api", "/apis"] {
            let (code, _, status) = get(&c, path, accept);
            assert_eq!(code, 406, "{path} {accept}");
            assert_eq!(status["kind"], "Status");
            assert_eq!(status["reason"], "NotAcceptable");
        }
    }
    // Group documents do not depend on the version.
    let (code, _, apps) = get(&c, "/apis/apps/v1", "application/json");
    assert_eq!(
        (code, apps["kind"].clone()),
        (200, json!("APIResourceList"))
    );
}

#[test]
fn v1_27_serves_aggregated_v2beta1_only() {
    let c = cluster_at(v(27));
    for accept in [KUBECTL_ACCEPT, V2BETA1_ONLY] {
        for path in ["/api", "/apis"] {
            let (code, ct, doc) = get(&c, path, accept);
            assert_eq!(code, 200, "{path} {accept}");
            assert_eq!(ct, posture_sandbox::discovery::AGGREGATED_V2BETA1_CT);
            assert_eq!(doc["apiVersion"], "apidiscovery.k8s.io/v2beta1");
            assert_eq!(doc["kind"], "APIGroupDiscoveryList");
        }
    }
    let (_, _, apis) = get(&c, "/apis", V2BETA1_ONLY);
    let groups: Vec<&str> = apis["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|g| g["metadata"]["name"].as_str())
        .collect();
    assert!(groups.contains(&"apps"), "{groups:?}");
    assert_eq!(get(&c, "/apis", V2_ONLY).0, 406);
    assert_eq!(
        get(&c, "/apis", "application/json").2["kind"],
        "APIGroupList"
    );
}

#[test]
fn v1_32_serves_v2_and_v2beta1_when_asked_first() {
    let c = cluster_at(v(32));
    let (code, ct, doc) = get(&c, "/apis", KUBECTL_ACCEPT);
    assert_eq!(
        (code, ct.as_str()),
        (200, posture_sandbox::discovery::AGGREGATED_CT)
    );
    assert_eq!(doc["apiVersion"], "apidiscovery.k8s.io/v2");
    let (_, ct, doc) = get(&c, "/api", &format!("{V2BETA1_ONLY},{V2_ONLY}"));
    assert_eq!(ct, posture_sandbox::discovery::AGGREGATED_V2BETA1_CT);
    assert_eq!(doc["apiVersion"], "apidiscovery.k8s.io/v2beta1");
    assert_eq!(get(&c, "/api", "text/html").0, 406);
}

/// A real 1.23 server has no /openapi/v3, but it has /openapi/v2, which kubectl falls
/// back to and the sandbox does not emulate; v3 stays on so kubectl `apply` works.
#[test]
fn openapi_v3_is_served_at_every_version() {
    for minor in [23, 24, 32] {
        let c = cluster_at(v(minor));
        let (code, _, root) = get(&c, "/openapi/v3", "application/json");
        assert_eq!(code, 200, "1.{minor}");
        assert!(root["paths"]["api/v1"].is_object(), "{root}");
        assert_eq!(get(&c, "/openapi/v3/api/v1", "application/json").0, 200);
    }
    assert!(
        !v(23).openapi_v3() && v(24).openapi_v3(),
        "what a real server does"
    );
}

const CM: &str =
    r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"x":"1"}}"#;

#[test]
fn field_validation_is_ignored_before_1_25_but_counted() {
    let c = cluster_at(v(23));
    let path = "/api/v1/namespaces/default/configmaps";
    let (code, body) = call(
        &c,
        "POST",
        &format!("{path}?fieldValidation=Bogus"),
        CM,
        "application/json",
    );
    assert_eq!(code, 201, "{body}");
    let (code, body) = call(
        &c,
        "PATCH",
        &format!("{path}/c?fieldValidation=Strict"),
        r#"{"data":{"x":"2"}}"#,
        "application/merge-patch+json",
    );
    assert_eq!((code, body["data"]["x"].clone()), (200, json!("2")));
    assert_eq!(
        c.field_validation_seen(),
        BTreeMap::from([("Bogus".into(), 1), ("Strict".into(), 1)])
    );
    assert!(
        c.metrics().keys().all(|k| !k.contains("fieldValidation")),
        "{:?}",
        c.metrics()
    );
}

#[test]
fn field_validation_is_checked_from_1_25_and_counted() {
    let c = cluster_at(v(30));
    let path = "/api/v1/namespaces/default/configmaps";
    let (code, status) = call(
        &c,
        "POST",
        &format!("{path}?fieldValidation=Bogus"),
        CM,
        "application/json",
    );
    assert_eq!(
        (code, status["reason"].clone()),
        (422, json!("Invalid")),
        "{status}"
    );
    assert_eq!(
        status["message"],
        "CreateOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"Bogus\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""
    );
    assert_eq!(status["details"]["causes"][0]["field"], "fieldValidation");
    assert_eq!(
        call(&c, "GET", &format!("{path}/c"), "", "").0,
        404,
        "nothing created"
    );
    let writes = [
        ("POST", path.to_string(), CM, "application/json", "Strict"),
        ("PUT", format!("{path}/c"), CM, "application/json", "Warn"),
        (
            "PATCH",
            format!("{path}/c"),
            "{}",
            "application/merge-patch+json",
            "Ignore",
        ),
    ];
    for (method, p, body, ct, value) in writes {
        let (code, out) = call(
            &c,
            method,
            &format!("{p}?fieldValidation={value}"),
            body,
            ct,
        );
        assert!(code == 200 || code == 201, "{method} {value}: {out}");
    }
    let (code, status) = call(
        &c,
        "PATCH",
        &format!("{path}/c?fieldValidation=strict"),
        "{}",
        "application/merge-patch+json",
    );
    assert_eq!(code, 422, "values are case-sensitive: {status}");
    assert!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("PatchOptions.meta.k8s.io"))
    );
    assert_eq!(
        c.field_validation_seen(),
        BTreeMap::from([
            ("Bogus".into(), 1),
            ("Ignore".into(), 1),
            ("Strict".into(), 1),
            ("Warn".into(), 1),
            ("strict".into(), 1)
        ])
    );
}

/// A ConfigMap `c` in `default` whose `.data.x` is owned by `editor` through an Update
/// (a merge patch) and whose `.data.y` is owned by `helm` through an Apply.
fn owned_by_editor_and_helm() -> Arc<Cluster> {
    let c = cluster_at(KubeVersion::DEFAULT);
    let path = "/api/v1/namespaces/default/configmaps";
    let (code, body) = call(
        &c,
        "POST",
        &format!("{path}?fieldManager=editor"),
        CM,
        "application/json",
    );
    assert_eq!(code, 201, "{body}");
    let helm = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"y":"1"}}"#;
    let (code, body) = call(
        &c,
        "PATCH",
        &format!("{path}/c?fieldManager=helm"),
        helm,
        "application/apply-patch+yaml",
    );
    assert_eq!(code, 200, "{body}");
    c
}

fn apply_as_bob(c: &Arc<Cluster>, data: &str) -> (u16, Value) {
    let body = format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"c"}},"data":{data}}}"#
    );
    call(
        c,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/c?fieldManager=bob",
        &body,
        "application/apply-patch+yaml",
    )
}

#[test]
fn one_conflict_with_an_update_owner_names_its_api_version() {
    let c = owned_by_editor_and_helm();
    let (code, status) = apply_as_bob(&c, r#"{"x":"2"}"#);
    assert_eq!(
        (code, status["reason"].clone()),
        (409, json!("Conflict")),
        "{status}"
    );
    assert_eq!(
        status["message"],
        "Apply failed with 1 conflict: conflict with \"editor\" using v1: .data.x"
    );
    assert_eq!(
        status["details"],
        json!({"causes": [{"reason": "FieldManagerConflict", "message": "conflict with \"editor\" using v1", "field": ".data.x"}]})
    );
}

#[test]
fn one_conflict_with_an_apply_owner_names_only_the_manager() {
    let c = owned_by_editor_and_helm();
    let (code, status) = apply_as_bob(&c, r#"{"y":"2"}"#);
    assert_eq!(code, 409, "{status}");
    assert_eq!(
        status["message"],
        "Apply failed with 1 conflict: conflict with \"helm\": .data.y"
    );
    assert_eq!(
        status["details"]["causes"][0]["message"],
        "conflict with \"helm\""
    );
}

#[test]
fn several_conflicts_are_listed_per_sorted_manager() {
    let c = owned_by_editor_and_helm();
    let path = "/api/v1/namespaces/default/configmaps/c";
    let more = r#"{"data":{"w":"1"}}"#;
    let (code, body) = call(
        &c,
        "PATCH",
        &format!("{path}?fieldManager=editor"),
        more,
        "application/merge-patch+json",
    );
    assert_eq!(code, 200, "{body}");
    let (code, status) = apply_as_bob(&c, r#"{"w":"2","x":"2","y":"2"}"#);
    assert_eq!(code, 409, "{status}");
    assert_eq!(
        status["message"],
        "Apply failed with 3 conflicts: conflicts with \"editor\" using v1:\n- .data.w\n- .data.x\nconflicts with \"helm\":\n- .data.y"
    );
    let causes: Vec<(String, String)> = status["details"]["causes"]
        .as_array()
        .expect("causes")
        .iter()
        .map(|c| {
            (
                c["field"].as_str().unwrap_or("").into(),
                c["message"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(causes.len(), 3, "{causes:?}");
    assert!(
        causes.contains(&(".data.y".into(), "conflict with \"helm\"".into())),
        "{causes:?}"
    );
    assert!(
        causes.contains(&(".data.w".into(), "conflict with \"editor\" using v1".into())),
        "{causes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_1_32_gets_patches_and_applies_on_a_1_23_cluster() {
    let e = env_config(SandboxConfig {
        clusters: vec!["old".into()],
        nodes: 2,
        controllers: instant(),
        kubernetes_version: Some(v(23)),
        ..SandboxConfig::default()
    })
    .await;
    let version: Value =
        serde_json::from_str(&e.kubectl(&["version", "-o", "json"]).await.ok()).expect("json");
    assert_eq!(version["serverVersion"]["minor"], "23", "{version}");
    let nodes = e.kubectl(&["get", "nodes", "-o", "name"]).await.ok();
    assert_eq!(nodes, "node/old-control-plane\nnode/old-worker-1\n");
    let cm = e.file(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: default}\ndata: {key: one}\n",
    );
    let out = e.kubectl(&["apply", "--server-side", "-f", &cm]).await.ok();
    assert!(out.contains("configmap/cfg serverside-applied"), "{out}");
    let out = e
        .kubectl(&[
            "patch",
            "configmap",
            "cfg",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"other":"two"}}"#,
        ])
        .await
        .ok();
    assert!(out.contains("configmap/cfg patched"), "{out}");
    let got: Value = serde_json::from_str(
        &e.kubectl(&[
            "get",
            "configmap",
            "cfg",
            "-o",
            "json",
            "--show-managed-fields",
        ])
        .await
        .ok(),
    )
    .expect("json");
    assert_eq!(got["data"], json!({"key": "one", "other": "two"}));
    let managers: Vec<&str> = got["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert_eq!(managers, ["kubectl", "kubectl-patch"]);
    // kubectl asked for aggregated discovery first; a 1.23 server answered legacy
    // documents, which kubectl used (the commands above resolved their kinds).
    let seen =
        e.sb.cluster("old")
            .expect("cluster")
            .field_validation_seen();
    // kubectl's apply asks for Strict (the OpenAPI v3 it read advertises the
    // parameter); a 1.23 server ignores it, and the sandbox records it anyway.
    assert_eq!(seen, BTreeMap::from([("Strict".into(), 1)]));
    let metrics = e.sb.metrics("old").expect("metrics");
    assert!(
        metrics.get("get discovery").copied().unwrap_or(0) > 0,
        "{metrics:?}"
    );
}
