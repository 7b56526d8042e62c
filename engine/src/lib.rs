//! posture's engine: the HCL language, evaluation, dependency graph, plan,
//! apply and state. It knows no provider: providers plug in through the
//! provider trait.

pub mod diag;
pub mod lang;
pub mod value;
