//! Test modules by topic, and the harness they share.

mod apply_correctness;
mod apply_interrupt;
mod apply_replan;
mod apply_walk;
mod conformance;
mod crash_apply;
mod h1_checks;
mod provider_aliases;
mod provider_marks;
mod session;
mod state_crash;
mod state_fixtures;
mod support;
