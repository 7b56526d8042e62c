//! A CRD and its custom resource planned and applied in one run; a kind
//! neither served nor planned is a plan error naming kind and cluster.

use super::support::*;
use posture_engine::value::Value;
use serde_json::json;

fn crd() -> serde_json::Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}})
}

fn widget(ns: &str) -> serde_json::Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w1", "namespace": ns}, "spec": {"size": 3}})
}

#[tokio::test]
async fn crd_and_cr_in_one_run() {
    let h = Harness::portable(&["a"]).await;
    let ns = h.ns();
    let p = provider();
    let crd_cfg = manifest_config(h.cluster("a"), crd());
    let cr_cfg = manifest_config(h.cluster("a"), widget(&ns));
    let crd_plan = plan(&p, "kubernetes_manifest", &Value::NULL, &crd_cfg)
        .await
        .expect("crd plan");
    let cr_plan = plan(&p, "kubernetes_manifest", &Value::NULL, &cr_cfg)
        .await
        .expect("cr plan");
    assert!(
        cr_plan.planned.as_map().expect("obj")["object"].is_unknown(),
        "details come at apply"
    );
    assert_eq!(
        cr_plan.planned.as_map().expect("obj")["id"],
        Value::from(format!("a/example.com/v1/Widget/{ns}/w1"))
    );
    // Applied concurrently (no ordering between them): the CR waits for its CRD.
    let (a, b) = tokio::join!(
        apply(
            &p,
            "kubernetes_manifest",
            vec![(Value::NULL, cr_plan.planned)]
        ),
        apply(
            &p,
            "kubernetes_manifest",
            vec![(Value::NULL, crd_plan.planned)]
        ),
    );
    let cr_state = a.into_iter().next().expect("one").expect("cr applied");
    b.into_iter().next().expect("one").expect("crd applied");
    assert_eq!(object_of(&cr_state)["spec"]["size"], 3);
    let live = h
        .get("a", "widgets.example.com", Some(ns.as_str()), "w1")
        .await
        .expect("created");
    assert_eq!(live["spec"]["size"], 3);
    // Real clusters keep CRDs; leave none behind.
    h.kubectl("a", &["delete", "crd", "widgets.example.com"])
        .await;
}

#[tokio::test]
async fn a_kind_neither_served_nor_planned_is_a_plan_error() {
    let h = Harness::portable(&["a"]).await;
    let ns = h.ns();
    let p = provider();
    let e = plan(
        &p,
        "kubernetes_manifest",
        &Value::NULL,
        &manifest_config(
            h.cluster("a"),
            json!({"apiVersion": "unplanned.example.com/v1", "kind": "Gizmo",
                "metadata": {"name": "g1", "namespace": ns}}),
        ),
    )
    .await
    .expect_err("not served");
    assert!(
        e.contains("Gizmo") && e.contains("cluster a") && e.contains("unplanned.example.com/v1"),
        "{e}"
    );
}
