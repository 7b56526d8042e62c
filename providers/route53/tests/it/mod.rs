//! Test modules and the harness they share.

mod economy;
mod faults;
mod records;
mod replace;
mod support;
mod zones;
