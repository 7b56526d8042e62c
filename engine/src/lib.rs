//! posture engine.

pub mod fmt;
