//! The real kubectl 1.32 against the sandbox: each fidelity item of issue K1.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::common::{Env, env};

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: clusterissuers.cert-manager.io
spec:
  group: cert-manager.io
  scope: Cluster
  names: {plural: clusterissuers, singular: clusterissuer, kind: ClusterIssuer}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

const APP: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: web}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: web, labels: {app: web}}
data: {key: one}
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: letsencrypt}
spec: {acme: {server: "https://acme.example"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: "nginx:1.27"}
"#;

/// CRD applied, established, then the multi-document app applied.
async fn installed() -> Env {
    let e = env(&["mgmt"]).await;
    let crd = e.file("crd.yaml", CRD);
    e.kubectl(&["apply", "--server-side", "-f", &crd])
        .await
        .ok();
    e.kubectl(&[
        "wait",
        "--for",
        "condition=established",
        "crd/clusterissuers.cert-manager.io",
        "--timeout=20s",
    ])
    .await
    .ok();
    let app = e.file("app.yaml", APP);
    let out = e
        .kubectl(&["apply", "--server-side", "-f", &app])
        .await
        .ok();
    assert!(
        out.contains("deployment.apps/web serverside-applied"),
        "{out}"
    );
    e
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("kubectl printed invalid JSON ({e}): {s}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_crd_wait_established_then_multi_document_app() {
    let e = installed().await;
    let issuer = json(
        &e.kubectl(&["get", "clusterissuer", "letsencrypt", "-o", "json"])
            .await
            .ok(),
    );
    assert_eq!(issuer["spec"]["acme"]["server"], "https://acme.example");
    assert_eq!(issuer["metadata"]["generation"], 1);
    e.kubectl(&[
        "wait",
        "--for=condition=Available",
        "deployment/web",
        "-n",
        "web",
        "--timeout=20s",
    ])
    .await
    .ok();
    e.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "clusterissuer/letsencrypt",
        "--timeout=20s",
    ])
    .await
    .ok();
    let d = json(
        &e.kubectl(&["get", "deploy", "web", "-n", "web", "-o", "json"])
            .await
            .ok(),
    );
    assert_eq!(d["status"]["readyReplicas"], 2);
    assert_eq!(d["status"]["observedGeneration"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_yaml_labels_and_all_namespaces() {
    let e = installed().await;
    let yaml = e
        .kubectl(&["get", "cm", "cfg", "-n", "web", "-o", "yaml"])
        .await
        .ok();
    let v: Value = serde_yaml::from_str(&yaml).expect("yaml");
    assert_eq!(v["data"]["key"], "one");
    assert!(
        v["metadata"]["uid"].as_str().is_some_and(|u| u.len() == 36),
        "{yaml}"
    );
    assert!(v["metadata"]["resourceVersion"].as_str().is_some());
    let labelled = e
        .kubectl(&["get", "cm,deploy", "-A", "-l", "app=web", "-o", "name"])
        .await
        .ok();
    assert_eq!(
        labelled.lines().collect::<Vec<_>>(),
        vec!["configmap/cfg", "deployment.apps/web"]
    );
    let all = e.kubectl(&["get", "ns", "--no-headers"]).await.ok();
    assert!(all.contains("kube-system") && all.contains("web"), "{all}");
    let nodes = e
        .kubectl(&[
            "get",
            "nodes",
            "-l",
            "node-role.kubernetes.io/worker",
            "-o",
            "name",
        ])
        .await
        .ok();
    assert_eq!(nodes.lines().count(), 2, "{nodes}");
    let table = e.kubectl(&["get", "cm", "--all-namespaces"]).await.ok();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("web") && l.contains("cfg")),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_streams_changes() {
    let e = installed().await;
    let mut child = e
        .command(&[
            "get",
            "cm",
            "-n",
            "web",
            "-w",
            "--output-watch-events",
            "-o",
            "jsonpath={.type} {.object.metadata.name}{\"\\n\"}",
        ])
        .spawn()
        .expect("kubectl -w starts");
    let stdout = child.stdout.take().expect("stdout piped");
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("initial event in time")
        .expect("read");
    assert_eq!(first.as_deref(), Some("ADDED cfg"));
    e.kubectl(&[
        "patch",
        "cm",
        "cfg",
        "-n",
        "web",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"x":"y"}}"#,
    ])
    .await
    .ok();
    let next = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("event in time")
        .expect("read");
    assert_eq!(next.as_deref(), Some("MODIFIED cfg"));
    child.kill().await.expect("kill watcher");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_server_side_exit_codes() {
    let e = installed().await;
    let same = e.file("same.yaml", APP);
    let out = e.kubectl(&["diff", "--server-side", "-f", &same]).await;
    assert_eq!(
        out.code, 0,
        "no difference expected: {}{}",
        out.stdout, out.stderr
    );
    let changed = e.file("changed.yaml", &APP.replace("key: one", "key: two"));
    let out = e.kubectl(&["diff", "--server-side", "-f", &changed]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stdout.contains("-  key: one") && out.stdout.contains("+  key: two"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_apply_fails_and_force_conflicts_wins() {
    let e = installed().await;
    let other = e.file("other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: web}\ndata: {key: two}\n");
    let out = e
        .kubectl(&[
            "apply",
            "--server-side",
            "--field-manager=other",
            "-f",
            &other,
        ])
        .await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("conflict with \"kubectl\"") && out.stderr.contains(".data.key"),
        "{}",
        out.stderr
    );
    e.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
        "-f",
        &other,
    ])
    .await
    .ok();
    let cm = json(
        &e.kubectl(&[
            "get",
            "cm",
            "cfg",
            "-n",
            "web",
            "-o",
            "json",
            "--show-managed-fields",
        ])
        .await
        .ok(),
    );
    assert_eq!(cm["data"]["key"], "two");
    let owners: Vec<(String, Value)> = cm["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .map(|m| {
            (
                m["manager"].as_str().unwrap_or_default().to_string(),
                m["fieldsV1"].clone(),
            )
        })
        .collect();
    let other_fields = &owners
        .iter()
        .find(|(m, _)| m == "other")
        .expect("other owns fields")
        .1;
    assert!(other_fields["f:data"].get("f:key").is_some());
    let kubectl_fields = &owners
        .iter()
        .find(|(m, _)| m == "kubectl")
        .expect("kubectl keeps labels")
        .1;
    assert!(
        kubectl_fields.pointer("/f:data/f:key").is_none(),
        "{kubectl_fields}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_dry_run_server_changes_nothing() {
    let e = installed().await;
    let before = e
        .kubectl(&[
            "get",
            "cm",
            "cfg",
            "-n",
            "web",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ])
        .await
        .ok();
    let changed = e.file("changed.yaml", &APP.replace("key: one", "key: three"));
    let out = e
        .kubectl(&["apply", "--server-side", "--dry-run=server", "-f", &changed])
        .await
        .ok();
    assert!(out.contains("(server dry run)"), "{out}");
    let after = e
        .kubectl(&[
            "get",
            "cm",
            "cfg",
            "-n",
            "web",
            "-o",
            "jsonpath={.metadata.resourceVersion} {.data.key}",
        ])
        .await
        .ok();
    assert_eq!(after, format!("{before} one"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_with_each_patch_type() {
    let e = installed().await;
    e.kubectl(&[
        "patch",
        "cm",
        "cfg",
        "-n",
        "web",
        "-p",
        r#"{"data":{"s":"1"}}"#,
    ])
    .await
    .ok();
    e.kubectl(&[
        "patch",
        "cm",
        "cfg",
        "-n",
        "web",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"m":"1","key":null}}"#,
    ])
    .await
    .ok();
    e.kubectl(&[
        "patch",
        "cm",
        "cfg",
        "-n",
        "web",
        "--type",
        "json",
        "-p",
        r#"[{"op":"add","path":"/data/j","value":"1"}]"#,
    ])
    .await
    .ok();
    let data = json(
        &e.kubectl(&["get", "cm", "cfg", "-n", "web", "-o", "jsonpath={.data}"])
            .await
            .ok(),
    );
    assert_eq!(data, serde_json::json!({"s": "1", "m": "1", "j": "1"}));
    // Strategic merge: containers merge by name.
    e.kubectl(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}"#,
    ])
    .await
    .ok();
    let names = e
        .kubectl(&[
            "get",
            "deploy",
            "web",
            "-n",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[*].name} {.metadata.generation}",
        ])
        .await
        .ok();
    assert_eq!(names, "nginx sidecar 2");
    let bad = e
        .kubectl(&[
            "patch",
            "clusterissuer",
            "letsencrypt",
            "-p",
            r#"{"spec":{"x":1}}"#,
        ])
        .await;
    assert_ne!(
        bad.code, 0,
        "strategic merge is refused for custom kinds, as on a real server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_with_and_without_finalizers() {
    let e = installed().await;
    let held = e.file("held.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, namespace: web, finalizers: [example.com/hold]}\n");
    e.kubectl(&["apply", "--server-side", "-f", &held])
        .await
        .ok();
    e.kubectl(&["delete", "cm", "held", "-n", "web", "--wait=false"])
        .await
        .ok();
    let ts = e
        .kubectl(&[
            "get",
            "cm",
            "held",
            "-n",
            "web",
            "-o",
            "jsonpath={.metadata.deletionTimestamp}",
        ])
        .await
        .ok();
    assert!(
        !ts.is_empty(),
        "finalizer keeps the object, marked for deletion"
    );
    e.kubectl(&[
        "patch",
        "cm",
        "held",
        "-n",
        "web",
        "--type",
        "json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ])
    .await
    .ok();
    let gone = e.kubectl(&["get", "cm", "held", "-n", "web"]).await;
    assert_eq!(gone.code, 1);
    assert!(gone.stderr.contains("NotFound"), "{}", gone.stderr);
    let out = e.kubectl(&["delete", "cm", "cfg", "-n", "web"]).await.ok();
    assert!(out.contains("configmap \"cfg\" deleted"), "{out}");
    assert_eq!(e.kubectl(&["get", "cm", "cfg", "-n", "web"]).await.code, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_deletion_cascades() {
    let e = installed().await;
    e.kubectl(&["delete", "ns", "web", "--timeout=20s"])
        .await
        .ok();
    let left = e
        .kubectl(&["get", "cm,deploy", "-n", "web", "-o", "name"])
        .await
        .ok();
    assert_eq!(left.trim(), "");
    let ns = e.kubectl(&["get", "ns", "web"]).await;
    assert_eq!(ns.code, 1, "{}", ns.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_resources_lists_builtins_and_crds() {
    let e = installed().await;
    let out = e.kubectl(&["api-resources", "--no-headers"]).await.ok();
    for want in [
        "deployments",
        "customresourcedefinitions",
        "leases",
        "clusterroles",
        "clusterissuers",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(want)),
            "{want} missing from:\n{out}"
        );
    }
    let ns = e
        .kubectl(&["api-resources", "--namespaced=false", "-o", "name"])
        .await
        .ok();
    assert!(
        ns.lines().any(|l| l == "clusterissuers.cert-manager.io"),
        "{ns}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contexts_are_isolated_and_tokens_required() {
    let e = env(&["mgmt", "prod-eu", "prod-us"]).await;
    let contexts = e
        .kubectl(&["config", "get-contexts", "-o", "name"])
        .await
        .ok();
    assert_eq!(
        contexts.lines().collect::<Vec<_>>(),
        vec!["mgmt", "prod-eu", "prod-us"]
    );
    e.kubectl(&["--context", "prod-eu", "create", "namespace", "only-eu"])
        .await
        .ok();
    assert_eq!(
        e.kubectl(&["--context", "prod-eu", "get", "ns", "only-eu"])
            .await
            .code,
        0
    );
    assert_eq!(
        e.kubectl(&["--context", "prod-us", "get", "ns", "only-eu"])
            .await
            .code,
        1
    );
    let bad = e
        .kubectl(&["--context", "mgmt", "--token", "wrong", "get", "ns"])
        .await;
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("Unauthorized") || bad.stderr.contains("must be logged in"),
        "{}",
        bad.stderr
    );
    let node = e
        .kubectl(&["--context", "prod-us", "get", "nodes", "-o", "name"])
        .await
        .ok();
    assert!(node.contains("node/prod-us-control-plane"), "{node}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemonsets_and_statefulsets_become_ready() {
    let e = env(&["mgmt"]).await;
    let workloads = e.file(
        "workloads.yaml",
        r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: "agent:1"}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: default}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: "db:1"}]}
"#,
    );
    e.kubectl(&["apply", "--server-side", "-f", &workloads])
        .await
        .ok();
    // One daemon pod per seeded node (3).
    e.kubectl(&[
        "wait",
        "--for=jsonpath={.status.numberReady}=3",
        "ds/agent",
        "-n",
        "kube-system",
        "--timeout=20s",
    ])
    .await
    .ok();
    e.kubectl(&[
        "wait",
        "--for=jsonpath={.status.readyReplicas}=2",
        "sts/db",
        "--timeout=20s",
    ])
    .await
    .ok();
    e.kubectl(&["rollout", "status", "sts/db", "--timeout=20s"])
        .await
        .ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_goes_through_the_scale_subresource() {
    let e = installed().await;
    let out = e
        .kubectl(&["scale", "deploy", "web", "-n", "web", "--replicas=4"])
        .await
        .ok();
    assert!(out.contains("deployment.apps/web scaled"), "{out}");
    e.kubectl(&[
        "wait",
        "--for=jsonpath={.status.readyReplicas}=4",
        "deploy/web",
        "-n",
        "web",
        "--timeout=20s",
    ])
    .await
    .ok();
    let scale = json(
        &e.kubectl(&[
            "get",
            "--raw",
            "/apis/apps/v1/namespaces/web/deployments/web/scale",
        ])
        .await
        .ok(),
    );
    assert_eq!(
        (scale["kind"].as_str(), scale["spec"]["replicas"].as_i64()),
        (Some("Scale"), Some(4))
    );
    assert_eq!(scale["status"]["selector"], "app=web");
    let generation = e
        .kubectl(&[
            "get",
            "deploy",
            "web",
            "-n",
            "web",
            "-o",
            "jsonpath={.metadata.generation}",
        ])
        .await
        .ok();
    assert_eq!(generation, "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_create_sends_protobuf_that_the_sandbox_decodes() {
    let e = env(&["mgmt"]).await;
    e.kubectl(&[
        "create",
        "deployment",
        "nginx",
        "--image=nginx:1.27",
        "--port=80",
        "--replicas=2",
    ])
    .await
    .ok();
    e.kubectl(&["rollout", "status", "deploy/nginx", "--timeout=20s"])
        .await
        .ok();
    let d = json(
        &e.kubectl(&["get", "deploy", "nginx", "-o", "json"])
            .await
            .ok(),
    );
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(d["spec"]["selector"]["matchLabels"]["app"], "nginx");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"],
        serde_json::json!([{"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}], "resources": {}}])
    );
    e.kubectl(&[
        "create",
        "secret",
        "generic",
        "s",
        "--from-literal=password=hunter2",
    ])
    .await
    .ok();
    let s = json(&e.kubectl(&["get", "secret", "s", "-o", "json"]).await.ok());
    assert_eq!(
        (s["data"]["password"].as_str(), s["type"].as_str()),
        (Some("aHVudGVyMg=="), Some("Opaque"))
    );
    let unsupported = e
        .kubectl(&["create", "service", "clusterip", "web", "--tcp=80:80"])
        .await;
    assert_ne!(unsupported.code, 0);
    assert!(
        unsupported.stderr.contains("send JSON or YAML instead"),
        "{}",
        unsupported.stderr
    );
}
