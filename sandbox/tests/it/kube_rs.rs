//! The same fidelity through kube-rs: Discovery, Api<DynamicObject>, Patch::Apply with
//! conflicts and force, typed waits, and the watcher.

use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::Discovery;
use kube::runtime::wait::{await_condition, conditions};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Config};
use serde_json::json;

use crate::common::{Env, env};

async fn client(e: &Env, context: &str) -> Client {
    let kc = Kubeconfig::read_from(&e.kubeconfig).expect("kubeconfig readable by kube-rs");
    let opts = KubeConfigOptions {
        context: Some(context.into()),
        ..Default::default()
    };
    let cfg = Config::from_custom_kubeconfig(kc, &opts)
        .await
        .expect("config");
    Client::try_from(cfg).expect("client")
}

const WAIT: Duration = Duration::from_secs(20);

async fn install_crd(c: &Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(c.clone());
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "machinedeployments.cluster.x-k8s.io"},
        "spec": {"group": "cluster.x-k8s.io", "scope": "Namespaced",
            "names": {"plural": "machinedeployments", "singular": "machinedeployment", "kind": "MachineDeployment"},
            "versions": [
                {"name": "v1beta1", "served": true, "storage": true, "subresources": {"status": {}},
                 "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
                {"name": "v1alpha4", "served": true, "storage": false,
                 "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    }))
    .expect("valid CRD");
    crds.patch(
        "machinedeployments.cluster.x-k8s.io",
        &PatchParams::apply("posture-test"),
        &Patch::Apply(&crd),
    )
    .await
    .expect("CRD applied");
    let established = await_condition(
        crds,
        "machinedeployments.cluster.x-k8s.io",
        conditions::is_crd_established(),
    );
    tokio::time::timeout(WAIT, established)
        .await
        .expect("established in time")
        .expect("watch works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_finds_builtins_and_every_served_crd_version() {
    let e = env(&["mgmt"]).await;
    let c = client(&e, "mgmt").await;
    install_crd(&c).await;
    let d = Discovery::new(c.clone()).run().await.expect("discovery");
    for (g, v, k) in [
        ("apps", "v1", "Deployment"),
        ("", "v1", "ConfigMap"),
        ("coordination.k8s.io", "v1", "Lease"),
        ("cluster.x-k8s.io", "v1beta1", "MachineDeployment"),
        ("cluster.x-k8s.io", "v1alpha4", "MachineDeployment"),
    ] {
        let (ar, caps) = d
            .resolve_gvk(&GroupVersionKind::gvk(g, v, k))
            .unwrap_or_else(|| panic!("{g}/{v} {k} discovered"));
        assert_eq!(ar.kind, k);
        assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_apply_conflicts_force_and_ready_condition() {
    let e = env(&["mgmt"]).await;
    let c = client(&e, "mgmt").await;
    install_crd(&c).await;
    let d = Discovery::new(c.clone()).run().await.expect("discovery");
    let (ar, _) = d
        .resolve_gvk(&GroupVersionKind::gvk(
            "cluster.x-k8s.io",
            "v1beta1",
            "MachineDeployment",
        ))
        .expect("served");
    let api: Api<DynamicObject> = Api::namespaced_with(c.clone(), "default", &ar);
    let md: DynamicObject = serde_json::from_value(
        json!({"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "MachineDeployment",
        "metadata": {"name": "workers"}, "spec": {"replicas": 3, "clusterName": "prod"}}),
    )
    .expect("object");
    let created = api
        .patch(
            "workers",
            &PatchParams::apply("posture"),
            &Patch::Apply(&md),
        )
        .await
        .expect("created by apply");
    assert_eq!(created.data["spec"]["replicas"], 3);
    assert_eq!(
        created.metadata.managed_fields.as_ref().map(Vec::len),
        Some(1)
    );

    let mut rival = md.clone();
    rival.data["spec"] = json!({"replicas": 5});
    let err = api
        .patch(
            "workers",
            &PatchParams::apply("autoscaler"),
            &Patch::Apply(&rival),
        )
        .await
        .expect_err("conflict");
    match err {
        kube::Error::Api(s) => {
            assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
            let causes = s.details.expect("details").causes;
            assert_eq!(causes.len(), 1);
            assert_eq!(causes[0].field, ".spec.replicas");
            assert!(
                causes[0].message.contains("\"posture\""),
                "{}",
                causes[0].message
            );
        }
        other => panic!("expected a 409 Status, got {other}"),
    }
    let forced = api
        .patch(
            "workers",
            &PatchParams::apply("autoscaler").force(),
            &Patch::Apply(&rival),
        )
        .await
        .expect("forced");
    assert_eq!(forced.data["spec"]["replicas"], 5);

    // Removing a field from posture's apply removes it (nobody else owns clusterName).
    let mut shrunk = md.clone();
    shrunk.data["spec"] = json!({});
    let after = api
        .patch(
            "workers",
            &PatchParams::apply("posture"),
            &Patch::Apply(&shrunk),
        )
        .await
        .expect("re-apply");
    assert!(
        after.data["spec"].get("clusterName").is_none(),
        "{:?}",
        after.data
    );
    assert_eq!(
        after.data["spec"]["replicas"], 5,
        "autoscaler's field stays"
    );

    // The chosen custom kind gets Ready=True from the simulated controller.
    let ready = await_condition(api.clone(), "workers", |o: Option<&DynamicObject>| {
        o.and_then(|o| o.data["status"]["conditions"].as_array().cloned())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
    });
    tokio::time::timeout(WAIT, ready)
        .await
        .expect("ready in time")
        .expect("watch works");

    // The other served version reads the same object.
    let (old_ar, _) = d
        .resolve_gvk(&GroupVersionKind::gvk(
            "cluster.x-k8s.io",
            "v1alpha4",
            "MachineDeployment",
        ))
        .expect("served");
    let old: Api<DynamicObject> = Api::namespaced_with(c.clone(), "default", &old_ar);
    let same = old.get("workers").await.expect("served in v1alpha4 too");
    assert_eq!(
        same.types.expect("types").api_version,
        "cluster.x-k8s.io/v1alpha4"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_deployment_becomes_available_and_watcher_sees_lifecycle() {
    let e = env(&["mgmt", "prod-eu"]).await;
    let c = client(&e, "prod-eu").await;
    let deps: Api<Deployment> = Api::namespaced(c.clone(), "default");
    let mut events = watcher(deps.clone(), watcher::Config::default())
        .touched_objects()
        .boxed();
    let d: Deployment = serde_json::from_value(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
                 "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "api", "image": "api:1"}]}}}}))
    .expect("deployment");
    deps.patch("api", &PatchParams::apply("posture"), &Patch::Apply(&d))
        .await
        .expect("applied");
    let done = await_condition(deps.clone(), "api", conditions::is_deployment_completed());
    tokio::time::timeout(WAIT, done)
        .await
        .expect("available in time")
        .expect("watch works");
    let first = tokio::time::timeout(WAIT, events.try_next())
        .await
        .expect("event in time")
        .expect("stream ok")
        .expect("an object");
    assert_eq!(first.metadata.name.as_deref(), Some("api"));
    deps.delete("api", &DeleteParams::default())
        .await
        .expect("deleted");
    let uid = first.metadata.uid.clone().unwrap_or_default();
    let gone = await_condition(deps.clone(), "api", conditions::is_deleted(&uid));
    tokio::time::timeout(WAIT, gone)
        .await
        .expect("deleted in time")
        .expect("watch works");
    // The other context never saw it.
    let mgmt: Api<Deployment> = Api::namespaced(client(&e, "mgmt").await, "default");
    assert!(
        mgmt.list(&Default::default())
            .await
            .expect("list")
            .items
            .is_empty()
    );
}
