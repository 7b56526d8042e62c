//! posture engine.

pub mod graph;
pub mod state;
