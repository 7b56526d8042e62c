//! End to end through posture's engine: HCL with a resource spread over the
//! clusters selected by label, planned and applied by the engine's own plan
//! and apply; a second run is all no-ops; kubectl drift plans an update.

use super::support::*;
use posture_engine::apply::{ApplyOptions, ApplyReport};
use posture_engine::plan::{Action, Plan, PlanOptions};
use posture_engine::provider::{Provider, Providers};
use posture_engine::session::Session;
use std::path::Path;
use std::sync::Arc;

/// A run of the engine's session with a fresh provider, as `posture plan`
/// (and, with `run_apply`, `posture apply`) does it.
fn session(dir: &Path) -> Session {
    let providers = Providers::new(vec![Arc::new(provider()) as Arc<dyn Provider>]);
    Session::open_dir(dir, providers).expect("open")
}

async fn plan_apply(dir: &Path, run_apply: bool) -> (Plan, Option<ApplyReport>) {
    let s = session(dir);
    let planned = s.plan(&PlanOptions::default()).await.expect("plan");
    assert!(!planned.warnings.has_errors(), "{:?}", planned.warnings);
    let p = planned.plan;
    if !run_apply {
        return (p, None);
    }
    let opts = ApplyOptions {
        parallelism: 10,
        cancel: Default::default(),
        progress: None,
    };
    let report = s.apply(&p, &opts).await.expect("apply");
    (p, Some(report))
}

#[tokio::test]
async fn spread_over_clusters_selected_by_label() {
    let h = Harness::start(&["a", "b", "c"]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = &h.kubeconfig;
    let hcl = format!(
        r#"
locals {{
  clusters = {{
    a = {{ name = "a", kubeconfig = "{kc}", context = "a", labels = {{ env = "prod" }}, field_manager = "posture" }}
    b = {{ name = "b", kubeconfig = "{kc}", context = "b", labels = {{ env = "dev" }}, field_manager = "posture" }}
    c = {{ name = "c", kubeconfig = "{kc}", context = "c", labels = {{ env = "prod" }}, field_manager = "posture" }}
  }}
}}

resource "kubernetes_manifest" "ns" {{
  for_each = {{ for k, c in local.clusters : k => c if c.labels.env == "prod" }}
  cluster  = each.value
  manifest = {{
    apiVersion = "v1"
    kind       = "Namespace"
    metadata   = {{ name = "payments" }}
  }}
}}

resource "kubernetes_manifest" "settings" {{
  for_each   = {{ for k, c in local.clusters : k => c if c.labels.env == "prod" }}
  cluster    = each.value
  depends_on = [kubernetes_manifest.ns]
  manifest = yamldecode(<<-EOT
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
      namespace: payments
    data:
      cluster: ${{each.key}}
    EOT
  )
}}
"#
    );
    std::fs::write(dir.path().join("main.hcl"), hcl).expect("write config");
    let (p, report) = plan_apply(dir.path(), true).await;
    let report = report.expect("applied");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(
        p.changes
            .iter()
            .filter(|c| c.action == Action::Create)
            .count(),
        4
    );
    for c in ["a", "c"] {
        let cm = h
            .get(c, "configmap", Some("payments"), "settings")
            .await
            .expect("created");
        assert_eq!(cm["data"]["cluster"], c);
    }
    assert!(
        h.get("b", "namespace", None, "payments").await.is_none(),
        "b is not prod"
    );

    // A new run: all no-ops.
    let (p, _) = plan_apply(dir.path(), false).await;
    let changed: Vec<_> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.clone(), c.action))
        .collect();
    assert!(changed.is_empty(), "{changed:?}");

    // kubectl drift on c: plan updates exactly that instance, apply corrects it.
    h.kubectl(
        "c",
        &[
            "-n",
            "payments",
            "patch",
            "configmap",
            "settings",
            "--type=merge",
            "-p",
            r#"{"data":{"cluster":"edited"}}"#,
        ],
    )
    .await;
    let (p, report) = plan_apply(dir.path(), true).await;
    let changed: Vec<_> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| c.address.clone())
        .collect();
    assert_eq!(
        changed,
        vec!["kubernetes_manifest.settings[\"c\"]".to_string()]
    );
    assert!(report.expect("applied").failed.is_empty());
    assert_eq!(
        h.get("c", "configmap", Some("payments"), "settings")
            .await
            .expect("exists")["data"]["cluster"],
        "c"
    );
}

#[tokio::test]
async fn cluster_blocks_with_for_each_and_one_cluster_down() {
    let h = Harness::start(&["a", "b", "c"]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = &h.kubeconfig;
    let hcl = format!(
        r#"
cluster "fleet" {{
  for_each   = {{ a = "prod", b = "dev", c = "prod" }}
  kubeconfig = "{kc}"
  context    = each.key
  labels     = {{ env = each.value }}
}}

resource "kubernetes_manifest" "prod_only" {{
  for_each = {{ for k, c in cluster.fleet : k => c if c.labels.env == "prod" }}
  cluster  = each.value
  manifest = {{
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = {{ name = "prod-only", namespace = "default" }}
    data       = {{ env = each.value.labels.env }}
  }}
}}

resource "kubernetes_manifest" "everywhere" {{
  for_each = cluster.fleet
  cluster  = each.value
  manifest = {{
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = {{ name = "everywhere", namespace = "default" }}
    data       = {{ cluster = each.key }}
  }}
}}
"#
    );
    std::fs::write(dir.path().join("main.hcl"), hcl).expect("write config");
    let (p, report) = plan_apply(dir.path(), true).await;
    assert!(report.expect("applied").failed.is_empty());
    assert_eq!(
        p.changes
            .iter()
            .filter(|c| c.action == Action::Create)
            .count(),
        5
    );
    assert!(
        h.get("b", "configmap", Some("default"), "prod-only")
            .await
            .is_none()
    );
    assert_eq!(
        h.get("c", "configmap", Some("default"), "prod-only")
            .await
            .expect("on c")["data"]["env"],
        "prod"
    );

    // Cluster b goes down and the config changes everywhere: a and c are
    // updated, b's instance fails naming the cluster.
    std::fs::write(
        dir.path().join("main.hcl"),
        std::fs::read_to_string(dir.path().join("main.hcl"))
            .expect("read")
            .replace("cluster = each.key", "cluster = \"v2-${each.key}\""),
    )
    .expect("write config");
    h.sb()
        .set_faults(
            "b",
            posture_sandbox::Faults {
                down: true,
                ..Default::default()
            },
        )
        .expect("faults");
    // Only b's instance fails (its read), naming the cluster; a and c are
    // planned as usual.
    let p = session(dir.path())
        .plan(&PlanOptions::default())
        .await
        .expect("the plan goes on without cluster b")
        .plan;
    let failed: Vec<&str> = p.failed.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(failed.len(), 1, "{:?}", p.failed);
    assert!(failed[0].contains("everywhere[\"b\"]"), "{:?}", p.failed);
    assert!(
        p.failed[0].1.contains("cluster b at https://127.0.0.1:")
            && p.failed[0].1.contains("is unreachable"),
        "{:?}",
        p.failed
    );
    let planned: Vec<&str> = p
        .changes
        .iter()
        .filter(|c| c.action != posture_engine::plan::Action::NoOp)
        .map(|c| c.address.as_str())
        .collect();
    assert_eq!(planned.len(), 2, "{planned:?}");
    assert!(
        planned.iter().all(|a| !a.contains("[\"b\"]")),
        "{planned:?}"
    );
}

#[tokio::test]
async fn crd_and_cr_and_unknown_names_in_one_engine_run() {
    let h = Harness::start(&["a"]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = &h.kubeconfig;
    let hcl = format!(
        r#"
cluster "a" {{
  kubeconfig = "{kc}"
  context    = "a"
}}

resource "kubernetes_manifest" "crd" {{
  cluster  = cluster.a
  manifest = yamldecode(<<-EOT
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: widgets.example.com
    spec:
      group: example.com
      scope: Namespaced
      names: {{plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}}
      versions:
      - name: v1
        served: true
        storage: true
        schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}
    EOT
  )
}}

resource "kubernetes_manifest" "ns" {{
  cluster  = cluster.a
  manifest = {{ apiVersion = "v1", kind = "Namespace", metadata = {{ name = "shop" }} }}
}}

resource "kubernetes_manifest" "widget" {{
  cluster    = cluster.a
  depends_on = [kubernetes_manifest.crd]
  manifest = {{
    apiVersion = "example.com/v1"
    kind       = "Widget"
    # Known only after the namespace is applied.
    metadata   = {{ name = "w1", namespace = kubernetes_manifest.ns.object.metadata.name }}
    spec       = {{ size = 3 }}
  }}
}}
"#
    );
    std::fs::write(dir.path().join("main.hcl"), hcl).expect("write config");
    let (p, report) = plan_apply(dir.path(), true).await;
    let report = report.expect("applied");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(
        p.changes
            .iter()
            .filter(|c| c.action == Action::Create)
            .count(),
        3
    );
    let w = h
        .get("a", "widgets.example.com", Some("shop"), "w1")
        .await
        .expect("widget created");
    assert_eq!(w["spec"]["size"], 3);
    // The next run is all no-ops.
    let (p, _) = plan_apply(dir.path(), false).await;
    let changed: Vec<_> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.clone(), c.action))
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
}

#[tokio::test]
async fn a_bundle_through_the_engine() {
    let h = Harness::start(&["a"]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = &h.kubeconfig;
    std::fs::write(
        dir.path().join("bundle.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1, namespace: ops}\ndata: {k: v}\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata: {name: s1, namespace: ops}\nstringData: {token: do-not-print-me}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: ops}\n",
    )
    .expect("write bundle");
    let hcl = format!(
        r#"
cluster "a" {{
  kubeconfig = "{kc}"
  context    = "a"
}}

resource "kubernetes_manifests" "ops" {{
  cluster = cluster.a
  content = file("bundle.yaml")
}}
"#
    );
    std::fs::write(dir.path().join("main.hcl"), hcl).expect("write config");
    let (_, report) = plan_apply(dir.path(), true).await;
    assert!(report.expect("applied").failed.is_empty());
    assert!(h.get("a", "secret", Some("ops"), "s1").await.is_some());
    let (p, _) = plan_apply(dir.path(), false).await;
    let changed: Vec<_> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.clone(), c.action))
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
    // The first plan's values, as the CLI would render them: no Secret value.
    let (p, _) = {
        std::fs::write(
            dir.path().join("bundle.yaml"),
            std::fs::read_to_string(dir.path().join("bundle.yaml"))
                .expect("read")
                .replace("{k: v}", "{k: w}"),
        )
        .expect("write");
        plan_apply(dir.path(), false).await
    };
    let c = p
        .changes
        .iter()
        .find(|c| c.action == Action::Update)
        .expect("an update");
    for v in [&c.before, &c.after] {
        let shown = posture_engine::value::render(v);
        assert!(
            !shown.contains("do-not-print-me") && !shown.contains("ZG8tbm90LXByaW50LW1l"),
            "{shown}"
        );
    }
}
