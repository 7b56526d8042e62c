//! Object constructors that repeat a key: `{a = 1, a = 2}`.
//!
//! HCL evaluates every item of an object constructor and lets the last one
//! of a name win; hcl-edit (0.10) refuses the repeat while parsing
//! ("expected unique object key"), and its tree cannot hold two items of
//! one key. So, as for huge numbers (see `source`), the parser is handed a
//! copy of the text of the same length in which each repeated key is
//! written as another name of the same byte length that the object does not
//! use. Every span and error position still holds, and the readers of keys
//! (the evaluator, type constraints, `providers`) take a key's name from the
//! file's text at the key's span, never from the tree, so they see the name
//! the file has; the evaluator then lets the last item win.
//!
//! Only an identifier or a plain quoted name (no escape, no template) can be
//! disguised; a repeated key expression (`(k)`, `"${k}"`) stays an error.

use hcl_edit::parser::Error;
use std::collections::HashMap;

/// At most this many reparses per text: every repeated key costs one (more
/// when a candidate name is taken), so only a pathological file reaches it.
const MAX_TRIES: usize = 4096;

/// Parses `copy` with `parse`, disguising the repeated object keys the
/// parser refuses, one at a time. `err` is the parser's error for `copy`.
///
/// # Errors
/// The parser's first error that is not a repeated key it can disguise.
pub(crate) fn parse_with_repeats<T>(
    mut copy: String,
    mut err: Error,
    parse: impl Fn(&str) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut tried: HashMap<usize, usize> = HashMap::new();
    for _ in 0..MAX_TRIES {
        if !is_repeated_key(&err) || !disguise(&mut copy, err.location().offset(), &mut tried) {
            break;
        }
        match parse(&copy) {
            Ok(t) => return Ok(t),
            Err(e) => err = e,
        }
    }
    Err(err)
}

/// hcl-edit's error for an object key that is already in the object.
pub(crate) fn is_repeated_key(e: &Error) -> bool {
    e.message().contains("unique object key")
}

/// Rewrites the key at `at` in `copy` to the next candidate name of the same
/// byte length. False when the key is not a name or no candidate is left.
fn disguise(copy: &mut String, at: usize, tried: &mut HashMap<usize, usize>) -> bool {
    let Some(rest) = copy.get(at..) else {
        return false;
    };
    let (name_at, len) = match key_name(rest) {
        Some(r) => r,
        None => return false,
    };
    let start = at + name_at;
    let current = copy[start..start + len].to_string();
    let next = tried.entry(at).or_insert(0);
    while let Some(candidate) = candidate(*next, len) {
        *next += 1;
        if candidate != current && !matches!(candidate.as_str(), "true" | "false" | "null") {
            // ASCII for whole characters: the text stays UTF-8.
            copy.replace_range(start..start + len, &candidate);
            return true;
        }
    }
    false
}

/// Where in `rest` the name of the key it starts with is (offset, byte
/// length): an identifier, or the inside of a quoted name, followed by `=`
/// or `:` (so a call or a traversal is never renamed).
fn key_name(rest: &str) -> Option<(usize, usize)> {
    use crate::fmt::lexer::is_id_continue;
    let (at, len) = if let Some(inner) = rest.strip_prefix('"') {
        let len = inner.find('"')?;
        let text = &inner[..len];
        if len == 0 || text.contains(['\\', '\n', '$', '%']) {
            return None;
        }
        (1, len)
    } else {
        let first = rest.chars().next()?;
        if !(first == '_' || unicode_ident::is_xid_start(first)) {
            return None;
        }
        let len = rest
            .char_indices()
            .find(|&(_, c)| !is_id_continue(c))
            .map_or(rest.len(), |(i, _)| i);
        (0, len)
    };
    let close = usize::from(at == 1);
    let after = rest[at + len + close..].trim_start_matches([' ', '\t']);
    let assigns = after.starts_with(':') || (after.starts_with('=') && !after.starts_with("=="));
    assigns.then_some((at, len))
}

/// The `k`-th identifier of `len` bytes (`a`, `b`, … `_`, then two-letter
/// ones for longer names), or `None` when there are no more.
fn candidate(k: usize, len: usize) -> Option<String> {
    const FIRST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
    const REST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";
    if len == 0 {
        return None;
    }
    let mut out = vec![FIRST[k % FIRST.len()]];
    let mut k = k / FIRST.len();
    for _ in 1..len {
        out.push(REST[k % REST.len()]);
        k /= REST.len();
    }
    // `k` left over: every name of this length was produced.
    (k == 0).then(|| String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::source::{parse_body, parse_expr};
    use hcl_edit::Span as _;
    use hcl_edit::expr::Expression;

    /// The keys of the object `src` parses to, as the file writes them.
    fn keys(src: &str) -> Vec<String> {
        let e = parse_expr(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
        let Expression::Object(o) = e else {
            panic!("{src:?}: not an object");
        };
        o.iter()
            .map(|(k, _)| {
                let r = match k {
                    hcl_edit::expr::ObjectKey::Ident(id) => id.span(),
                    hcl_edit::expr::ObjectKey::Expression(e) => e.span(),
                };
                src[r.unwrap_or(0..0)].to_string()
            })
            .collect()
    }

    // hcl-edit refused `{a = 1, a = 2}` ("expected unique object key").
    #[test]
    fn repeated_object_key_parses_with_every_item() {
        assert_eq!(keys("{a = 1, a = 2}"), ["a", "a"]);
        assert_eq!(keys("{a = 1, b = 0, a = 2, a = 3}"), ["a", "b", "a", "a"]);
        assert_eq!(keys("{\"x\" = 1, \"x\" = 2}"), ["\"x\"", "\"x\""]);
        assert_eq!(keys("{name: 1, name: 2}"), ["name", "name"]);
        // Every other one-letter name taken by the object but one.
        let names = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let all: Vec<String> = names.chars().map(|c| format!("{c} = 1")).collect();
        let src = format!("{{{}, a = 2}}", all.join(", "));
        assert_eq!(keys(&src).len(), 53);
        // Non-ASCII names keep their byte length.
        assert_eq!(keys("{é = 1, é = 2}"), ["é", "é"]);
    }

    /// What `src` evaluates to, rendered, and the first error with its span.
    fn eval(src: &str) -> (String, Option<(String, String)>) {
        use crate::lang::eval::{Evaluator, MapScope};
        let e = parse_expr(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
        let scope = MapScope::default();
        let none = crate::lang::funcs::NoTemplates;
        let dir = std::path::Path::new(".");
        let mut ev = Evaluator::new(crate::diag::FileId(0), src, &scope, dir, &none);
        let v = ev.eval(&e);
        let first = ev.take_diags().0.into_iter().next().map(|d| {
            let at = d
                .span
                .map(|s| src[s.start..s.end].to_string())
                .unwrap_or_default();
            (d.summary, at)
        });
        (crate::value::render(&v), first)
    }

    // Terraform lets the last item of a repeated name win.
    #[test]
    fn repeated_object_key_last_one_wins() {
        assert_eq!(eval("{a = 1, a = 2}").0, "{\n  \"a\" = 2\n}");
        assert_eq!(eval("{a = 1, a = \"x\"}").0, "{\n  \"a\" = \"x\"\n}");
        assert_eq!(
            eval("{b = 0, a = 1, \"a\" = 2, a = 3}").0,
            "{\n  \"a\" = 3\n  \"b\" = 0\n}"
        );
        assert_eq!(eval("{\"k\" = 1, \"k\" = 2}").0, "{\n  \"k\" = 2\n}");
        // Every item is evaluated: an error in the overridden one is
        // reported at its own place.
        let (_, first) = eval("{a = 1 + \"x\", a = 2}");
        assert_eq!(first, Some(("Invalid operand".into(), "\"x\"".into())));
    }

    #[test]
    fn repeated_key_expressions_and_real_errors_stay_errors() {
        // No one-letter name is left for the repeat: refused, never misread.
        let names = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
        let all: Vec<String> = names.chars().map(|c| format!("{c} = 1")).collect();
        let e = parse_expr(&format!("{{{}, a = 2}}", all.join(", "))).unwrap_err();
        assert!(is_repeated_key(&e), "{e}");
        let e = parse_expr("{(k) = 1, (k) = 2}").unwrap_err();
        assert!(is_repeated_key(&e), "{e}");
        assert_eq!(e.location().offset(), 10);
        // A syntax error after a repeat is reported where it is.
        let e = parse_body("x = {a = 1, a = 2}\ny = = 1\n").unwrap_err();
        assert_eq!((e.location().line(), e.location().column()), (2, 5), "{e}");
        assert!(!is_repeated_key(&e));
        // A repeated argument of a block is not an object key.
        let e = parse_body("a = 1\na = 2\n").unwrap_err();
        assert!(e.message().contains("redefined attribute"), "{e}");
    }

    #[test]
    fn candidates_keep_the_length_and_run_out() {
        assert_eq!(candidate(0, 1).as_deref(), Some("a"));
        assert_eq!(candidate(52, 1).as_deref(), Some("_"));
        assert_eq!(candidate(53, 1), None);
        assert_eq!(candidate(53, 2).as_deref(), Some("ab"));
        assert!(
            (0..500)
                .filter_map(|k| candidate(k, 3))
                .all(|c| c.len() == 3)
        );
    }
}
