//! The expression language: evaluation of HCL expressions and templates
//! with Terraform's semantics, the function library, and decoding a block
//! body against a provider's schema.

pub mod decode;
pub mod eval;
pub mod funcs;
pub mod refs;
