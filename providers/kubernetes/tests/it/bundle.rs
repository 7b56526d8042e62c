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
