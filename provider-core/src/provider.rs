//! The provider interface: what a provider crate implements so the engine
//! can plan and apply its resource types. This is the API boundary provider
//! crates depend on; the engine never depends on a provider.
//!
//! Calls are batched where the remote API allows it: the engine hands a
//! provider every instance of one resource type on one *target* (a cluster,
//! a hosted zone) in one [`Provider::read`] call, and groups ready changes
//! with the same [`Provider::batch_key`] into one [`Provider::apply`] call.
//!
//! The registry of a run's providers (`Providers`, which reads `provider`
//! blocks) and the built-in `posture_data` provider are the engine's
//! (`posture_engine::provider`).

mod notice;

pub use notice::{Notice, Notices};

use crate::addrs::Mode;
use crate::schema::Schema;
use crate::value::Value;
use std::collections::BTreeMap;
use tokio_util::sync::CancellationToken;

/// How a run is being stopped, as [`Provider::apply_interruptible`] sees it.
/// *Interrupted* (a first Ctrl-C or SIGTERM): start no further request of
/// the batch, finish those started. *Abandoned* (a second signal): stop
/// waiting for those too and answer them [`ApplyResult::Abandoned`].
/// Abandoned implies interrupted. A default value never fires.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    stop: CancellationToken,
    abandon: CancellationToken,
}

impl Interrupt {
    /// One that never fires unless [`Interrupt::interrupt`] is called.
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// From the run's two tokens: `stop` for the first signal, `abandon` for the second.
    pub fn from_tokens(stop: CancellationToken, abandon: CancellationToken) -> Interrupt {
        Interrupt { stop, abandon }
    }

    /// Fires the first level (tests, embedding programs).
    pub fn interrupt(&self) {
        self.stop.cancel();
    }

    /// Fires the second level (and so the first).
    pub fn abandon(&self) {
        self.stop.cancel();
        self.abandon.cancel();
    }

    /// True once nothing new may start.
    pub fn is_interrupted(&self) -> bool {
        self.stop.is_cancelled() || self.abandon.is_cancelled()
    }

    /// True once requests in flight are no longer awaited.
    pub fn is_abandoned(&self) -> bool {
        self.abandon.is_cancelled()
    }

    /// Resolves once nothing new may start.
    pub async fn interrupted(&self) {
        tokio::select! {
            () = self.stop.cancelled() => {}
            () = self.abandon.cancelled() => {}
        }
    }

    /// Resolves once requests in flight are no longer awaited.
    pub async fn abandoned(&self) {
        self.abandon.cancelled().await;
    }
}

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

/// The key under which crash recovery hands [`Provider::read`] the
/// interrupted operation's idempotency token, in [`ReadRequest::prior`]
/// (the operation's planned value): its presence says the value is planned,
/// not known to be applied.
pub const RECOVERY_TOKEN: &str = "__idempotency_token";

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
    /// The change was made, but what should follow it did not complete (a
    /// readiness wait timed out): the object exists as `value`, and `error`
    /// says what is missing. The engine records the object and fails the
    /// instance by address; a created object is recorded *tainted*, so the
    /// next plan replaces it, as Terraform does.
    Tainted {
        /// The object as it now exists.
        value: Value,
        /// Why it is not complete.
        error: ProviderError,
    },
    /// Never sent: the run was interrupted before this request started, so
    /// nothing changed for this instance.
    NotStarted,
    /// In flight when the run was abandoned, and no longer awaited: it may
    /// or may not have taken effect. Its intent stays pending, and the next
    /// run settles it by reading the object, as after a crash.
    Abandoned,
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

    /// Whether a create that answered [`ApplyResult::Tainted`] leaves an
    /// object that must be replaced (recorded tainted, as in Terraform).
    /// A type that records its partial progress precisely (a bundle whose
    /// state lists exactly the objects it applied) answers false: its
    /// record is kept as it stands and the next plan updates it in place,
    /// rather than deleting and recreating what already went.
    fn taints_incomplete_create(&self, type_name: &str) -> bool {
        let _ = type_name;
        true
    }

    /// The key that groups instances for batched reads and applies (the
    /// cluster, the hosted zone); `None` when every instance stands alone.
    fn batch_key(&self, type_name: &str, value: &Value) -> Option<String> {
        let _ = (type_name, value);
        None
    }

    /// Reads the current state of many instances (all of one type and
    /// batch key), ideally with one list call; one result per request, in order.
    /// An answer of another length fails every instance of the call (none
    /// can be matched to its result): they are left out of the plan.
    async fn read(&self, requests: Vec<ReadRequest>) -> Vec<ReadResult>;

    /// Plans one instance.
    ///
    /// # Errors
    /// The configuration cannot be planned (for example a kind the cluster
    /// does not serve).
    async fn plan(&self, request: PlanRequest) -> Result<PlanResponse, ProviderError>;

    /// Applies many changes (all of one type and batch key) at once; one
    /// result per request, in order. A failed request leaves its object as it was.
    /// An answer of another length fails every request of the batch, and
    /// their intents stay pending for the next run to settle by reading.
    async fn apply(&self, requests: Vec<ApplyRequest>) -> Vec<ApplyResult>;

    /// As [`Provider::apply`], but once `interrupt` is interrupted the
    /// provider starts no further request of the batch: requests already
    /// started finish and are answered as usual, the others are answered
    /// [`ApplyResult::NotStarted`]. Once it is abandoned, requests still in
    /// flight are dropped and answered [`ApplyResult::Abandoned`]. The
    /// engine always calls this one.
    ///
    /// The default suits a provider whose batch is one quick call: nothing
    /// starts once interrupted, otherwise the whole batch goes (and when
    /// abandoned, the engine stops waiting for it after a short grace). A
    /// provider whose batch is many remote calls overrides it.
    async fn apply_interruptible(
        &self,
        requests: Vec<ApplyRequest>,
        interrupt: Interrupt,
    ) -> Vec<ApplyResult> {
        if interrupt.is_interrupted() {
            return vec![ApplyResult::NotStarted; requests.len()];
        }
        self.apply(requests).await
    }

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
