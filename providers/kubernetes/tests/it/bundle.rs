//! `kubernetes_manifests`: a bundle with a CRD, a namespace and objects
//! applied in phases, then pruned when dropped; deleted in reverse.

use super::support::*;
use posture_engine::value::Value;

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, listKind: GadgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"#;

fn bundle(with_second: bool) -> String {
    // Deliberately out of order: the CR and ConfigMaps before their CRD and namespace.
    let mut s = String::from(
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1, namespace: tools}\nspec: {speed: 9}\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one, namespace: tools}\ndata: {k: v}\n",
    );
    if with_second {
        s.push_str("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: two, namespace: tools}\ndata: {k: v}\n");
    }
    s.push_str("---\napiVersion: v1\nkind: Namespace\nmetadata: {name: tools}\n---");
    s.push_str(CRD);
    s
}

#[tokio::test]
async fn bundle_applies_in_phases_prunes_and_deletes() {
    let h = Harness::start(&["a"]).await;
    let p = provider();
    let cfg = bundle_config(h.cluster("a"), &bundle(true));
    let pl = plan(&p, "kubernetes_manifests", &Value::NULL, &cfg)
        .await
        .expect("plan");
    let state = apply(&p, "kubernetes_manifests", vec![(Value::NULL, pl.planned)])
        .await
        .remove(0)
        .expect("apply");
    let inv: Vec<String> = state.as_map().expect("obj")["inventory"]
        .as_seq()
        .expect("list")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    assert_eq!(
        inv[0],
        "a/apiextensions.k8s.io/v1/CustomResourceDefinition/gadgets.example.com"
    );
    assert_eq!(inv[1], "a/v1/Namespace/tools");
    assert_eq!(inv.len(), 5, "{inv:?}");
    assert!(
        h.get("a", "gadgets.example.com", Some("tools"), "g1")
            .await
            .is_some()
    );
    assert!(
        h.get("a", "configmap", Some("tools"), "two")
            .await
            .is_some()
    );

    // Refresh, then the same bundle again is a no-op.
    let refreshed = read_one(&p, "kubernetes_manifests", &state).await;
    let again = plan(&p, "kubernetes_manifests", &refreshed, &cfg)
        .await
        .expect("plan");
    assert!(
        posture_engine::value::raw_equal(&again.planned, &refreshed),
        "no-op expected:\n{}\n{}",
        again.planned.to_json(),
        refreshed.to_json()
    );

    // Drop `two`: planned as a prune, deleted at apply.
    let cfg2 = bundle_config(h.cluster("a"), &bundle(false));
    let pl2 = plan(&p, "kubernetes_manifests", &refreshed, &cfg2)
        .await
        .expect("plan");
    assert!(
        pl2.notes
            .iter()
            .any(|n| n.contains("prune") && n.contains("ConfigMap/tools/two")),
        "{:?}",
        pl2.notes
    );
    let state2 = apply(&p, "kubernetes_manifests", vec![(refreshed, pl2.planned)])
        .await
        .remove(0)
        .expect("apply");
    assert!(
        h.get("a", "configmap", Some("tools"), "two")
            .await
            .is_none(),
        "pruned"
    );
    assert!(
        h.get("a", "configmap", Some("tools"), "one")
            .await
            .is_some(),
        "kept"
    );

    // Destroy: everything, in reverse order.
    apply(&p, "kubernetes_manifests", vec![(state2, Value::NULL)])
        .await
        .remove(0)
        .expect("delete");
    assert!(h.get("a", "namespace", None, "tools").await.is_none());
    assert!(
        h.get("a", "crd", None, "gadgets.example.com")
            .await
            .is_none()
    );
}

/// Five ConfigMaps `c1`..`c5` in `default`, the third in `third_ns`, plus `extra`.
fn five(third_ns: &str, extra: &[&str]) -> String {
    let cm = |name: &str, ns: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {ns}}}\ndata: {{k: v}}\n"
        )
    };
    let mut docs: Vec<String> = ["c1", "c2", "c3", "c4", "c5"]
        .iter()
        .map(|n| cm(n, if *n == "c3" { third_ns } else { "default" }))
        .collect();
    docs.extend(extra.iter().map(|n| cm(n, "default")));
    docs.join("---\n")
}

fn inventory_of(state: &Value) -> Vec<String> {
    state.as_map().expect("obj")["inventory"]
        .as_seq()
        .expect("list")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// One bundle change through the provider, its answer as the engine gets it.
async fn apply_raw(
    p: &posture_provider_kubernetes::KubernetesProvider,
    prior: &Value,
    planned: Value,
) -> posture_engine::provider::ApplyResult {
    use posture_engine::provider::{ApplyRequest, Operation, Provider};
    let mut answers = p
        .apply(vec![ApplyRequest {
            address: "kubernetes_manifests.app".to_string(),
            type_name: "kubernetes_manifests".to_string(),
            operation: if prior.is_null() {
                Operation::Create
            } else {
                Operation::Update
            },
            prior: prior.clone(),
            planned,
            idempotency_token: "tok".to_string(),
        }])
        .await;
    answers.remove(0)
}

async fn uid(h: &Harness, name: &str) -> String {
    h.get("a", "configmap", Some("default"), name)
        .await
        .and_then(|o| o["metadata"]["uid"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("configmap {name} is missing"))
}

/// A bundle whose third object fails (its namespace does not exist: the
/// dry-run plans it as "known at apply", the apply is refused) answers with
/// the inventory of the four it applied and the prior object it did not
/// prune, not with "nothing changed". The fixed bundle then applies the
/// missing object, keeps the others (same uid), prunes the dropped one, and
/// destroy deletes all five.
#[tokio::test]
async fn bundle_failing_midway_keeps_what_it_applied() {
    let h = Harness::start(&["a"]).await;
    let p = provider();
    let id = |name: &str| format!("a/v1/ConfigMap/default/{name}");

    // Before: the bundle holds c1 and `old`.
    let before = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1, namespace: default}\ndata: {k: v}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: old, namespace: default}\ndata: {k: v}\n";
    let state0 = converge(
        &p,
        "kubernetes_manifests",
        &Value::NULL,
        &bundle_config(h.cluster("a"), before),
    )
    .await;
    assert_eq!(inventory_of(&state0), vec![id("c1"), id("old")]);

    // Five objects, the third in a namespace that does not exist.
    let broken = bundle_config(h.cluster("a"), &five("missing", &[]));
    let pl = plan(&p, "kubernetes_manifests", &state0, &broken)
        .await
        .expect("plan: a missing namespace is only known at apply");
    let (recorded, error) = match apply_raw(&p, &state0, pl.planned).await {
        posture_engine::provider::ApplyResult::Tainted { value, error } => (value, error),
        other => panic!("a partly applied bundle must answer with what it applied: {other:?}"),
    };
    assert!(
        error
            .message
            .starts_with("object a/v1/ConfigMap/missing/c3 failed: cluster a: "),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("4 of 5 objects applied"),
        "{}",
        error.message
    );
    assert!(
        error
            .message
            .contains("1 object dropped from the bundle is pruned once"),
        "{}",
        error.message
    );
    // The four applied, and `old`: not pruned while the bundle is incomplete.
    let mut inv = inventory_of(&recorded);
    inv.sort();
    assert_eq!(inv, vec![id("c1"), id("c2"), id("c4"), id("c5"), id("old")]);
    let objects = recorded.as_map().expect("obj")["objects"]
        .as_map()
        .expect("objects")
        .clone();
    assert_eq!(objects.len(), 5, "{objects:?}");
    for name in ["c2", "c4", "c5", "old"] {
        uid(&h, name).await;
    }

    // The next run refreshes what was recorded: no drift, `old` included.
    let refreshed = read_one(&p, "kubernetes_manifests", &recorded).await;
    assert!(
        posture_engine::value::raw_equal(&refreshed, &recorded),
        "refresh after the partial failure shows drift:\n{}\n{}",
        refreshed.to_json(),
        recorded.to_json()
    );
    let uids_before: Vec<String> =
        futures_util::future::join_all(["c1", "c2", "c4", "c5"].map(|n| uid(&h, n))).await;

    // Fixed: c3 in default. Only c3 is new in the plan; `old` is pruned.
    let fixed = bundle_config(h.cluster("a"), &five("default", &[]));
    let pl = plan(&p, "kubernetes_manifests", &refreshed, &fixed)
        .await
        .expect("plan");
    assert!(
        pl.notes
            .iter()
            .any(|n| n.contains("prune") && n.contains("ConfigMap/default/old")),
        "{:?}",
        pl.notes
    );
    let planned_objects = pl.planned.as_map().expect("obj")["objects"]
        .as_map()
        .expect("objects")
        .clone();
    let prior_objects = refreshed.as_map().expect("obj")["objects"]
        .as_map()
        .expect("objects")
        .clone();
    let changed: Vec<&String> = planned_objects
        .iter()
        .filter(|(k, v)| {
            prior_objects
                .get(*k)
                .is_none_or(|o| !posture_engine::value::raw_equal(o, v))
        })
        .map(|(k, _)| k)
        .collect();
    assert_eq!(changed, vec![&id("c3")], "only the missing object changes");
    let state2 = apply(&p, "kubernetes_manifests", vec![(refreshed, pl.planned)])
        .await
        .remove(0)
        .expect("apply the fixed bundle");
    assert_eq!(
        inventory_of(&state2),
        ["c1", "c2", "c3", "c4", "c5"].map(id).to_vec()
    );
    uid(&h, "c3").await;
    assert!(
        h.get("a", "configmap", Some("default"), "old")
            .await
            .is_none(),
        "old is pruned after the partial failure"
    );
    let uids_after: Vec<String> =
        futures_util::future::join_all(["c1", "c2", "c4", "c5"].map(|n| uid(&h, n))).await;
    assert_eq!(uids_before, uids_after, "applied in place, not recreated");

    // Destroy deletes all five, those of the failed run too.
    apply(&p, "kubernetes_manifests", vec![(state2, Value::NULL)])
        .await
        .remove(0)
        .expect("delete");
    for name in ["c1", "c2", "c3", "c4", "c5"] {
        assert!(
            h.get("a", "configmap", Some("default"), name)
                .await
                .is_none(),
            "{name} deleted"
        );
    }
}

/// A prune that fails keeps the object it could not delete in the
/// inventory, with the objects applied: the next apply prunes it.
#[tokio::test]
async fn bundle_failing_to_prune_keeps_the_unpruned_in_its_inventory() {
    let h = Harness::start(&["a"]).await;
    let p = provider();
    let state0 = converge(
        &p,
        "kubernetes_manifests",
        &Value::NULL,
        &bundle_config(h.cluster("a"), &five("default", &["old"])),
    )
    .await;
    assert_eq!(inventory_of(&state0).len(), 6);
    // `old` is held by a finalizer nobody removes: its delete times out.
    h.kubectl(
        "a",
        &[
            "patch",
            "configmap",
            "old",
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":["example.com/hold"]}}"#,
        ],
    )
    .await;
    let mut cfg = bundle_config(h.cluster("a"), &five("default", &[]));
    if let Value::Object(m) = &mut cfg {
        m.insert("delete_timeout".to_string(), Value::from("1s"));
    }
    let pl = plan(&p, "kubernetes_manifests", &state0, &cfg)
        .await
        .expect("plan");
    let (recorded, error) = match apply_raw(&p, &state0, pl.planned).await {
        posture_engine::provider::ApplyResult::Tainted { value, error } => (value, error),
        other => panic!("a bundle that failed to prune must answer with its inventory: {other:?}"),
    };
    assert!(
        error
            .message
            .starts_with("pruning object a/v1/ConfigMap/default/old failed: "),
        "{}",
        error.message
    );
    assert_eq!(
        inventory_of(&recorded).last().map(String::as_str),
        Some("a/v1/ConfigMap/default/old")
    );
    assert_eq!(inventory_of(&recorded).len(), 6);

    // Destroy stops at `old` too, and says how far it got.
    let err = apply(&p, "kubernetes_manifests", vec![(recorded, Value::NULL)])
        .await
        .remove(0)
        .expect_err("old cannot be deleted");
    assert!(
        err.starts_with("deleting object a/v1/ConfigMap/default/old failed: ")
            && err.ends_with("; 5 of 6 objects deleted"),
        "{err}"
    );
}
