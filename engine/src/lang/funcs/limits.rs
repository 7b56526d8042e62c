//! posture's bounds on what one function call or template may build, so
//! that a size taken from the configuration (`indent(1e12, s)`, a `%1e9d`
//! width, `setproduct` of large lists, YAML aliases) is a diagnostic instead
//! of an allocation that aborts the process. Terraform has no such bounds;
//! these sit far above any real configuration. Documented in
//! docs/language.md ("Limits").

use super::FuncError;

/// The longest string a function or a template may produce: 64 MiB.
pub const MAX_STRING_BYTES: usize = 64 << 20;

/// The most elements a collection built by a function may hold.
pub const MAX_ELEMENTS: usize = 1_000_000;

/// The largest width or precision of a `format` verb, as in Go's `fmt`.
pub const MAX_FORMAT_WIDTH: usize = 1_000_000;

/// The message for a string of `len` bytes (`None`: beyond `usize`).
pub fn string_too_long(len: Option<usize>) -> String {
    let size = len.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string());
    format!(
        "the result would be {size} bytes long; posture builds strings of at most {} bytes (64 MiB)",
        MAX_STRING_BYTES
    )
}

/// Fails unless a string of `len` bytes (`None`: an overflow computing it)
/// is within [`MAX_STRING_BYTES`].
pub(super) fn check_string(len: Option<usize>) -> Result<(), FuncError> {
    match len {
        Some(n) if n <= MAX_STRING_BYTES => Ok(()),
        _ => Err(FuncError::new(string_too_long(len))),
    }
}

/// Fails unless a collection of `n` elements (`None`: an overflow) is
/// within [`MAX_ELEMENTS`].
pub(super) fn check_elements(n: Option<usize>) -> Result<(), FuncError> {
    match n {
        Some(n) if n <= MAX_ELEMENTS => Ok(()),
        _ => {
            let size = n.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string());
            Err(FuncError::new(format!(
                "the result would have {size} elements; posture builds collections of at most {MAX_ELEMENTS} elements"
            )))
        }
    }
}

/// Roughly the bytes `v` holds: its strings plus a word per node. Counted
/// as values are built, to stop before a copy-heavy expression exhausts
/// memory.
pub fn approx_size(v: &crate::value::Value) -> usize {
    use crate::value::Value;
    let node = 16usize;
    match v {
        Value::String(s) => node.saturating_add(s.len()),
        Value::Sensitive(v) => approx_size(v),
        Value::List(_, items) | Value::Set(_, items) | Value::Tuple(items) => items
            .iter()
            .fold(node, |acc, x| acc.saturating_add(approx_size(x))),
        Value::Map(_, m) | Value::Object(m) => m.iter().fold(node, |acc, (k, x)| {
            acc.saturating_add(k.len()).saturating_add(approx_size(x))
        }),
        _ => node,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{err, n, run, s, tnums, tup};

    fn spaces(k: usize) -> crate::value::Value {
        s(&" ".repeat(k))
    }

    #[test]
    fn user_sized_results_are_errors_not_allocations() {
        let thousand = || tnums(&["1"; 1000]);
        run(vec![
            (
                "indent of 1e12 spaces",
                "indent",
                vec![n("1e12"), s("a\nb")],
                err("the result would be 1000000000003 bytes long"),
            ),
            (
                "format width beyond Go's",
                "format",
                vec![s("%1000000000000d"), n("1")],
                err("is larger than 1000000"),
            ),
            (
                "format precision beyond Go's",
                "format",
                vec![s("%.1000000000000f"), n("1")],
                err("is larger than 1000000"),
            ),
            (
                "formatlist adds up its rows",
                "formatlist",
                vec![s("%1000000s"), thousand()],
                err("posture builds strings of at most 67108864 bytes"),
            ),
            (
                "setproduct of a billion rows",
                "setproduct",
                vec![thousand(), thousand(), thousand()],
                err("the result would have 1000000000 elements"),
            ),
            (
                "replace with an empty pattern",
                "replace",
                vec![spaces(100_000), s(""), spaces(1000)],
                err("the result would be 100101000 bytes long"),
            ),
            (
                "regex replace growing by its captures",
                "replace",
                vec![spaces(1_000_000), s("/( )/"), s(&"$1".repeat(80))],
                err("posture builds strings of at most"),
            ),
            (
                "join with a long separator",
                "join",
                vec![spaces(1_000_000), thousand()],
                err("the result would be 999001000 bytes long"),
            ),
        ]);
    }

    #[test]
    fn yaml_aliases_cannot_expand_to_billions_of_nodes() {
        let mut doc = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            let refs = vec![format!("*{prev}"); 10].join(",");
            doc.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        run(vec![(
            "billion laughs",
            "yamldecode",
            vec![s(&doc)],
            err("the document expands to more than 256 MiB of values (through aliases)"),
        )]);
        // Aliases within the bound still work.
        run(vec![(
            "a small alias",
            "yamldecode",
            vec![s("a: &a [x]\nb: *a\n")],
            super::super::testing::ok(super::super::testing::obj(vec![
                ("a", tup(vec![s("x")])),
                ("b", tup(vec![s("x")])),
            ])),
        )]);
    }

    #[test]
    fn a_file_is_read_up_to_the_bound() {
        run(vec![(
            "/dev/zero has no end",
            "file",
            vec![s("/dev/zero")],
            err("is larger than 67108864 bytes (64 MiB)"),
        )]);
    }
}
