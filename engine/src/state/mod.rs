//! Persisted state: what posture knows exists, kept so that a run killed at
//! any moment never loses track of an object nor creates it twice.
//!
//! - the model ([`State`], [`InstanceRecord`], [`OutputValue`], [`Intent`]...),
//!   with attribute values as `serde_json::Value`;
//! - [`encode`] / [`decode`]: the versioned JSON encoding (`format_version`
//!   [`FORMAT_VERSION`]; newer formats are refused, corrupt input is reported);
//!   every document decodes at any depth up to [`MAX_JSON_DEPTH`] ([`decode_json`]);
//! - [`StateLocation`]: where a state lives before it is opened ([`LocalLocation`]);
//! - [`Backend`]: an opened, locked state (working state, intents, commits,
//!   history, pull/push), and [`LocalBackend`], its sled implementation;
//! - [`PartitionedLocation`], [`PartitionedBackend`]: a state split per
//!   cluster ([`Partition`]), each part with its own lock;
//! - [`LockInfo`], [`LockOptions`], [`read_lock`], [`force_unlock`]: the lock.
//!
//! **Architecture invariant**: this module does not depend on the HCL
//! language modules, prints nothing and chooses no exit code; it never
//! overwrites or recreates a state it could not read. Addresses are
//! `String`s: a resource instance address like `posture_data.x["a"]`.
//!
//! # The apply protocol in one example
//!
//! ```
//! use posture_engine::state::{
//!     Action, Backend, InstanceRecord, LocalLocation, LockOptions, NewIntent, Outcome,
//!     StateLocation,
//! };
//! use serde_json::json;
//!
//! # fn main() -> Result<(), posture_engine::state::StateError> {
//! # let tmp = tempfile::tempdir().map_err(|e| posture_engine::state::StateError::Io { path: ".".into(), source: e })?;
//! let location = LocalLocation::new(tmp.path().join(".posture"));
//! let backend = location.open(&LockOptions::new("apply"))?;
//!
//! // A previous run that died left these: read the real objects, then complete them.
//! assert!(backend.pending_intents()?.is_empty());
//!
//! let id = backend.record_intent(NewIntent {
//!     address: "kubernetes_namespace.app".into(),
//!     action: Action::Create,
//!     planned: json!({ "metadata": { "name": "app" } }),
//! })?;
//! // ... the provider creates the namespace ...
//! let record = InstanceRecord {
//!     address: "kubernetes_namespace.app".into(),
//!     mode: Default::default(),
//!     resource_type: "kubernetes_namespace".into(),
//!     provider: "provider.kubernetes".into(),
//!     target: Some("context/prod".into()),
//!     schema_version: 0,
//!     attributes: json!({ "metadata": { "name": "app", "uid": "1234" } }),
//!     sensitive_paths: vec![],
//!     dependencies: vec![],
//!     create_before_destroy: false,
//!     tainted: false,
//!     deposed: Default::default(),
//! };
//! backend.complete_intent(&id, Outcome::Upsert(Box::new(record)))?;
//! assert_eq!(backend.commit(None, "apply: 1 added, 0 changed, 0 destroyed")?, 1);
//! backend.close()?;
//! # Ok(())
//! # }
//! ```

mod backend;
mod cipher;
mod clock;
mod encoding;
mod error;
mod json;
mod local;
mod lock;
mod model;
mod offer;
mod partition;
mod seal;
mod store;

pub use backend::{AdoptStep, Backend, StateLocation};
pub use cipher::{Binding, Opened, SharedCipher, StateCipher};
pub use encoding::{decode, encode, encode_compact};
pub use error::{Result, StateError};
pub use json::{MAX_DEPTH as MAX_JSON_DEPTH, from_str as decode_json};
pub use local::{DEFAULT_STATE_DIR, LocalBackend, LocalLocation, SealedLocalLocation};
pub use lock::{LockInfo, LockOptions, WaitCallback, force_unlock, read_lock};
pub use model::{
    Action, DeposedObject, FORMAT_VERSION, HistoryEntry, InstanceRecord, Intent, IntentId, Mode,
    NewIntent, Outcome, OutputValue, State,
};
pub use offer::{
    MAX_SERIAL, Offer, accept_adopt, accept_push, accept_rewrite, adoption_history, decode_push,
    next_serial,
};
pub use partition::{Partition, PartitionKey, PartitionedBackend, PartitionedLocation, Selection};

#[cfg(test)]
mod encoding_tests;
#[cfg(test)]
mod hardening_tests;
#[cfg(test)]
mod local_tests;
#[cfg(test)]
mod lock_tests;
