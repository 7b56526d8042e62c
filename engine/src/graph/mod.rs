//! A generic dependency graph: build, check for cycles, order, render and walk.
//!
//! This module is posture's equivalent of OpenTofu's `internal/dag`. It knows
//! nothing about resources, providers or state: callers (the plan and apply
//! builders) put whatever payload they like in the nodes and give meaning to
//! the edges. It must stay that way: no resource address parsing, no provider
//! calls, no printing here.
//!
//! # Edge direction
//!
//! Edges are always added with [`Dag::add_dependency`]`(dependent, dependency)`:
//! "`dependent` cannot start before `dependency` has finished". Internally the
//! edge is stored in *execution order* (dependency → dependent), so
//! [`Dag::topological_order`] yields an order in which every node comes after
//! all of its dependencies. For a destroy walk use [`Dag::reversed`], in which
//! every node comes before its former dependencies.
//!
//! Rendered graphs ([`Dag::to_dot`], [`Dag::to_mermaid`]) draw the arrow from
//! the dependent to its dependency, as `terraform graph` does.
//!
//! # Destroy order and create_before_destroy (for the plan builder)
//!
//! The graph only orders what it is given; the builder decides the nodes:
//! - a destroy-only walk is [`Dag::reversed`] of the create graph (built from
//!   the dependencies recorded in state);
//! - a replacement is two nodes, *create new* and *destroy old*. Normally
//!   `create new` depends on `destroy old`; with `create_before_destroy` the
//!   edge is turned around (`destroy old` depends on `create new`), and the
//!   destroy of anything the old object depended on must then wait for it.
//!   [`Dag::validate`] reports any cycle these edges create.
//!
//! # Walking
//!
//! [`walk`] runs an async function for every node on tokio, at most
//! `parallelism` at a time, never starting a node before all its dependencies
//! succeeded. A failure skips exactly the transitive dependents of the failed
//! node; independent work continues. Cancellation starts nothing new and waits
//! for the nodes in flight.
//!
//! ```
//! use posture_engine::graph::{Dag, walk};
//! use tokio_util::sync::CancellationToken;
//!
//! let mut dag = Dag::new();
//! let ns = dag.add_node("kubernetes_namespace.app".to_string());
//! let cm = dag.add_node("kubernetes_config_map.app".to_string());
//! dag.add_dependency(cm, ns);
//! assert!(dag.validate().is_ok());
//!
//! let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! let report = rt
//!     .block_on(walk(&dag, 10, &CancellationToken::new(), |_id, _addr| async {
//!         Ok::<(), String>(())
//!     }))
//!     .unwrap();
//! assert_eq!(report.succeeded, vec![ns, cm]);
//! ```

mod dag;
mod render;
mod walk;

pub use dag::{Cycle, CycleError, Dag, NodeId};
pub use walk::{SkipReason, WalkReport, walk};

#[cfg(test)]
mod dag_tests;
#[cfg(test)]
mod walk_tests;
