//! posture's S3 state backend (`backend "s3"`).
//!
//! A state is a handful of objects next to its key `K` (see [`S3Backend`]
//! for the layout): the current state, every committed serial's snapshot
//! and history line, one object per intent, and the lock object `K.lock`.
//!
//! The lock is taken with a conditional create (`If-None-Match: *`), renewed
//! by a heartbeat every third of `lock_ttl` (`If-Match` on its last ETag),
//! and, once it has not been renewed for `lock_ttl`, taken over with
//! `If-Match` on the expired lock's ETag; the takeover names the previous
//! holder in the lock object and in the next commit's history line. Commits
//! replace the current state with `If-Match` on the ETag read at open.
//!
//! Like the engine, this crate prints nothing: it returns
//! [`StateError`](posture_engine::state::StateError)s.

mod backend;
mod location;
mod lock;
mod settings;
mod store;

pub use backend::S3Backend;
pub use location::S3Location;
pub use settings::{DEFAULT_LOCK_TTL, DEFAULT_WORKSPACE, S3Settings, StaticKeys};
