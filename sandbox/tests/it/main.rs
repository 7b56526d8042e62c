//! Integration tests of the sandbox, compiled as one binary: the HTTP API in-process
//! (`api`), the real kubectl against it (`kubectl`), and malformed input (`robust`).

mod api;
mod cli;
mod common;
mod kube_rs;
mod kubectl;
mod ops;
mod robust;
mod versions;
