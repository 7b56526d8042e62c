//! The versioned JSON encoding of a [`State`] (`posture state pull`/`push`,
//! snapshots, fixtures).
//!
//! Decoding reads `format_version` first, so a state from a newer posture is
//! refused with an upgrade message instead of a confusing field error.
//! Decoding never writes anything.

use serde::Deserialize;

use super::error::{Result, StateError};
use super::json;
use super::model::{FORMAT_VERSION, State};

/// Encodes a state as pretty JSON (stable key order, trailing newline).
pub fn encode(state: &State) -> String {
    // A State holds only strings, numbers, maps and JSON values: it always encodes.
    let mut text = serde_json::to_string_pretty(state).unwrap_or_default();
    text.push('\n');
    text
}

/// Encodes a state as compact JSON (for snapshots, where size matters).
pub fn encode_compact(state: &State) -> String {
    serde_json::to_string(state).unwrap_or_default()
}

#[derive(Deserialize)]
struct VersionProbe {
    format_version: Option<serde_json::Value>,
}

/// Decodes a state, checking its format version and its internal consistency.
/// `what` names the source in errors (a path, or `the pushed state`).
///
/// # Errors
/// - [`StateError::Corrupt`] for invalid, truncated or inconsistent JSON;
/// - [`StateError::FutureFormat`] for a format newer than [`FORMAT_VERSION`].
pub fn decode(text: &str, what: &str) -> Result<State> {
    let corrupt = |detail: String| StateError::Corrupt {
        what: what.to_string(),
        detail,
    };
    let probe: VersionProbe = json::from_str(text).map_err(corrupt)?;
    let version = match probe.format_version {
        None => {
            return Err(corrupt(
                "no format_version field: not a posture state".into(),
            ));
        }
        Some(v) => v
            .as_u64()
            .ok_or_else(|| corrupt("format_version is not a positive integer".into()))?,
    };
    if version > FORMAT_VERSION {
        return Err(StateError::FutureFormat {
            what: what.to_string(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if version == 0 {
        return Err(corrupt("format_version 0 does not exist".into()));
    }
    // Only format 1 exists so far; older formats will be upgraded here.
    let state: State = json::from_str(text).map_err(corrupt)?;
    check_consistency(&state).map_err(corrupt)?;
    Ok(state)
}

fn check_consistency(state: &State) -> std::result::Result<(), String> {
    if uuid::Uuid::parse_str(&state.lineage).is_err() {
        return Err("lineage is not a UUID".into());
    }
    for (key, record) in &state.instances {
        if *key != record.address {
            return Err(format!(
                "instance key {key} does not match its address {}",
                record.address
            ));
        }
        for path in &record.sensitive_paths {
            if !(path.is_empty() || path.starts_with('/')) {
                return Err(format!(
                    "instance {key}: sensitive path {path:?} is not a JSON pointer"
                ));
            }
        }
    }
    Ok(())
}
