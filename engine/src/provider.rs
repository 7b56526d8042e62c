//! The provider interface (`posture_provider_core::provider`, re-exported
//! here at the engine's old path), and what of it needs the engine: the
//! registry of a run's providers, configured from `provider` blocks, and
//! `posture_data`, the built-in provider.

mod posture_data;
mod registry;

pub use posture_data::PostureDataProvider;
pub use posture_provider_core::provider::*;
pub use registry::{ProviderFactory, Providers};
