//! Fuzz target `expr`: the input, if it is UTF-8 and parses as an HCL
//! expression, is evaluated with an empty scope (every reference is an
//! "unknown variable" diagnostic; literals, operators, `for` expressions,
//! templates and the function library run for real). Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use posture_engine::diag::FileId;
use posture_engine::lang::eval::{Evaluator, MapScope};
use posture_engine::lang::funcs::NoTemplates;
use std::collections::BTreeMap;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(expr) = hcl_edit::parser::parse_expr(src) else {
        return;
    };
    let scope = MapScope(BTreeMap::new());
    // A base directory that does not exist: relative paths given to file()
    // and friends fail fast instead of reading the working directory.
    let mut ev = Evaluator::new(
        FileId(0),
        src,
        &scope,
        Path::new("/nonexistent"),
        &NoTemplates,
    );
    let _ = ev.eval(&expr);
    let _ = ev.take_diags();
});
