//! posture's provider interface: the layer the engine and every provider
//! crate both build on, as `kube-core` sits under `kube-client`.
//!
//! It holds what crosses the boundary between the engine and a provider:
//! [`value`] (Terraform's type system: `Value`, `Type`, `Number`), [`addrs`]
//! (resource and instance addresses), [`schema`] (the attribute and block
//! schemas a provider declares) and [`provider`] (the `Provider` trait, its
//! requests, results, errors and notices). Nothing here knows HCL syntax,
//! configuration, the dependency graph or state: a provider crate depends on
//! this crate alone, never on `posture-engine`, so it does not build (or
//! reach into) the evaluator, sled, hcl-edit or petgraph.
//!
//! Why the name: the folder `provider-core/` sits beside `providers/` and
//! `engine/` and says what it is, the core a provider is written against;
//! `scripts/check-layers.sh` keeps it so in CI. The engine re-exports these
//! modules at their old paths (`posture_engine::value`, ...), so code above
//! the provider layer uses either path.

pub mod addrs;
pub mod provider;
pub mod schema;
pub mod value;
