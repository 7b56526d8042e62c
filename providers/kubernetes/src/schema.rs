//! The schemas of `kubernetes_manifest` and `kubernetes_manifests`.
//! Declarations only.

use posture_provider_core::provider::ProviderSchema;
use posture_provider_core::schema::{Attribute, NestedBlock, Nesting, Schema};
use posture_provider_core::value::Type;
use std::collections::BTreeMap;

fn attrs(list: Vec<(&str, Attribute)>) -> BTreeMap<String, Attribute> {
    list.into_iter().map(|(k, a)| (k.to_string(), a)).collect()
}

/// The type of the `cluster` value a `cluster` block evaluates to.
pub fn cluster_type() -> Type {
    Type::Object(BTreeMap::from([
        ("name".to_string(), Type::String),
        ("kubeconfig".to_string(), Type::String),
        ("context".to_string(), Type::String),
        ("labels".to_string(), Type::Map(Box::new(Type::String))),
        ("field_manager".to_string(), Type::String),
    ]))
}

fn common(list: &mut Vec<(&'static str, Attribute)>) {
    use Attribute as A;
    list.push((
        "cluster",
        A::required(
            cluster_type(),
            "The target cluster: a `cluster` block (`cluster.prod`, `cluster.fleet[each.key]`).",
        ),
    ));
    list.push((
        "force_conflicts",
        A::optional(
            Type::Bool,
            "Take back fields another field manager owns (default true); false makes such a conflict an error at apply.",
        ),
    ));
    list.push((
        "delete_timeout",
        A::optional(
            Type::String,
            "How long to wait for finalizers when deleting (`5m`, `30s`; default 5m).",
        ),
    ));
    list.push((
        "id",
        A::computed(Type::String, "`cluster/apiVersion/kind/[namespace/]name`."),
    ));
}

fn wait_block() -> NestedBlock {
    use Attribute as A;
    NestedBlock {
        nesting: Nesting::Single,
        block: Schema {
            attributes: attrs(vec![
                (
                    "rollout",
                    A::optional(
                        Type::Bool,
                        "Wait until a Deployment, DaemonSet or StatefulSet has rolled out.",
                    ),
                ),
                (
                    "fields",
                    A::optional(
                        Type::Map(Box::new(Type::String)),
                        "Wait until these fields (dotted paths) have these values: `{ \"status.phase\" = \"Active\" }`.",
                    ),
                ),
                (
                    "timeout",
                    A::optional(Type::String, "How long to wait (default 5m)."),
                ),
            ]),
            blocks: BTreeMap::from([(
                "condition".to_string(),
                NestedBlock {
                    nesting: Nesting::List,
                    block: Schema {
                        attributes: attrs(vec![
                            (
                                "type",
                                A::required(Type::String, "Condition type (`Ready`)."),
                            ),
                            (
                                "status",
                                A::optional(Type::String, "Expected status (default `True`)."),
                            ),
                        ]),
                        blocks: BTreeMap::new(),
                        description: "Wait until status.conditions has this condition.",
                    },
                },
            )]),
            description: "What to wait for after apply, beyond the built-in readiness of CRDs and Namespaces.",
        },
    }
}

/// `resource "kubernetes_manifest"`.
pub fn manifest() -> Schema {
    use Attribute as A;
    let mut list = vec![
        (
            "manifest",
            A::required(
                Type::Dynamic,
                "The object: an HCL object or a yamldecode(...) result, applied by server-side apply.",
            ),
        ),
        (
            "object",
            A::computed(
                Type::Dynamic,
                "The live object's values of the fields posture applies (after defaulting and mutation by the server).",
            ),
        ),
        ("uid", A::computed(Type::String, "metadata.uid.")),
    ];
    common(&mut list);
    Schema {
        attributes: attrs(list),
        blocks: BTreeMap::from([("wait".to_string(), wait_block())]),
        description: "One Kubernetes object, applied by server-side apply and planned by server-side dry-run.",
    }
}

/// `resource "kubernetes_manifests"`.
pub fn manifests() -> Schema {
    use Attribute as A;
    let mut list = vec![
        (
            "content",
            A::required(
                Type::String,
                "A multi-document YAML bundle (`file(\"cert-manager.yaml\")`).",
            ),
        ),
        (
            "inventory",
            A::computed(
                Type::List(Box::new(Type::String)),
                "The ids of the objects applied, in apply order; objects dropped from the bundle are pruned.",
            ),
        ),
        (
            "objects",
            A::computed(
                Type::Dynamic,
                "By id: the live values of the fields applied (Secret data sensitive).",
            ),
        ),
    ];
    common(&mut list);
    Schema {
        attributes: attrs(list),
        blocks: BTreeMap::new(),
        description: "A bundle of Kubernetes objects with an inventory: CRDs and Namespaces first, pruned when dropped.",
    }
}

/// Everything the provider declares.
pub fn provider_schema() -> ProviderSchema {
    ProviderSchema {
        provider: Schema {
            attributes: attrs(vec![(
                "clusters",
                Attribute::optional(
                    Type::Dynamic,
                    "Cluster blocks known to `posture import` (`cluster.fleet`, or a list of them); resources name their own cluster.",
                ),
            )]),
            blocks: BTreeMap::new(),
            description: "Kubernetes: objects applied to clusters named by `cluster` blocks.",
        },
        resources: BTreeMap::from([
            ("kubernetes_manifest".to_string(), manifest()),
            ("kubernetes_manifests".to_string(), manifests()),
        ]),
        data_sources: BTreeMap::new(),
    }
}
