//! Test modules and the harness they share.

mod crash;
mod economy;
mod engine;
mod faults;
mod records;
mod recovery;
mod replace;
mod support;
mod zones;
