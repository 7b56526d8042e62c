//! Readiness: `wait` for rollout, conditions and fields after apply; delete
//! waits for finalizers within its timeout.

use super::support::*;
use posture_engine::value::{Type, Value};
use serde_json::json;
use std::collections::BTreeMap;

fn with_wait(cfg: Value, wait: Value) -> Value {
    let mut m = cfg.as_map().expect("obj").clone();
    m.insert("wait".to_string(), wait);
    Value::Object(m)
}

#[tokio::test]
async fn apply_waits_for_rollout_and_conditions() {
    let h = Harness::portable(&["a"]).await;
    let ns = h.ns();
    let p = provider();
    let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}});
    let wait = Value::Object(BTreeMap::from([
        ("rollout".to_string(), Value::Bool(true)),
        (
            "fields".to_string(),
            Value::Map(
                Type::String,
                BTreeMap::from([("status.readyReplicas".to_string(), Value::from("2"))]),
            ),
        ),
        ("timeout".to_string(), Value::from("30s")),
        (
            "condition".to_string(),
            Value::List(
                Type::Dynamic,
                vec![Value::Object(BTreeMap::from([
                    ("type".to_string(), Value::from("Available")),
                    ("status".to_string(), Value::from("True")),
                ]))],
            ),
        ),
    ]));
    let cfg = with_wait(manifest_config(h.cluster("a"), dep), wait);
    converge(&p, "kubernetes_manifest", &Value::NULL, &cfg).await;
    // Apply returned only once the controller reported the rollout.
    let live = h
        .get("a", "deployment", Some(ns.as_str()), "web")
        .await
        .expect("exists");
    assert_eq!(live["status"]["readyReplicas"], 2);
}

#[tokio::test]
async fn delete_waits_for_finalizers_within_its_timeout() {
    let h = Harness::portable(&["a"]).await;
    let ns = h.ns();
    let p = provider();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "held", "namespace": ns, "finalizers": ["example.com/hold"]},
        "data": {"k": "v"}});
    let mut cfg = manifest_config(h.cluster("a"), cm)
        .as_map()
        .expect("obj")
        .clone();
    cfg.insert("delete_timeout".to_string(), Value::from("1s"));
    let state = converge(&p, "kubernetes_manifest", &Value::NULL, &Value::Object(cfg)).await;
    let err = apply(
        &p,
        "kubernetes_manifest",
        vec![(state.clone(), Value::NULL)],
    )
    .await
    .remove(0)
    .expect_err("held");
    assert!(
        err.contains("finalizers") && err.contains("cluster a") && err.contains("held"),
        "{err}"
    );
    let live = h
        .get("a", "configmap", Some(ns.as_str()), "held")
        .await
        .expect("still there");
    assert!(live["metadata"]["deletionTimestamp"].is_string());
    h.kubectl(
        "a",
        &[
            "patch",
            "configmap",
            "held",
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ],
    )
    .await;
    assert!(
        h.get("a", "configmap", Some(ns.as_str()), "held")
            .await
            .is_none(),
        "gone once the finalizer is removed"
    );
    apply(&p, "kubernetes_manifest", vec![(state, Value::NULL)])
        .await
        .remove(0)
        .expect("already gone is fine");
}
