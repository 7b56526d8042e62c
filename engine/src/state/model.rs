//! The state model: what posture remembers about the objects it manages.
//!
//! Attribute values are plain `serde_json::Value`s on purpose: this module
//! must not depend on the HCL language modules. Addresses are `String`s for
//! now: a resource instance address like `posture_data.x["a"]` or
//! `kubernetes_namespace.app`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The JSON state format this posture writes. Older formats are read;
/// newer ones are refused.
pub const FORMAT_VERSION: u64 = 1;

/// A whole state: every managed instance and every root output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// The JSON format version ([`FORMAT_VERSION`] when written by this posture).
    pub format_version: u64,
    /// The posture version that wrote the state, for humans.
    #[serde(default)]
    pub posture_version: String,
    /// Identity of this state's history (a UUID): set once when the state is
    /// created, never changed; a push with another lineage is refused.
    pub lineage: String,
    /// Incremented on every commit; a push with a lower serial is refused.
    pub serial: u64,
    /// Instances keyed by their address (resource instance address like
    /// `posture_data.x["a"]`).
    #[serde(default)]
    pub instances: BTreeMap<String, InstanceRecord>,
    /// Root module outputs by name.
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputValue>,
}

impl State {
    /// An empty state with a fresh random lineage and serial 0.
    pub fn new() -> Self {
        State {
            format_version: FORMAT_VERSION,
            posture_version: env!("CARGO_PKG_VERSION").to_string(),
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            instances: BTreeMap::new(),
            outputs: BTreeMap::new(),
        }
    }
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether an instance is a managed object or the result of a data read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Created, updated and deleted by posture.
    #[default]
    Managed,
    /// Only read by posture (a data source).
    Data,
}

/// What posture knows about one resource instance.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceRecord {
    /// Resource instance address like `posture_data.x["a"]`.
    pub address: String,
    /// Managed or data.
    #[serde(default)]
    pub mode: Mode,
    /// The resource type, e.g. `kubernetes_manifest` or `route53_record`.
    pub resource_type: String,
    /// The provider configuration that manages it: `route53` for the
    /// default one, `route53.eu` for `provider "route53" { alias = "eu" }`.
    /// Records written before aliases hold the provider name: the default.
    pub provider: String,
    /// Where the object lives as the provider names it (cluster context, AWS
    /// account and zone...), so a destroy reaches the right place even after
    /// the configuration changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The provider's schema version for `attributes`, for upgrades.
    #[serde(default)]
    pub schema_version: u64,
    /// All attributes, configured and computed, as the provider last reported them.
    pub attributes: Value,
    /// JSON pointers (RFC 6901, e.g. `/data/password`) into `attributes` of
    /// values that must never be shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive_paths: Vec<String>,
    /// Addresses of the instances this one directly depends on (not the
    /// transitive closure), to order its destroy when it left the configuration.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// Whether a replacement creates the new object before destroying this one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create_before_destroy: bool,
    /// The object exists but its creation did not complete; the next plan replaces it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tainted: bool,
    /// Objects replaced with create-before-destroy whose destroy has not
    /// completed yet, by deposed key (8 hex digits, as Terraform's): the
    /// next plan destroys them. While any is left, a record whose current
    /// object is gone stays, with null `attributes`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub deposed: BTreeMap<String, DeposedObject>,
}

/// An old object a create-before-destroy replacement has not destroyed yet.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeposedObject {
    /// Its attributes as last known.
    pub attributes: Value,
    /// JSON pointers into `attributes` of values that must never be shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive_paths: Vec<String>,
}

// Debug goes to logs: never print attribute values.
impl fmt::Debug for DeposedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeposedObject")
            .field("sensitive_paths", &self.sensitive_paths)
            .finish_non_exhaustive()
    }
}

impl InstanceRecord {
    /// `attributes` with every value at a `sensitive_paths` pointer replaced
    /// by the string `(sensitive value)`, safe to show or log.
    pub fn redacted_attributes(&self) -> Value {
        let mut shown = self.attributes.clone();
        for path in &self.sensitive_paths {
            if let Some(v) = shown.pointer_mut(path) {
                *v = Value::String("(sensitive value)".to_string());
            }
        }
        shown
    }
}

// Debug goes to logs: never print sensitive attribute values.
impl fmt::Debug for InstanceRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceRecord")
            .field("address", &self.address)
            .field("mode", &self.mode)
            .field("resource_type", &self.resource_type)
            .field("provider", &self.provider)
            .field("target", &self.target)
            .field("schema_version", &self.schema_version)
            .field("attributes", &self.redacted_attributes())
            .field("sensitive_paths", &self.sensitive_paths)
            .field("dependencies", &self.dependencies)
            .field("create_before_destroy", &self.create_before_destroy)
            .field("tainted", &self.tainted)
            .field("deposed", &self.deposed.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A root output as last computed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputValue {
    /// The value.
    pub value: Value,
    /// Whether the value must be hidden in output and logs.
    #[serde(default)]
    pub sensitive: bool,
    /// The value's type in HCL type syntax, e.g. `string` or `map(string)`.
    #[serde(rename = "type")]
    pub type_name: String,
}

// Debug goes to logs: never print a sensitive output's value.
impl fmt::Debug for OutputValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("OutputValue");
        if self.sensitive {
            s.field("value", &"(sensitive value)");
        } else {
            s.field("value", &self.value);
        }
        s.field("sensitive", &self.sensitive)
            .field("type", &self.type_name)
            .finish()
    }
}

/// Identifies a recorded intent: its seq in hex, then a UUID (older
/// databases hold bare UUIDs). Opaque to everything but the backend.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IntentId(pub String);

impl fmt::Display for IntentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The operation an intent announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Create a new object.
    Create,
    /// Update an existing object in place.
    Update,
    /// Replace: create and destroy, in the order `create_before_destroy` says.
    Replace,
    /// Destroy an object.
    Delete,
    /// Read a data source.
    Read,
}

/// What the engine is about to do, given to [`Backend::record_intent`](super::Backend::record_intent).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct NewIntent {
    /// Resource instance address like `posture_data.x["a"]`.
    pub address: String,
    /// The operation about to start.
    pub action: Action,
    /// The planned attributes (enough for the provider to find the object
    /// again if the run dies: names, namespaces, zone...).
    pub planned: Value,
}

// Planned values may hold secrets.
impl fmt::Debug for NewIntent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewIntent")
            .field("address", &self.address)
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

/// An operation recorded as started and not yet completed. After a crash,
/// pending intents tell the engine which objects to read back from the
/// provider to find out what really happened.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    /// Its id.
    pub id: IntentId,
    /// Resource instance address like `posture_data.x["a"]`.
    pub address: String,
    /// The operation that was starting.
    pub action: Action,
    /// The planned attributes.
    pub planned: Value,
    /// When it was recorded (RFC 3339, UTC).
    pub recorded_at: String,
    /// Position in the backend's sequence of writes: orders intents exactly.
    #[serde(default)]
    pub seq: u64,
    /// The id of the lock held by the run that recorded it.
    pub lock_id: String,
}

// Planned values may hold secrets.
impl fmt::Debug for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Intent")
            .field("id", &self.id)
            .field("address", &self.address)
            .field("action", &self.action)
            .field("recorded_at", &self.recorded_at)
            .field("seq", &self.seq)
            .field("lock_id", &self.lock_id)
            .finish_non_exhaustive()
    }
}

/// How an intent ended, given to [`Backend::complete_intent`](super::Backend::complete_intent).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The object exists as described: insert or replace the record at the
    /// intent's address (the record's address must match).
    Upsert(Box<InstanceRecord>),
    /// The object is gone: remove the record at the intent's address.
    Remove,
    /// Nothing changed (the operation failed before touching anything).
    NoChange,
}

/// One committed serial, as listed by `posture state history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The serial committed.
    pub serial: u64,
    /// When (RFC 3339, UTC).
    pub time: String,
    /// What the run said it did, e.g. `apply: 3 added, 1 changed, 0 destroyed`.
    pub summary: String,
    /// The operation of the lock holder (e.g. `apply`).
    pub operation: String,
    /// `user@host` of the lock holder.
    pub who: String,
    /// Number of instances in the snapshot.
    pub instances: usize,
}
