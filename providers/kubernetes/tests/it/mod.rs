//! Test modules and the harness they share.

mod bundle;
mod crd;
mod drift;
mod engine;
mod faults;
mod lifecycle;
mod support;
mod versions;
mod wait;
