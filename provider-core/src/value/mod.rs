//! Values and types of posture's language: Terraform's type system (cty) in
//! Rust. This module knows nothing of HCL syntax, configuration or providers.

pub mod codec;
pub mod convert;
mod marks;
mod number;
pub mod render;
mod types;
#[allow(clippy::module_inception)]
mod value;

pub use marks::PathStep;
pub use number::Number;
pub use render::render;
pub use types::Type;
pub use value::{Value, raw_equal, total_cmp};
