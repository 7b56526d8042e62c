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

/// The progress bar apply draws, when it draws one: notices print above it
/// instead of through it.
static PROGRESS_BAR: std::sync::Mutex<Option<indicatif::ProgressBar>> = std::sync::Mutex::new(None);

/// Sets (or, with `None`, clears) the progress bar notices print above.
pub fn set_progress_bar(bar: Option<indicatif::ProgressBar>) {
    *PROGRESS_BAR.lock().unwrap_or_else(|p| p.into_inner()) = bar;
}

/// The sink every provider sends its notices to: one line each on stderr,
/// as they happen (`route53: ...: connection refused to http://...; retry 1/3 in 500 ms`).
pub fn notices() -> posture_engine::provider::Notices {
    posture_engine::provider::Notices::new(|n| {
        let line = n.to_string();
        let bar = PROGRESS_BAR
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match bar {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    })
}
