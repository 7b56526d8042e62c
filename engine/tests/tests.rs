//! Integration tests of the engine through its public API, and the conformance corpus.
//! One binary (not one per file): it links once, and target/ stays small enough for CI's disk.

mod it;
