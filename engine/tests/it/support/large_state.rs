//! Builds the deterministic many-instance state behind
//! `state-fixtures/v1/large-10000.json`; shared by the fixture test, the
//! generator example and the benchmark.

use std::collections::BTreeMap;

use posture_engine::state::{InstanceRecord, OutputValue, State};
use serde_json::json;

/// The lineage of the generated state (fixed so the file is reproducible).
pub const LARGE_LINEAGE: &str = "5a0c6a52-7c1e-4a3f-9d65-2f7f1b0e9a10";

/// A state with `n` instances: one namespace per 100 instances, config maps
/// depending on their namespace, and one DNS record per 10 config maps.
pub fn large_state(n: usize) -> State {
    let mut instances = BTreeMap::new();
    for i in 0..n {
        let ns = format!("ns-{:03}", i / 100);
        let record = if i % 100 == 0 {
            InstanceRecord {
                address: format!("kubernetes_namespace.ns[\"{ns}\"]"),
                mode: Default::default(),
                resource_type: "kubernetes_namespace".into(),
                provider: "provider.kubernetes[\"prod\"]".into(),
                target: Some("context/prod".into()),
                schema_version: 0,
                attributes: json!({"metadata": {"name": ns, "uid": format!("uid-{i:06}")}}),
                sensitive_paths: vec![],
                dependencies: vec![],
                create_before_destroy: false,
                tainted: false,
                deposed: BTreeMap::new(),
            }
        } else if i % 10 == 5 {
            InstanceRecord {
                address: format!("route53_record.r[\"svc-{i:05}\"]"),
                mode: Default::default(),
                resource_type: "route53_record".into(),
                provider: "provider.route53".into(),
                target: Some("zone/Z0123456789ABC".into()),
                schema_version: 0,
                attributes: json!({
                    "name": format!("svc-{i:05}.example.com."),
                    "type": "CNAME",
                    "ttl": 300,
                    "records": [format!("lb-{i:05}.elb.amazonaws.com.")]
                }),
                sensitive_paths: vec![],
                dependencies: vec![format!("kubernetes_namespace.ns[\"{ns}\"]")],
                create_before_destroy: true,
                tainted: false,
                deposed: BTreeMap::new(),
            }
        } else {
            InstanceRecord {
                address: format!("kubernetes_config_map.cm[\"cm-{i:05}\"]"),
                mode: Default::default(),
                resource_type: "kubernetes_config_map".into(),
                provider: "provider.kubernetes[\"prod\"]".into(),
                target: Some("context/prod".into()),
                schema_version: 1,
                attributes: json!({
                    "metadata": {"name": format!("cm-{i:05}"), "namespace": ns},
                    "data": {"key": format!("value-{i}"), "token": format!("secret-{i}")}
                }),
                sensitive_paths: vec!["/data/token".into()],
                dependencies: vec![format!("kubernetes_namespace.ns[\"{ns}\"]")],
                create_before_destroy: false,
                tainted: false,
                deposed: BTreeMap::new(),
            }
        };
        instances.insert(record.address.clone(), record);
    }
    let mut outputs = BTreeMap::new();
    outputs.insert(
        "instance_count".to_string(),
        OutputValue {
            value: json!(n),
            sensitive: false,
            type_name: "number".into(),
        },
    );
    State {
        format_version: 1,
        posture_version: "0.1.0".into(),
        lineage: LARGE_LINEAGE.into(),
        serial: 1,
        instances,
        outputs,
    }
}
