//! Conformance: posture evaluates the corpus in tests/conformance/ (values
//! produced by a real Terraform, see its README) and must give the same
//! value and type, or for an error case the same summary of the first
//! error. Cases listed in known-divergences.txt are known to
//! differ; the test fails when any other case differs, and also when a
//! listed case starts to match (so the list stays true).

use posture_engine::builtin::Builtins;
use posture_engine::diag::SourceMap;
use posture_engine::scope::Strictness;
use posture_engine::value::Value;
use posture_engine::workspace::Workspace;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

fn same_json(got: &serde_json::Value, want: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (got, want) {
        (J::Number(a), J::Number(b)) => {
            // Terraform's JSON prints non-integers as float64: compare there.
            match (a.as_i64(), b.as_i64()) {
                (Some(x), Some(y)) => x == y,
                _ => a.as_f64() == b.as_f64() || a.to_string() == b.to_string(),
            }
        }
        (J::Array(a), J::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_json(x, y))
        }
        (J::Object(a), J::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => got == want,
    }
}

#[test]
fn expressions_match_terraform() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).expect("cases.json"))
            .expect("json");
    let known: BTreeSet<String> = std::fs::read_to_string(dir.join("known-divergences.txt"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let ws = Workspace::load(&dir, &[], &BTreeMap::new());
    assert!(
        !ws.diags.has_errors(),
        "fixture.hcl must load: {:?}",
        ws.diags
    );
    let ev = ws.evaluation(&Builtins, Strictness::Full);
    let mut sources: SourceMap = ws.sources.clone();
    let mut failures = Vec::new();
    let mut now_passing = Vec::new();
    let mut passed = 0;
    for c in &cases {
        let name = c["name"].as_str().unwrap_or("?").to_string();
        let expr = c["expr"].as_str().unwrap_or("");
        let file = sources.add(name.clone(), Path::new(&name), Arc::from(expr));
        let got = ev.eval_str(expr, file);
        let problem = match (&got, c.get("error")) {
            // The summary of the first error is what must match (README);
            // the detail is Terraform's wording, kept for reference only.
            (Err(d), Some(e)) => {
                let first = d
                    .iter()
                    .find(|x| x.severity == posture_engine::diag::Severity::Error);
                let want = e.as_str().unwrap_or("");
                match first {
                    Some(x) if x.summary == want => None,
                    Some(x) => Some(format!(
                        "error summary {:?} != {want:?} (posture: {}; Terraform: {})",
                        x.summary,
                        x.detail,
                        c["detail"].as_str().unwrap_or("")
                    )),
                    None => Some(format!("expected error {want:?}, got no error diagnostic")),
                }
            }
            (Ok(v), Some(e)) => Some(format!(
                "expected error {e}, got {}",
                posture_engine::value::render(v)
            )),
            (Err(d), None) => Some(format!(
                "unexpected error: {}",
                d.iter()
                    .map(|x| x.detail.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
            (Ok(v), None) => {
                let (plain, _) = v.clone().unmark_deep();
                let vj = plain.to_json();
                let tj = plain.ty().to_json();
                if !plain.is_wholly_known() {
                    Some("unknown value".to_string())
                } else if !same_json(&vj, &c["value"]) {
                    Some(format!("value {vj} != {}", c["value"]))
                } else if tj != c["type"] && !(matches!(plain, Value::Null(_))) {
                    Some(format!("type {tj} != {}", c["type"]))
                } else {
                    None
                }
            }
        };
        match (problem, known.contains(&name)) {
            (None, true) => now_passing.push(name),
            (None, false) => passed += 1,
            (Some(p), false) => failures.push(format!("{name}: {expr}\n    {p}")),
            (Some(_), true) => {}
        }
    }
    eprintln!(
        "conformance: {passed} of {} cases match Terraform; {} known divergences",
        cases.len(),
        known.len()
    );
    assert!(
        failures.is_empty(),
        "{} cases differ from Terraform:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        now_passing.is_empty(),
        "these cases now match; remove them from known-divergences.txt: {now_passing:?}"
    );
}
