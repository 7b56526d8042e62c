//! Snapshots (insta) of whole plans as `posture plan` prints them: what a
//! person reads, for each kind of change. `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test`) accepts a deliberate change.

use super::*;
use crate::plan::test_values::{cluster, obj, strs};
use crate::value::{Type, Value};

const HOSTS_A: &str = "server = \"https://registry-1.docker.io\"\n\n[host.\"https://mirror-a.example\"]\n  capabilities = [\"pull\", \"resolve\"]\n";
const HOSTS_B: &str = "server = \"https://registry-1.docker.io\"\n\n[host.\"https://mirror-b.example\"]\n  capabilities = [\"pull\", \"resolve\"]\n";

/// A registry mirror's ConfigMap on a cluster, as `kubernetes_manifest` records it.
fn mirror(cluster_name: &str, hosts: &str, uid: Value) -> Value {
    obj(&[
        ("cluster", cluster(cluster_name)),
        (
            "manifest",
            obj(&[
                ("apiVersion", Value::from("v1")),
                ("kind", Value::from("ConfigMap")),
                (
                    "metadata",
                    obj(&[
                        ("name", Value::from("registry-mirror")),
                        ("namespace", Value::from("kube-system")),
                        (
                            "labels",
                            strs(&[("app.kubernetes.io/managed-by", "posture")]),
                        ),
                    ]),
                ),
                (
                    "data",
                    strs(&[("hosts.toml", hosts), ("mirror", "docker.io")]),
                ),
            ]),
        ),
        ("force_conflicts", Value::from(false)),
        ("uid", uid),
    ])
}

fn change(address: &str, action: Action, before: Value, after: Value) -> ResourceChange {
    ResourceChange {
        address: address.into(),
        data: false,
        type_name: "kubernetes_manifest".into(),
        provider: "kubernetes".into(),
        action,
        reason: None,
        before,
        after,
        replace_paths: vec![],
        dependencies: vec![],
        create_before_destroy: false,
        notes: vec![],
        tainted: false,
        deposed: None,
    }
}

fn plan(changes: Vec<ResourceChange>, drift: Vec<ResourceChange>) -> Plan {
    Plan {
        lineage: "l".into(),
        serial: 1,
        mode: PlanMode::Normal,
        changes,
        drift,
        outputs: vec![],
        variables: vec![],
        failed: vec![],
    }
}

const ADDR: &str = "kubernetes_manifest.mirror[\"prod-eu\"]";

#[test]
fn plan_create() {
    let c = change(
        ADDR,
        Action::Create,
        Value::NULL,
        mirror("prod-eu", HOSTS_A, Value::Unknown(Type::String)),
    );
    insta::assert_snapshot!(render::render_plan(&plan(vec![c], vec![])));
}

#[test]
fn plan_update_of_one_line_in_hosts_toml() {
    let uid = Value::from("6f1c2a");
    let c = change(
        ADDR,
        Action::Update,
        mirror("prod-eu", HOSTS_A, uid.clone()),
        mirror("prod-eu", HOSTS_B, uid),
    );
    insta::assert_snapshot!(render::render_plan(&plan(vec![c], vec![])));
}

#[test]
fn plan_replace_forced_by_a_nested_attribute() {
    let uid = Value::from("6f1c2a");
    let mut renamed = mirror("prod-eu", HOSTS_A, Value::Unknown(Type::String));
    if let Value::Object(m) = &mut renamed
        && let Some(Value::Object(man)) = m.get_mut("manifest")
        && let Some(Value::Object(md)) = man.get_mut("metadata")
    {
        md.insert("name".into(), Value::from("registry-mirror-v2"));
    }
    let mut c = change(
        ADDR,
        Action::DeleteThenCreate,
        mirror("prod-eu", HOSTS_A, uid),
        renamed,
    );
    c.replace_paths = vec!["manifest.metadata.name".into()];
    insta::assert_snapshot!(render::render_plan(&plan(vec![c], vec![])));
}

#[test]
fn plan_delete() {
    let c = change(
        ADDR,
        Action::Delete,
        mirror("prod-eu", HOSTS_A, Value::from("6f1c2a")),
        Value::NULL,
    );
    insta::assert_snapshot!(render::render_plan(&plan(vec![c], vec![])));
}

#[test]
fn plan_drift_then_the_update_that_undoes_it() {
    let uid = Value::from("6f1c2a");
    let recorded = mirror("prod-eu", HOSTS_A, uid.clone());
    let live = mirror("prod-eu", HOSTS_B, uid);
    let drift = change(ADDR, Action::Update, recorded, live.clone());
    let undo = change(
        ADDR,
        Action::Update,
        live,
        mirror("prod-eu", HOSTS_A, Value::from("6f1c2a")),
    );
    insta::assert_snapshot!(render::render_plan(&plan(vec![undo], vec![drift])));
}

#[test]
fn plan_update_of_a_secret_shows_no_value() {
    let secret = |password: &str| {
        obj(&[
            ("cluster", cluster("prod-eu")),
            (
                "manifest",
                obj(&[
                    ("kind", Value::from("Secret")),
                    (
                        "data",
                        obj(&[("password", Value::from(password).mark_sensitive())]),
                    ),
                ]),
            ),
        ])
    };
    let c = change(
        "kubernetes_manifest.mirror_auth",
        Action::Update,
        secret("canary-before"),
        secret("canary-after"),
    );
    let text = render::render_plan(&plan(vec![c], vec![]));
    assert!(!text.contains("canary"), "{text}");
    insta::assert_snapshot!(text);
}
