//! The provider against servers of every supported age: legacy discovery
//! (1.23–1.25 shapes), aggregated v2beta1 (1.27) and v2 (1.32), the version
//! floor, readiness by watch, and conflicts read from the Status causes.

use super::support::*;
use posture_engine::provider::ReadResult;
use posture_engine::value::{Type, Value};
use serde_json::json;
use std::collections::BTreeMap;

fn crd() -> serde_json::Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.legacy.example.com"},
        "spec": {"group": "legacy.example.com", "scope": "Namespaced",
                 "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}})
}

fn deployment(ns: &str, image: &str) -> serde_json::Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": image}]}}}})
}

fn with_rollout_wait(cfg: Value) -> Value {
    let mut m = cfg.as_map().expect("obj").clone();
    m.insert(
        "wait".to_string(),
        Value::Object(BTreeMap::from([
            ("rollout".to_string(), Value::Bool(true)),
            ("fields".to_string(), Value::Null(Type::Dynamic)),
            ("condition".to_string(), Value::Null(Type::Dynamic)),
            ("timeout".to_string(), Value::from("30s")),
        ])),
    );
    Value::Object(m)
}

#[tokio::test]
async fn legacy_discovery_at_the_oldest_supported_version_plans_applies_and_reads() {
    let h = Harness::sandbox(&["old"], &[("old", "1.23")]).await;
    let p = provider();
    let cm = manifest_config(h.cluster("old"), configmap("cfg", "default", &[("k", "v")]));
    let dep = with_rollout_wait(manifest_config(
        h.cluster("old"),
        deployment("default", "nginx:1.27"),
    ));
    let crd_cfg = manifest_config(h.cluster("old"), crd());
    let cr_cfg = manifest_config(
        h.cluster("old"),
        json!({"apiVersion": "legacy.example.com/v1", "kind": "Gadget",
            "metadata": {"name": "g1", "namespace": "default"}, "spec": {"speed": 9}}),
    );
    let mut items = Vec::new();
    for cfg in [&cm, &dep, &crd_cfg, &cr_cfg] {
        let pl = plan(&p, "kubernetes_manifest", &Value::NULL, cfg)
            .await
            .expect("plan on a 1.23 server");
        items.push((Value::NULL, pl.planned));
    }
    // One batch: the Gadget waits (by watch) for its CRD, established in the same batch.
    let states: Vec<Value> = apply(&p, "kubernetes_manifest", items)
        .await
        .into_iter()
        .map(|r| r.expect("apply on a 1.23 server"))
        .collect();
    assert_eq!(object_of(&states[3])["spec"]["speed"], 9);
    let seen = h
        .sb()
        .cluster("old")
        .expect("cluster")
        .field_validation_seen();
    assert!(seen.is_empty(), "no fieldValidation below 1.25: {seen:?}");
    let m = h.take_metrics("old");
    // /version, /api, /apis, then only the group versions this run needed:
    // v1, apps/v1, apiextensions.k8s.io/v1, and legacy.example.com/v1 once established.
    assert_eq!(m.get("get discovery"), Some(&7), "{m:?}");
    // Readiness came from watches, not polling GETs.
    assert!(m.contains_key("watch deployments.apps"), "{m:?}");
    assert_eq!(m.get("get deployments.apps"), None, "{m:?}");
    let seen = h
        .sb()
        .cluster("old")
        .expect("cluster")
        .field_validation_seen();
    assert!(seen.is_empty(), "no fieldValidation below 1.25: {seen:?}");

    // A new run reads them all back (a legacy server is not "nothing served").
    let p2 = provider();
    let found = read(&p2, "kubernetes_manifest", &states).await;
    assert!(
        found.iter().all(|r| matches!(r, ReadResult::Found(_))),
        "{found:?}"
    );
    for (s, cfg) in found.iter().zip([&cm, &dep, &crd_cfg, &cr_cfg]) {
        let ReadResult::Found(s) = s else { continue };
        let pl = plan(&p2, "kubernetes_manifest", s, cfg)
            .await
            .expect("plan");
        assert!(
            posture_engine::value::raw_equal(&pl.planned, s),
            "no-op expected on the 1.23 server"
        );
    }
}

#[tokio::test]
async fn aggregated_discovery_v2beta1_and_v2_take_three_requests_and_strict_validation() {
    let h = Harness::sandbox(&["mid", "new"], &[("mid", "1.27"), ("new", "1.32")]).await;
    let p = provider();
    for c in ["mid", "new"] {
        let cfg = manifest_config(h.cluster(c), configmap("cfg", "default", &[("k", c)]));
        converge(&p, "kubernetes_manifest", &Value::NULL, &cfg).await;
        let dep = manifest_config(h.cluster(c), deployment("default", "nginx:1.27"));
        converge(&p, "kubernetes_manifest", &Value::NULL, &dep).await;
        // Read before take_metrics, which resets these counters too.
        let seen = h.sb().cluster(c).expect("cluster").field_validation_seen();
        let m = h.take_metrics(c);
        assert_eq!(m.get("get discovery"), Some(&3), "{c}: {m:?}");
        // Two dry-runs and two applies, each with kubectl's default.
        assert_eq!(seen.get("Strict"), Some(&4), "{c}: {seen:?}");
    }
}

#[tokio::test]
async fn a_server_older_than_1_23_is_refused_naming_the_cluster_and_its_version() {
    let h = Harness::sandbox(&["ancient", "ok"], &[("ancient", "1.22")]).await;
    let p = provider();
    let e = plan(
        &p,
        "kubernetes_manifest",
        &Value::NULL,
        &manifest_config(h.cluster("ancient"), configmap("cfg", "default", &[])),
    )
    .await
    .expect_err("1.22 is below the supported range");
    assert!(
        e.contains("cluster ancient")
            && e.contains("runs Kubernetes 1.22")
            && e.contains("supports 1.23 and newer")
            && e.contains("https://127.0.0.1:"),
        "{e}"
    );
    // Reading state on it fails too: never "gone", which would plan a create.
    let state = converge(
        &p,
        "kubernetes_manifest",
        &Value::NULL,
        &manifest_config(h.cluster("ok"), configmap("cfg", "default", &[])),
    )
    .await;
    let mut moved = state.as_map().expect("obj").clone();
    moved.insert("cluster".to_string(), h.cluster("ancient"));
    let r = read(&p, "kubernetes_manifest", &[Value::Object(moved)]).await;
    assert!(
        matches!(&r[0], ReadResult::Failed(e) if e.message.contains("runs Kubernetes 1.22")),
        "{r:?}"
    );
    // The other cluster is unaffected.
    assert!(
        h.get("ok", "configmap", Some("default"), "cfg")
            .await
            .is_some()
    );
}

#[tokio::test]
async fn conflicts_with_several_managers_come_from_the_status_causes() {
    let h = Harness::portable(&["a"]).await;
    let ns = h.ns();
    let p = provider();
    let cm = manifest_config(
        h.cluster("a"),
        configmap("shared", &ns, &[("x", "posture"), ("y", "posture")]),
    );
    converge(&p, "kubernetes_manifest", &Value::NULL, &cm).await;
    let dep = manifest_config(h.cluster("a"), deployment(&ns, "nginx:1.27"));
    let dep_state = converge(&p, "kubernetes_manifest", &Value::NULL, &dep).await;
    // Two other managers take one field each; a third takes the image
    // inside the keyed containers list.
    for (manager, body) in [
        ("autoscaler", format!("{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"shared\",\"namespace\":\"{ns}\"}},\"data\":{{\"x\":\"auto\"}}}}")),
        ("operator", format!("{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"shared\",\"namespace\":\"{ns}\"}},\"data\":{{\"y\":\"op\"}}}}")),
        ("imagebot", serde_json::to_string(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": ns},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}})).expect("json")),
    ] {
        let f = h.dir.path().join(format!("{manager}.json"));
        std::fs::write(&f, body).expect("write");
        h.kubectl(
            "a",
            &[
                "apply",
                "--server-side",
                "--force-conflicts",
                &format!("--field-manager={manager}"),
                "-f",
                &f.to_string_lossy(),
            ],
        )
        .await;
    }
    let refused = config_with(
        h.cluster("a"),
        configmap("shared", &ns, &[("x", "posture"), ("y", "posture")]),
        Value::Bool(false),
    );
    let pl = plan(&p, "kubernetes_manifest", &Value::NULL, &refused)
        .await
        .expect("plan");
    let mut notes = pl.notes.clone();
    notes.sort();
    assert_eq!(
        notes,
        vec![
            "conflict: .data.x is owned by field manager \"autoscaler\" with value \"auto\"; apply will fail (force_conflicts = false)".to_string(),
            "conflict: .data.y is owned by field manager \"operator\" with value \"op\"; apply will fail (force_conflicts = false)".to_string(),
        ]
    );
    let pl = plan(&p, "kubernetes_manifest", &dep_state, &dep)
        .await
        .expect("plan");
    assert_eq!(
        pl.notes,
        vec![
            "conflict: .spec.template.spec.containers[name=\"web\"].image is owned by field manager \"imagebot\" with value \"nginx:1.28\"; apply takes it back (force_conflicts = true)".to_string()
        ]
    );
}
