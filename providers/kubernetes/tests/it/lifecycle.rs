//! Create, update, no-op and delete of one object; immutable fields plan as
//! replace; import; Secret values never printed.

use super::support::*;
use posture_engine::provider::Provider;
use posture_engine::value::{Value, raw_equal};
use serde_json::json;

#[tokio::test]
async fn create_update_noop_delete() {
    let h = Harness::start(&["a"]).await;
    let p = provider();
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}});
    let ns_state = converge(
        &p,
        "kubernetes_manifest",
        &Value::NULL,
        &manifest_config(h.cluster("a"), ns),
    )
    .await;
    assert_eq!(
        ns_state.as_map().expect("obj")["id"],
        Value::from("a/v1/Namespace/app")
    );

    let cfg = manifest_config(
        h.cluster("a"),
        configmap("settings", "app", &[("color", "blue")]),
    );
    let created = plan(&p, "kubernetes_manifest", &Value::NULL, &cfg)
        .await
        .expect("plan");
    assert_eq!(
        object_of(&created.planned)["data"],
        json!({"color": "blue"})
    );
    let state = apply(
        &p,
        "kubernetes_manifest",
        vec![(Value::NULL, created.planned)],
    )
    .await
    .remove(0)
    .expect("create");
    let live = h
        .get("a", "configmap", Some("app"), "settings")
        .await
        .expect("created");
    assert_eq!(live["data"]["color"], "blue");
    assert_eq!(
        live["metadata"]["labels"]["posture.dev/managed-by"],
        "posture"
    );
    assert_eq!(
        state.as_map().expect("obj")["uid"],
        Value::from(live["metadata"]["uid"].as_str().expect("uid"))
    );

    // Refresh then plan again: nothing to do.
    let refreshed = read_one(&p, "kubernetes_manifest", &state).await;
    let again = plan(&p, "kubernetes_manifest", &refreshed, &cfg)
        .await
        .expect("plan");
    assert!(
        raw_equal(&again.planned, &refreshed),
        "no-op expected:\n{:?}\n{:?}",
        again.planned,
        refreshed
    );

    // Update, with a field removed from the config removed from the cluster.
    let cfg2 = manifest_config(
        h.cluster("a"),
        configmap("settings", "app", &[("size", "L")]),
    );
    let pl = plan(&p, "kubernetes_manifest", &refreshed, &cfg2)
        .await
        .expect("plan");
    assert!(!raw_equal(&pl.planned, &refreshed));
    assert!(pl.requires_replace.is_empty());
    let updated = apply(
        &p,
        "kubernetes_manifest",
        vec![(refreshed.clone(), pl.planned)],
    )
    .await
    .remove(0)
    .expect("update");
    let live = h
        .get("a", "configmap", Some("app"), "settings")
        .await
        .expect("exists");
    assert_eq!(live["data"], json!({"size": "L"}));
    assert_eq!(object_of(&updated)["data"], json!({"size": "L"}));

    // Delete.
    apply(&p, "kubernetes_manifest", vec![(updated, Value::NULL)])
        .await
        .remove(0)
        .expect("delete");
    assert!(
        h.get("a", "configmap", Some("app"), "settings")
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_changed_deployment_selector_plans_as_replace() {
    let h = Harness::start(&["a"]).await;
    let p = provider();
    let dep = |app: &str, replicas: i64| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                 "template": {"metadata": {"labels": {"app": app}},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}})
    };
    let s = converge(
        &p,
        "kubernetes_manifest",
        &Value::NULL,
        &manifest_config(h.cluster("a"), dep("web", 1)),
    )
    .await;
    let scale = plan(
        &p,
        "kubernetes_manifest",
        &s,
        &manifest_config(h.cluster("a"), dep("web", 3)),
    )
    .await
    .expect("plan");
    assert!(
        scale.requires_replace.is_empty(),
        "{:?}",
        scale.requires_replace
    );
    let sel = plan(
        &p,
        "kubernetes_manifest",
        &s,
        &manifest_config(h.cluster("a"), dep("api", 1)),
    )
    .await
    .expect("plan");
    assert!(
        sel.requires_replace
            .iter()
            .any(|p| p.contains("spec.selector")),
        "{:?}",
        sel.requires_replace
    );
}

#[tokio::test]
async fn import_reads_an_existing_object() {
    let h = Harness::start(&["a"]).await;
    h.kubectl(
        "a",
        &["create", "configmap", "legacy", "--from-literal=k=v"],
    )
    .await;
    let p = provider();
    // The cluster is known from configuration seen in this run.
    let _ = plan(
        &p,
        "kubernetes_manifest",
        &Value::NULL,
        &manifest_config(h.cluster("a"), configmap("other", "default", &[])),
    )
    .await
    .expect("plan");
    let v = p
        .import("kubernetes_manifest", "a/v1/ConfigMap/default/legacy")
        .await
        .expect("import");
    assert_eq!(object_of(&v)["data"], json!({"k": "v"}));
    assert_eq!(
        v.as_map().expect("obj")["id"],
        Value::from("a/v1/ConfigMap/default/legacy")
    );
    let e = p
        .import("kubernetes_manifest", "a/v1/ConfigMap")
        .await
        .expect_err("malformed");
    assert!(
        e.message.contains("CLUSTER/APIVERSION/KIND"),
        "{}",
        e.message
    );
    let e = p
        .import("kubernetes_manifest", "a/v1/ConfigMap/default/nope")
        .await
        .expect_err("absent");
    assert!(e.message.contains("nope"), "{}", e.message);
}

#[tokio::test]
async fn secret_values_are_marked_sensitive_and_never_in_messages() {
    let h = Harness::start(&["a"]).await;
    let p = provider();
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "default"},
        "stringData": {"password": "hunter2-very-secret"}});
    let cfg = manifest_config(h.cluster("a"), secret);
    let pl = plan(&p, "kubernetes_manifest", &Value::NULL, &cfg)
        .await
        .expect("plan");
    let m = pl.planned.as_map().expect("obj");
    assert!(m["manifest"].as_map().expect("manifest")["stringData"].is_sensitive());
    assert!(m["object"].as_map().expect("object")["data"].is_sensitive());
    let rendered = posture_engine::value::render::render(&pl.planned);
    assert!(
        !rendered.contains("hunter2") && !rendered.contains("aHVudGVy"),
        "{rendered}"
    );
    let state = apply(&p, "kubernetes_manifest", vec![(Value::NULL, pl.planned)])
        .await
        .remove(0)
        .expect("apply");
    let rendered = posture_engine::value::render::render(&state);
    assert!(
        !rendered.contains("hunter2") && !rendered.contains("aHVudGVy"),
        "{rendered}"
    );
    // A conflict on a Secret field shows the manager, never the value.
    h.kubectl(
        "a",
        &[
            "patch",
            "secret",
            "db",
            "--type=merge",
            "-p",
            r#"{"data":{"password":"b3RoZXItdmFsdWU="}}"#,
        ],
    )
    .await;
    let other = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "default"},
        "data": {"password": "bmV3LXNlY3JldA=="}});
    let pl = plan(
        &p,
        "kubernetes_manifest",
        &state,
        &manifest_config(h.cluster("a"), other),
    )
    .await
    .expect("plan");
    let notes = pl.notes.join("\n");
    assert!(notes.contains("kubectl"), "{notes}");
    assert!(
        !notes.contains("b3RoZXI") && !notes.contains("bmV3"),
        "{notes}"
    );
}

#[tokio::test]
async fn import_finds_clusters_given_to_configure() {
    let h = Harness::start(&["a", "b"]).await;
    h.kubectl(
        "b",
        &["create", "configmap", "legacy", "--from-literal=k=v"],
    )
    .await;
    let p = provider();
    let fleet = Value::Object(
        [("a", h.cluster("a")), ("b", h.cluster("b"))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    );
    p.configure(Value::Object(
        [("clusters".to_string(), fleet)].into_iter().collect(),
    ))
    .await
    .expect("configure");
    let v = p
        .import("kubernetes_manifest", "b/v1/ConfigMap/default/legacy")
        .await
        .expect("import");
    assert_eq!(object_of(&v)["data"], json!({"k": "v"}));
}
