//! posture engine.
