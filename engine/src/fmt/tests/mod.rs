//! Tests of `posture fmt`: formatting cases and the `run` behaviour.

mod cases;
mod run;
