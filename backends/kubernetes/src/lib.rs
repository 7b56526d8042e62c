//! posture's Kubernetes state backend (`backend "kubernetes"`).
//!
//! A state is a handful of Secrets and one Lease in a namespace of a
//! management cluster (see [`K8sBackend`] for the layout). A commit writes
//! the state as a new *generation* of gzip chunks (at most
//! [`CHUNK_SIZE`] each, one Secret per chunk, never changed once written)
//! and then switches the index Secret to it with one replace conditional on
//! the resourceVersion this run read: a reader sees the old generation or
//! the new one, never a mix. Generations that never became current are
//! deleted after the next successful switch of their serial.
//!
//! The lock is a `coordination.k8s.io/v1` Lease: `holderIdentity` is the
//! lock id, `leaseDurationSeconds` the `lock_ttl`, `renewTime` renewed by a
//! heartbeat every third of it; once not renewed for `lock_ttl`, another run
//! takes it over with a conditional replace and names the previous holder
//! in its next commit's history line.
//!
//! Like the engine, this crate prints nothing: it returns
//! [`StateError`](posture_engine::state::StateError)s.

mod backend;
mod generation;
mod location;
mod lock;
mod settings;
mod store;

pub use backend::K8sBackend;
pub use generation::CHUNK_SIZE;
pub use location::K8sLocation;
pub use settings::{DEFAULT_LOCK_TTL, DEFAULT_WORKSPACE, K8sSettings};
