//! The provider interface: what a provider crate implements so the engine
//! can plan and apply its resource types. This is the API boundary provider
//! crates depend on; the engine never depends on a provider.
//!
//! Calls are batched where the remote API allows it: the engine hands a
//! provider every instance of one resource type on one *target* (a cluster,
//! a hosted zone) in one [`Provider::read`] call, and groups ready changes
//! with the same [`Provider::batch_key`] into one [`Provider::apply`] call.

mod notice;
mod posture_data;
mod registry;

pub use notice::{Notice, Notices};
pub use posture_data::PostureDataProvider;
pub use registry::Providers;

use crate::addrs::Mode;
use crate::schema::Schema;
use crate::value::Value;
use std::collections::BTreeMap;

/// Everything a provider declares about itself.
#[derive(Debug, Clone, Default)]
pub struct ProviderSchema {
    /// The provider's own settings (`provider "NAME" { ... }`).
    pub provider: Schema,
    /// Managed resource types by name.
    pub resources: BTreeMap<String, Schema>,
    /// Data source types by name.
    pub data_sources: BTreeMap<String, Schema>,
}

impl ProviderSchema {
    /// The schema of a type of the given mode.
    pub fn get(&self, mode: Mode, type_name: &str) -> Option<&Schema> {
        match mode {
            Mode::Managed => self.resources.get(type_name),
            Mode::Data => self.data_sources.get(type_name),
        }
    }
}

/// A provider failure, for one instance or for a whole call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    /// What happened, with the remote's own message and code (never a secret).
    pub message: String,
    /// True when retrying the same call later may succeed.
    pub retryable: bool,
}

impl ProviderError {
    /// A permanent error.
    pub fn new(message: impl Into<String>) -> ProviderError {
        ProviderError {
            message: message.into(),
            retryable: false,
        }
    }
}

/// One instance handed to [`Provider::read`].
#[derive(Debug, Clone)]
pub struct ReadRequest {
    /// The instance address, for messages (`route53_record.www["eu"]`).
    pub address: String,
    /// Its resource type.
    pub type_name: String,
    /// The state recorded at the last apply.
    pub prior: Value,
}

/// What [`Provider::read`] found for one instance.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadResult {
    /// The object exists; its current state.
    Found(Value),
    /// The object is gone.
    Gone,
    /// Reading it failed.
    Failed(ProviderError),
}

/// A planning question for one instance: given what exists and what the
/// configuration says, what will apply do?
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// The instance address.
    pub address: String,
    /// Its resource type.
    pub type_name: String,
    /// The current state (null when the object does not exist yet).
    pub prior: Value,
    /// The configuration's value, unknown where not yet known.
    pub config: Value,
}

/// The provider's answer to a [`PlanRequest`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlanResponse {
    /// The state apply should produce; unknown where only apply knows.
    pub planned: Value,
    /// Attribute paths whose change needs the object replaced (beyond the
    /// schema's `force_new` attributes, which the engine handles).
    pub requires_replace: Vec<String>,
    /// Warnings or notes to show with the plan (conflicts, for example).
    pub notes: Vec<String>,
}

/// What to do to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Make a new object.
    Create,
    /// Change the object in place.
    Update,
    /// Remove the object.
    Delete,
}

/// One change handed to [`Provider::apply`].
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    /// The instance address.
    pub address: String,
    /// Its resource type.
    pub type_name: String,
    /// Create, update or delete.
    pub operation: Operation,
    /// The state before (null for create).
    pub prior: Value,
    /// The planned state (null for delete), with unknowns apply fills in.
    pub planned: Value,
    /// An id the provider records before a create call (a CallerReference,
    /// a label value) so that a create retried after a crash is recognised.
    pub idempotency_token: String,
}

/// The outcome of one [`ApplyRequest`].
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyResult {
    /// Done; the object's new state (null after delete).
    Applied(Value),
    /// Failed; nothing changed for this instance.
    Failed(ProviderError),
}

/// The interface a provider crate implements.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// The provider's name: the prefix of its resource types (`route53`).
    fn name(&self) -> &str;

    /// Its schemas.
    fn schema(&self) -> ProviderSchema;

    /// Applies the provider's settings; called once before anything else.
    ///
    /// # Errors
    /// Settings that cannot be used (bad endpoint, no credentials).
    async fn configure(&self, settings: Value) -> Result<(), ProviderError> {
        let _ = settings;
        Ok(())
    }

    /// Hands the provider the run's sink for [`Notice`]s (retries as they
    /// happen), before [`Provider::configure`]. A provider that reports
    /// nothing keeps the default, which drops the sink.
    fn set_notices(&self, notices: Notices) {
        let _ = notices;
    }

    /// Checks one instance's configuration beyond what the schema says.
    /// Returns messages for the user (empty when valid).
    fn validate(&self, type_name: &str, config: &Value) -> Vec<String> {
        let _ = (type_name, config);
        Vec::new()
    }

    /// The key that groups instances for batched reads and applies (the
    /// cluster, the hosted zone); `None` when every instance stands alone.
    fn batch_key(&self, type_name: &str, value: &Value) -> Option<String> {
        let _ = (type_name, value);
        None
    }

    /// Reads the current state of many instances (all of one type and
    /// batch key), ideally with one list call; one result per request, in order.
    async fn read(&self, requests: Vec<ReadRequest>) -> Vec<ReadResult>;

    /// Plans one instance.
    ///
    /// # Errors
    /// The configuration cannot be planned (for example a kind the cluster
    /// does not serve).
    async fn plan(&self, request: PlanRequest) -> Result<PlanResponse, ProviderError>;

    /// Applies many changes (all of one type and batch key) at once; one
    /// result per request, in order. A failed request leaves its object as it was.
    async fn apply(&self, requests: Vec<ApplyRequest>) -> Vec<ApplyResult>;

    /// Reads a data source.
    ///
    /// # Errors
    /// The object cannot be read.
    async fn read_data(&self, type_name: &str, config: Value) -> Result<Value, ProviderError> {
        let _ = config;
        Err(ProviderError::new(format!(
            "data source {type_name} is not supported"
        )))
    }

    /// Reads an existing object by its id, for `posture import`.
    ///
    /// # Errors
    /// No object with that id, or the id is malformed.
    async fn import(&self, type_name: &str, id: &str) -> Result<Value, ProviderError>;

    /// For resource types that stand for several objects (a bundle of
    /// manifests, a posture concern): the child instances a planned value
    /// expands into, each tracked by the engine as its own instance, keyed
    /// by the returned names. Empty for ordinary types.
    fn expand(&self, type_name: &str, planned: &Value) -> Vec<(String, String, Value)> {
        let _ = (type_name, planned);
        Vec::new()
    }
}
