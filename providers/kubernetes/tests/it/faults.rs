//! Faults and economy: one cluster down while two succeed; injected 429 and
//! 500 and dropped connections retried without duplicates; refresh is one LIST per kind and namespace.

use super::support::*;
use posture_engine::provider::ReadResult;
use posture_engine::value::Value;
use posture_sandbox::Faults;

#[tokio::test]
async fn one_cluster_down_fails_only_its_resources() {
    let h = Harness::start(&["a", "b", "c"]).await;
    let p = provider();
    h.sb()
        .set_faults(
            "b",
            Faults {
                down: true,
                ..Default::default()
            },
        )
        .expect("faults");
    let mut results = Vec::new();
    for c in ["a", "b", "c"] {
        let cfg = manifest_config(h.cluster(c), configmap("x", "default", &[("c", c)]));
        results.push(
            match plan(&p, "kubernetes_manifest", &Value::NULL, &cfg).await {
                Ok(pl) => apply(&p, "kubernetes_manifest", vec![(Value::NULL, pl.planned)])
                    .await
                    .remove(0),
                Err(e) => Err(e),
            },
        );
    }
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    let err = results[1].as_ref().expect_err("b is down");
    assert!(
        err.contains("cluster b") && err.contains("unreachable"),
        "{err}"
    );
    assert!(
        h.get("a", "configmap", Some("default"), "x")
            .await
            .is_some()
    );
    assert!(
        h.get("c", "configmap", Some("default"), "x")
            .await
            .is_some()
    );
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_without_duplicates() {
    let h = Harness::start(&["a"]).await;
    let p = provider();
    // Discovery first, without faults, so the faults hit the object calls.
    let _ = plan(
        &p,
        "kubernetes_manifest",
        &Value::NULL,
        &manifest_config(h.cluster("a"), configmap("warm", "default", &[])),
    )
    .await
    .expect("plan");
    h.sb()
        .set_faults(
            "a",
            Faults {
                throttle_rate: 0.3,
                drop_rate: 0.1,
                error_rate: 0.2,
                retry_after_seconds: Some(0),
                ..Default::default()
            },
        )
        .expect("faults");
    let mut items = Vec::new();
    for i in 0..20 {
        let cfg = manifest_config(
            h.cluster("a"),
            configmap(&format!("cm-{i}"), "default", &[("i", "x")]),
        );
        let pl = plan(&p, "kubernetes_manifest", &Value::NULL, &cfg)
            .await
            .expect("plan despite faults");
        items.push((Value::NULL, pl.planned));
    }
    let results = apply(&p, "kubernetes_manifest", items).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    h.sb().set_faults("a", Faults::default()).expect("faults");
    let served = h.take_metrics("a");
    // Each object: one dry-run at plan and one apply were served, no more.
    assert_eq!(served.get("patch configmaps"), Some(&41), "{served:?}");
    let sent = p.request_counts().await["a"];
    let served: u64 = served.values().sum();
    assert!(
        sent > served,
        "faults rejected some requests, which were retried: sent {sent}, served {served}"
    );
    let names = h
        .kubectl(
            "a",
            &[
                "get",
                "configmaps",
                "-l",
                "posture.dev/managed-by=posture",
                "-o",
                "name",
            ],
        )
        .await;
    assert_eq!(names.lines().count(), 20, "{names}");
}

#[tokio::test]
async fn refresh_is_one_list_per_kind_and_namespace() {
    let h = Harness::start(&["a"]).await;
    let p = provider();
    let mut items = Vec::new();
    let mut configs = Vec::new();
    for i in 0..30 {
        let cfg = manifest_config(
            h.cluster("a"),
            configmap(&format!("cm-{i}"), "default", &[("i", "x")]),
        );
        let pl = plan(&p, "kubernetes_manifest", &Value::NULL, &cfg)
            .await
            .expect("plan");
        items.push((Value::NULL, pl.planned));
        configs.push(cfg);
    }
    let states: Vec<Value> = apply(&p, "kubernetes_manifest", items)
        .await
        .into_iter()
        .map(|r| r.expect("apply"))
        .collect();
    // A new run: fresh provider, discovery once.
    let p2 = provider();
    h.take_metrics("a");
    let found = read(&p2, "kubernetes_manifest", &states).await;
    assert!(
        found.iter().all(|r| matches!(r, ReadResult::Found(_))),
        "{found:?}"
    );
    let m = h.take_metrics("a");
    assert_eq!(m.get("list configmaps"), Some(&1), "{m:?}");
    assert_eq!(m.get("get configmaps"), None, "{m:?}");
    // /version, /api and /apis (aggregated), sent together.
    assert_eq!(m.get("get discovery"), Some(&3), "{m:?}");
    // The no-op plan after that refresh asks the server nothing more.
    let refreshed: Vec<Value> = found
        .into_iter()
        .map(|r| match r {
            ReadResult::Found(v) => v,
            other => panic!("{other:?}"),
        })
        .collect();
    for (i, (s, cfg)) in refreshed.iter().zip(&configs).enumerate() {
        let pl = plan_at(
            &p2,
            &format!("kubernetes_manifest.test[{i}]"),
            "kubernetes_manifest",
            s,
            cfg,
        )
        .await
        .expect("plan");
        assert!(posture_engine::value::raw_equal(&pl.planned, s), "no-op");
    }
    assert!(
        h.take_metrics("a").is_empty(),
        "no dry-runs for unchanged, undrifted objects"
    );
    // An object missing from its list (label removed by someone) costs one GET.
    h.kubectl(
        "a",
        &["label", "configmap", "cm-0", "posture.dev/managed-by-"],
    )
    .await;
    h.take_metrics("a");
    let p3 = provider();
    let found = read(&p3, "kubernetes_manifest", &states).await;
    assert!(found.iter().all(|r| matches!(r, ReadResult::Found(_))));
    let m = h.take_metrics("a");
    assert_eq!(
        (m.get("list configmaps"), m.get("get configmaps")),
        (Some(&1), Some(&1)),
        "{m:?}"
    );
}

#[tokio::test]
async fn a_rollout_wait_by_watch_survives_server_errors_and_dropped_connections() {
    use posture_engine::value::Type;
    use std::collections::BTreeMap;
    let h = Harness::start(&["a"]).await;
    let p = provider();
    let dep = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}});
    let mut cfg = manifest_config(h.cluster("a"), dep)
        .as_map()
        .expect("obj")
        .clone();
    cfg.insert(
        "wait".to_string(),
        Value::Object(BTreeMap::from([
            ("rollout".to_string(), Value::Bool(true)),
            ("fields".to_string(), Value::Null(Type::Dynamic)),
            ("condition".to_string(), Value::Null(Type::Dynamic)),
            ("timeout".to_string(), Value::from("60s")),
        ])),
    );
    let cfg = Value::Object(cfg);
    let pl = plan(&p, "kubernetes_manifest", &Value::NULL, &cfg)
        .await
        .expect("plan");
    // The watch's LIST and WATCH requests meet the same faults as the apply.
    h.sb()
        .set_faults(
            "a",
            Faults {
                throttle_rate: 0.2,
                drop_rate: 0.1,
                error_rate: 0.2,
                retry_after_seconds: Some(0),
                ..Default::default()
            },
        )
        .expect("faults");
    let r = apply(&p, "kubernetes_manifest", vec![(Value::NULL, pl.planned)]).await;
    h.sb().set_faults("a", Faults::default()).expect("faults");
    let state = r
        .into_iter()
        .next()
        .expect("one")
        .expect("applied and rolled out");
    assert_eq!(object_of(&state)["spec"]["replicas"], 2);
    // Taken before kubectl's own GET below.
    let m = h.take_metrics("a");
    assert!(m.contains_key("watch deployments.apps"), "{m:?}");
    assert_eq!(m.get("get deployments.apps"), None, "{m:?}");
    let live = h
        .get("a", "deployment", Some("default"), "web")
        .await
        .expect("exists");
    assert_eq!(live["status"]["readyReplicas"], 2);
}
