//! Changes made by others: drift on applied fields is planned and corrected,
//! fields other managers add are ignored, conflicts are shown then taken
//! back, or refused with force_conflicts = false.

use super::support::*;
use posture_engine::value::{Value, raw_equal};
use serde_json::json;

#[tokio::test]
async fn drift_by_kubectl_is_planned_and_corrected() {
    let h = Harness::portable(&["a"]).await;
    let ns = h.ns();
    let p = provider();
    let cfg = manifest_config(h.cluster("a"), configmap("cfg", &ns, &[("mode", "safe")]));
    let state = converge(&p, "kubernetes_manifest", &Value::NULL, &cfg).await;
    h.kubectl(
        "a",
        &[
            "patch",
            "configmap",
            "cfg",
            "--type=merge",
            "-p",
            r#"{"data":{"mode":"yolo"}}"#,
        ],
    )
    .await;

    let refreshed = read_one(&p, "kubernetes_manifest", &state).await;
    assert_eq!(
        object_of(&refreshed)["data"]["mode"],
        "yolo",
        "refresh sees the drift"
    );
    let pl = plan(&p, "kubernetes_manifest", &refreshed, &cfg)
        .await
        .expect("plan");
    assert!(
        !raw_equal(&pl.planned, &refreshed),
        "drift must plan an update"
    );
    assert_eq!(object_of(&pl.planned)["data"]["mode"], "safe");
    assert!(
        pl.notes
            .iter()
            .any(|n| n.contains(".data.mode") && n.contains("kubectl")),
        "{:?}",
        pl.notes
    );
    apply(&p, "kubernetes_manifest", vec![(refreshed, pl.planned)])
        .await
        .remove(0)
        .expect("apply");
    let live = h
        .get("a", "configmap", Some(ns.as_str()), "cfg")
        .await
        .expect("exists");
    assert_eq!(live["data"]["mode"], "safe");
}

#[tokio::test]
async fn labels_and_fields_added_by_others_are_left_alone() {
    let h = Harness::portable(&["a"]).await;
    let ns = h.ns();
    let p = provider();
    let cfg = manifest_config(h.cluster("a"), configmap("cfg", &ns, &[("a", "1")]));
    let state = converge(&p, "kubernetes_manifest", &Value::NULL, &cfg).await;
    h.kubectl("a", &["label", "configmap", "cfg", "team=payments"])
        .await;
    h.kubectl("a", &["annotate", "configmap", "cfg", "note=hi"])
        .await;
    h.kubectl(
        "a",
        &[
            "patch",
            "configmap",
            "cfg",
            "--type=merge",
            "-p",
            r#"{"data":{"extra":"x"}}"#,
        ],
    )
    .await;
    let refreshed = read_one(&p, "kubernetes_manifest", &state).await;
    let pl = plan(&p, "kubernetes_manifest", &refreshed, &cfg)
        .await
        .expect("plan");
    assert!(
        raw_equal(&pl.planned, &refreshed),
        "others' fields must not show as drift"
    );
    assert!(pl.notes.is_empty(), "{:?}", pl.notes);
    let live = h
        .get("a", "configmap", Some(ns.as_str()), "cfg")
        .await
        .expect("exists");
    assert_eq!(live["metadata"]["labels"]["team"], "payments");
}

#[tokio::test]
async fn a_conflict_is_shown_then_taken_back_or_refused() {
    let h = Harness::portable(&["a"]).await;
    let ns = h.ns();
    let p = provider();
    let cfg = manifest_config(
        h.cluster("a"),
        configmap("shared", &ns, &[("owner", "posture")]),
    );
    let state = converge(&p, "kubernetes_manifest", &Value::NULL, &cfg).await;
    // Another field manager takes the field by force.
    let other = h.dir.path().join("other.yaml");
    std::fs::write(&other, format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n  namespace: {ns}\ndata:\n  owner: autoscaler\n")).expect("write");
    h.kubectl(
        "a",
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=autoscaler",
            "-f",
            &other.to_string_lossy(),
        ],
    )
    .await;

    let refreshed = read_one(&p, "kubernetes_manifest", &state).await;
    let pl = plan(&p, "kubernetes_manifest", &refreshed, &cfg)
        .await
        .expect("plan");
    let note = pl
        .notes
        .iter()
        .find(|n| n.contains(".data.owner"))
        .expect("conflict note");
    assert!(
        note.contains("autoscaler") && note.contains("\"autoscaler\""),
        "{note}"
    );

    // force_conflicts = false: plan shows it, apply refuses, naming cluster and server message.
    let strict = config_with(
        h.cluster("a"),
        configmap("shared", &ns, &[("owner", "posture")]),
        Value::Bool(false),
    );
    let spl = plan(&p, "kubernetes_manifest", &refreshed, &strict)
        .await
        .expect("plan");
    assert!(
        spl.notes.iter().any(|n| n.contains("apply will fail")),
        "{:?}",
        spl.notes
    );
    let err = apply(
        &p,
        "kubernetes_manifest",
        vec![(refreshed.clone(), spl.planned)],
    )
    .await
    .remove(0)
    .expect_err("refused");
    assert!(
        err.contains("cluster a") && err.contains("409") && err.contains("conflict"),
        "{err}"
    );
    assert_eq!(
        h.get("a", "configmap", Some(ns.as_str()), "shared")
            .await
            .expect("exists")["data"]["owner"],
        "autoscaler"
    );

    // Default: apply takes the field back.
    apply(&p, "kubernetes_manifest", vec![(refreshed, pl.planned)])
        .await
        .remove(0)
        .expect("apply");
    assert_eq!(
        h.get("a", "configmap", Some(ns.as_str()), "shared")
            .await
            .expect("exists")["data"]["owner"],
        "posture"
    );
    let _ = json!(null);
}
