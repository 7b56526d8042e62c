//! posture's engine: the HCL language, evaluation, dependency graph, plan,
//! apply and state. It knows no provider: providers plug in through the
//! provider trait.
//!
//! The layer below it, `posture-provider-core`, holds what providers share
//! with the engine; its modules are re-exported here at their old paths.

pub use posture_provider_core::{addrs, value};

pub mod apply;
pub mod builtin;
pub mod config;
pub mod diag;
pub mod fmt;
pub mod graph;
pub mod lang;
pub mod plan;
pub mod provider;
pub mod schema;
pub mod scope;
pub mod session;
pub mod state;
pub mod workspace;
