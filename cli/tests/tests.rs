//! Tests of the `posture` binary, run as a user runs it.
//! One binary (not one per file): it links once, and target/ stays small enough for CI's disk.

mod it;
