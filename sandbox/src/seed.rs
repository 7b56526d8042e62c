//! What a new cluster starts with: the four standard namespaces and `--nodes` Node
//! objects (a control plane and workers, with the labels selectors look for).
//!
//! Runs only for clusters without saved state; must not overwrite loaded objects.

use serde_json::json;

use crate::objects::{WriteOpts, create};
use crate::store::State;

/// Creates the namespaces every cluster starts with.
pub fn namespaces(st: &mut State) {
    let Some(rt) = st.registry.find("", "v1", "namespaces").cloned() else {
        return;
    };
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let _ = create(
            st,
            &rt,
            "",
            json!({"metadata": {"name": ns}}),
            &WriteOpts::internal("sandbox"),
        );
    }
}

/// Creates `n` nodes: the first is the control plane, the rest workers, with labels.
pub fn nodes(st: &mut State, cluster: &str, n: usize) {
    let Some(rt) = st.registry.find("", "v1", "nodes").cloned() else {
        return;
    };
    for i in 0..n {
        let (name, role) = if i == 0 {
            (format!("{cluster}-control-plane"), "control-plane")
        } else {
            (format!("{cluster}-worker-{i}"), "worker")
        };
        let mut labels = json!({"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "topology.kubernetes.io/zone": format!("{cluster}-zone-{}", i % 3), "sandbox.posture.dev/cluster": cluster});
        labels[format!("node-role.kubernetes.io/{role}")] = json!("");
        let node = json!({"metadata": {"name": name, "labels": labels},
            "spec": if i == 0 { json!({"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}) } else { json!({}) },
            "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                       "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "posture sandbox", "architecture": "amd64", "operatingSystem": "linux"},
                       "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"}, "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"}}});
        let _ = create(st, &rt, "", node, &WriteOpts::internal("sandbox"));
    }
}
