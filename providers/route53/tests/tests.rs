//! Integration tests of the Route53 provider against moto's server behind
//! the fault proxy, driven through the engine's `Provider` trait the way
//! the engine calls it (read, plan, apply). One binary, modules by topic.

mod it;
