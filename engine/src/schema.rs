//! Schemas providers declare (`posture_provider_core::schema`, re-exported
//! here at the engine's old path) and decoding a resource body against one
//! (arguments, nested blocks, `dynamic` blocks), which is the language's
//! ([`crate::lang::decode`]).

pub use crate::lang::decode::decode_body;
pub use posture_provider_core::schema::*;
