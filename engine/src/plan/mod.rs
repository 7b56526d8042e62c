//! Planning: what apply would do to bring the real objects to the
//! configuration, as a [`Plan`] of per-instance changes, and its rendering.

mod build;
mod checks;
mod diff;
pub mod graph;
mod ignore;
mod model;
mod refresh;
pub mod render;
#[cfg(test)]
mod render_snapshots;
mod select;
pub mod statecodec;
mod target;
#[cfg(test)]
mod test_values;

pub use build::{PlanOptions, plan};
pub use checks::{provider_checks, validate};
pub use model::*;
pub(crate) use refresh::count_mismatch;
