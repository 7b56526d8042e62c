//! Test modules and the harness they share.

mod economy;
mod faults;
mod records;
mod support;
mod zones;
