//! The expression language: evaluation of HCL expressions and templates
//! with Terraform's semantics, and the function library.

pub mod eval;
pub mod funcs;
pub mod refs;
