//! Integration tests of the Kubernetes provider against the in-process
//! sandbox with several clusters, driven through the engine's `Provider`
//! trait the way the engine calls it, and end to end through the engine.
//! One binary, modules by topic.

mod it;
