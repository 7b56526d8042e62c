//! Helpers shared by integration tests.

pub mod large_state;
