//! The settings of `backend "kubernetes"`: which cluster (a kubeconfig and
//! context, loaded as kubectl does), which namespace, the names of the
//! objects, and how long the lock outlives its last heartbeat.

use posture_engine::state::PartitionKey;
use std::time::Duration;

/// The workspace used unless `POSTURE_WORKSPACE` names another. Every
/// object name carries the workspace, as in Terraform's backend.
pub const DEFAULT_WORKSPACE: &str = "default";

/// The default `lock_ttl`: how long a lock outlives its last heartbeat.
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(120);

/// The label naming, on every object of a partition, the base name of the
/// state it is a partition of.
pub const PARTITION_OF_LABEL: &str = "posture.dev/partition-of";
/// The label naming, on every object of a partition, its partition key.
pub const PARTITION_LABEL: &str = "posture.dev/partition";

/// The longest base name: it is a label value (at most 63 characters), and
/// chunk names add about 30 characters to it.
const MAX_BASE: usize = 63;

/// Settings of one Kubernetes state.
#[derive(Clone, Debug)]
pub struct K8sSettings {
    /// A kubeconfig file; `None` loads as kubectl does (`KUBECONFIG`, then `~/.kube/config`).
    pub kubeconfig: Option<String>,
    /// The context; `None` uses the kubeconfig's current context.
    pub context: Option<String>,
    /// The namespace holding the Secrets and the Lease (it must exist).
    pub namespace: String,
    /// The objects are named `posture-state-<workspace>-<secret_suffix>`.
    pub secret_suffix: String,
    /// A full base name instead of the one built from `secret_suffix`.
    pub name: Option<String>,
    /// The workspace.
    pub workspace: String,
    /// How long a lock outlives its last heartbeat (whole seconds, at least 1).
    pub lock_ttl: Duration,
    /// The partition of a partitioned state these settings name (see
    /// [`K8sSettings::for_partition`]), `None` for the state itself.
    pub partition: Option<PartitionKey>,
}

impl K8sSettings {
    /// Settings for `namespace` and `secret_suffix` with every default.
    pub fn new(namespace: impl Into<String>, secret_suffix: impl Into<String>) -> K8sSettings {
        K8sSettings {
            kubeconfig: None,
            context: None,
            namespace: namespace.into(),
            secret_suffix: secret_suffix.into(),
            name: None,
            workspace: DEFAULT_WORKSPACE.into(),
            lock_ttl: DEFAULT_LOCK_TTL,
            partition: None,
        }
    }

    /// The settings of partition `key` of this state (docs/backends.md): its
    /// objects are named `<base>-<key>` (the key shortened with a hash to
    /// keep the name a label of at most 63 characters) and labelled with
    /// [`PARTITION_OF_LABEL`] (this state's base name) and [`PARTITION_LABEL`].
    pub fn for_partition(&self, key: &PartitionKey) -> K8sSettings {
        let mut s = self.clone();
        s.partition = Some(key.clone());
        s
    }

    /// The base name of the state itself, without a partition's suffix.
    pub fn parent_base_name(&self) -> String {
        match &self.name {
            Some(n) if self.workspace == DEFAULT_WORKSPACE => n.clone(),
            Some(n) => format!("{n}-{}", self.workspace),
            None => format!("posture-state-{}-{}", self.workspace, self.secret_suffix),
        }
    }

    /// The base name of every object of this workspace's state: the index
    /// Secret itself; chunks, history, intents and the Lease add suffixes.
    pub fn base_name(&self) -> String {
        let base = self.parent_base_name();
        match &self.partition {
            // At least 10 characters of key: a base that leaves fewer is
            // refused by `check`.
            Some(k) => {
                let room = MAX_BASE.saturating_sub(base.len() + 1).max(10);
                format!("{base}-{}", k.shortened(room))
            }
            None => base,
        }
    }

    /// `kubernetes://<context>/<namespace>/<name>` for messages.
    pub fn url(&self, name: &str) -> String {
        let ctx = self.context.as_deref().unwrap_or("current-context");
        format!("kubernetes://{ctx}/{}/{name}", self.namespace)
    }

    /// Checks what the API server would refuse later with a less clear reason.
    ///
    /// # Errors
    /// A sentence naming the setting and what to change.
    pub fn check(&self) -> Result<(), String> {
        if self.namespace.trim().is_empty() {
            return Err(
                "`namespace` is empty; set it to the namespace that holds the state".into(),
            );
        }
        if !is_dns_label(&self.namespace) {
            return Err(format!(
                "`namespace` {:?} is not a valid namespace name (lower-case letters, digits \
                 and '-', at most 63 characters)",
                self.namespace
            ));
        }
        if self.name.is_none() && self.secret_suffix.trim().is_empty() {
            return Err("`secret_suffix` is empty; set it (or `name`) in the backend block".into());
        }
        let base = self.base_name();
        if base.len() > MAX_BASE || !is_dns_label(&base) {
            return Err(format!(
                "the state's object name {base:?} is not a valid name of at most {MAX_BASE} \
                 characters (lower-case letters, digits and '-'); shorten or fix \
                 `secret_suffix`, `name` or the workspace name"
            ));
        }
        if self.lock_ttl < Duration::from_secs(1) {
            return Err("`lock_ttl` must be at least 1s".into());
        }
        Ok(())
    }

    /// The Lease's `leaseDurationSeconds`: the TTL rounded up to a second.
    pub(crate) fn lease_seconds(&self) -> i32 {
        let ms = self.lock_ttl.as_millis();
        i32::try_from(ms.div_ceil(1000)).unwrap_or(i32::MAX)
    }
}

/// An RFC 1123 label: what namespaces and label values accept.
fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_workspace_and_bad_names_are_refused_naming_the_setting() {
        let mut s = K8sSettings::new("posture", "fleet");
        assert_eq!(s.base_name(), "posture-state-default-fleet");
        s.workspace = "prod".into();
        assert_eq!(s.base_name(), "posture-state-prod-fleet");
        assert!(s.check().is_ok());
        s.secret_suffix = "Fleet_1".into();
        assert!(s.check().unwrap_err().contains("secret_suffix"));
        let s = K8sSettings::new("", "fleet");
        assert!(s.check().unwrap_err().contains("namespace"));
        let mut s = K8sSettings::new("ns", "x");
        s.lock_ttl = Duration::from_millis(1500);
        assert_eq!(s.lease_seconds(), 2);
    }

    #[test]
    fn partition_names_are_readable_labels_that_fit() {
        let s = K8sSettings::new("posture", "fleet");
        let key = posture_engine::state::Partition::named("prod-eu").key();
        let p = s.for_partition(&key);
        assert_eq!(p.base_name(), "posture-state-default-fleet-cluster-prod-eu");
        assert_eq!(p.parent_base_name(), "posture-state-default-fleet");
        assert!(p.check().is_ok());
        let long = posture_engine::state::Partition::named(&"x".repeat(40)).key();
        let p = s.for_partition(&long);
        assert!(p.check().is_ok(), "{}", p.base_name());
        assert_eq!(p.base_name().len(), 63, "{}", p.base_name());
        assert!(
            p.base_name()
                .starts_with("posture-state-default-fleet-cluster-xxx")
        );
    }
}
