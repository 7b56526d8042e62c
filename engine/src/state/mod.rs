//! Persisted state: what posture knows exists, kept so that a run killed at
//! any moment never loses track of an object nor creates it twice.
//!
//! - [`model`](State): the data ([`State`], [`InstanceRecord`], [`OutputValue`],
//!   [`Intent`]...), with attribute values as `serde_json::Value`;
//! - [`encode`] / [`decode`]: the versioned JSON encoding (`format_version`
//!   [`FORMAT_VERSION`]; newer formats are refused, corrupt input is reported);
//! - [`Backend`]: the store trait (working state, intents, commits, history,
//!   pull/push), and [`LocalBackend`], its sled implementation;
//! - [`LockInfo`], [`LockOptions`], [`read_lock`], [`force_unlock`]: the lock.
//!
//! This module must not depend on the HCL language modules, print anything,
//! or choose exit codes; and it must never overwrite or recreate a state it
//! could not read. Addresses are `String`s: a resource instance address like
//! `posture_data.x["a"]`.

mod backend;
mod clock;
mod encoding;
mod error;
mod local;
mod lock;
mod model;
mod seal;
mod store;

pub use backend::Backend;
pub use encoding::{decode, encode, encode_compact};
pub use error::{Result, StateError};
pub use local::{DEFAULT_STATE_DIR, LocalBackend};
pub use lock::{LockInfo, LockOptions, WaitCallback, force_unlock, read_lock};
pub use model::{
    Action, FORMAT_VERSION, HistoryEntry, InstanceRecord, Intent, IntentId, Mode, NewIntent,
    Outcome, OutputValue, State,
};

#[cfg(test)]
mod encoding_tests;
#[cfg(test)]
mod local_tests;
#[cfg(test)]
mod lock_tests;
