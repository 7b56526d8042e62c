//! Printing diagnostics, as text (stderr) or JSON (stdout).

use posture_engine::diag::{Diagnostics, Severity, SourceMap, render, to_json};
use serde_json::json;

/// Prints every diagnostic to stderr, errors and warnings alike.
pub fn print_diags(d: &Diagnostics, sources: &SourceMap) {
    for diag in d.iter() {
        eprintln!("{}", render(diag, sources));
    }
}

/// The JSON document `validate --json` prints (Terraform's shape).
pub fn diags_json(d: &Diagnostics, sources: &SourceMap) -> serde_json::Value {
    let errors = d.iter().filter(|x| x.severity == Severity::Error).count();
    let warnings = d.len() - errors;
    json!({
        "format_version": "1.0",
        "valid": errors == 0,
        "error_count": errors,
        "warning_count": warnings,
        "diagnostics": d.iter().map(|x| to_json(x, sources)).collect::<Vec<_>>(),
    })
}
