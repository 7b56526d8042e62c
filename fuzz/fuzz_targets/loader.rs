//! Fuzz target `loader`: the input bytes become `main.hcl` of a working
//! directory, which is loaded and validated the way `posture validate` does
//! (`Workspace::load` + `validate` against the built-in schemas). Any panic is
//! a bug: malformed configuration must come back as diagnostics.
//!
//! One temporary directory is reused for every input of a process, so the
//! cost per run is one file write rather than a directory creation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use posture_engine::builtin::Builtins;
use posture_engine::workspace::Workspace;
use std::collections::BTreeMap;
use std::sync::OnceLock;

static DIR: OnceLock<Option<tempfile::TempDir>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    // The loader reads files as UTF-8 and reports the rest as a diagnostic;
    // keep invalid bytes too, they exercise that path.
    let Some(dir) = DIR.get_or_init(|| tempfile::tempdir().ok()) else {
        return;
    };
    if std::fs::write(dir.path().join("main.hcl"), data).is_err() {
        return;
    }
    let ws = Workspace::load(dir.path(), &[], &BTreeMap::new());
    let _ = ws.validate(&Builtins);
});
