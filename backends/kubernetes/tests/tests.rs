//! The Kubernetes state backend against the sandbox's API server: one test
//! binary, modules by topic in `it/`.

mod it;
