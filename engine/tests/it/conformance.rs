//! Conformance: posture evaluates the corpus in tests/conformance/ (values
//! produced by a real Terraform, see its README) and must give the same
//! value and type, or for an error case the same summary of the first
//! error. Cases listed in known-divergences.txt are known to
//! differ; the test fails when any other case differs, and also when a
//! listed case starts to match (so the list stays true).

use posture_engine::builtin::Builtins;
use posture_engine::diag::SourceMap;
use posture_engine::scope::Strictness;
use posture_engine::value::{Number, Value};
use posture_engine::workspace::Workspace;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

/// Marks a number's JSON text once [`numbers_as_text`] has turned it into
/// a string, so it can be compared exactly.
const NUM: char = '\u{1}';

/// Rewrites every number outside a string into a string holding its text
/// (behind [`NUM`]). Terraform's `output -json` prints 155-digit numbers
/// (`1 / 3`); serde_json would read them as f64, and its fast parser does
/// not even give the nearest one. Done on the text, because serde_json
/// only keeps number text with its `arbitrary_precision` feature, which
/// would change the engine's own JSON.
fn numbers_as_text(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_str, mut escaped) = (false, false);
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
        } else if c == '-' || c.is_ascii_digit() {
            out.push_str("\"\\u0001");
            out.push(c);
            while let Some(&d) = chars.peek() {
                if !(d.is_ascii_digit() || matches!(d, '.' | 'e' | 'E' | '+' | '-')) {
                    break;
                }
                out.push(d);
                chars.next();
            }
            out.push('"');
        } else {
            in_str = c == '"';
            out.push(c);
        }
    }
    out
}

/// A number's text as Terraform printed it, against posture's number:
/// equal as decimals, or for a text of at most 17 significant digits
/// (Terraform's float64 rendering of some results) equal as f64.
fn same_number(got: &Number, want: &str) -> bool {
    let Ok(w) = want.parse::<Number>() else {
        return false;
    };
    let significant = want
        .split(['e', 'E'])
        .next()
        .unwrap_or("")
        .trim_start_matches(['-', '0', '.'])
        .chars()
        .filter(char::is_ascii_digit)
        .count();
    *got == w || (significant <= 17 && got.to_f64() == w.to_f64())
}

/// posture's value against Terraform's JSON, numbers compared exactly.
fn same_json(got: &Value, want: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (got, want) {
        (Value::Number(n), J::String(s)) => {
            s.strip_prefix(NUM).is_some_and(|text| same_number(n, text))
        }
        (Value::Sensitive(v), _) => same_json(v, want),
        (Value::Null(_) | Value::Unknown(_), J::Null) => true,
        (Value::Bool(a), J::Bool(b)) => a == b,
        (Value::String(a), J::String(b)) => !b.starts_with(NUM) && a == b,
        (Value::List(_, a) | Value::Set(_, a) | Value::Tuple(a), J::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_json(x, y))
        }
        (Value::Map(_, a) | Value::Object(a), J::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => false,
    }
}

#[test]
fn expressions_match_terraform() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let text = std::fs::read_to_string(dir.join("cases.json")).expect("cases.json");
    let cases: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
    // The same cases with every number kept as its text, for comparing values.
    let exact: Vec<serde_json::Value> =
        serde_json::from_str(&numbers_as_text(&text)).expect("json with numbers as text");
    assert_eq!(exact.len(), cases.len());
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
    for (c, x) in cases.iter().zip(&exact) {
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
                let tj = plain.ty().to_json();
                if !plain.is_wholly_known() {
                    Some("unknown value".to_string())
                } else if !same_json(&plain, &x["value"]) {
                    Some(format!(
                        "value {} != {}",
                        posture_engine::value::render(&plain),
                        c["value"]
                    ))
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
