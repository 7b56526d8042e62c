//! Decoding the JSON of state records at any depth the language can build.
//!
//! serde_json refuses more than 128 nested levels by default, and a deep
//! value (a CRD schema, a `jsondecode` result) in a record written by apply
//! then made the state unreadable for good. Here the depth is measured
//! first, without recursion; a document nested more than [`MAX_DEPTH`]
//! levels (far above the language's bound, `MAX_VALUE_DEPTH` in `scope`) is
//! refused with a clear error, and a deeper than trivial one is decoded on a
//! stack sized for its depth, so no input can overflow the caller's stack.

use serde::de::DeserializeOwned;

use super::error::describe_json_error;

/// The deepest nesting of arrays and objects a state document may have.
/// The language accepts values up to 1,000 levels deep; a record adds a few
/// levels around them.
pub const MAX_DEPTH: usize = 5_000;

/// Up to this depth the caller's stack is enough for serde_json
/// (its own default limit is 128).
const SHALLOW: usize = 100;

/// Stack per level of nesting, with a wide margin over what serde_json's
/// `Value` decoding uses in a debug build (under 2 KiB).
const STACK_PER_LEVEL: usize = 8 * 1024;

/// The deepest nesting of `[` and `{` in `bytes`, outside strings. Stops
/// counting past `limit`. Invalid JSON is measured as well as it can be:
/// serde_json reports the syntax error afterwards.
pub(crate) fn nesting_depth(bytes: &[u8], limit: usize) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    max = depth;
                    if max > limit {
                        return max;
                    }
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Decodes one JSON document of the state (a record, an intent, a whole
/// state). The error is described without quoting the input (it may hold
/// secrets), with its line and column.
pub(crate) fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let depth = nesting_depth(bytes, MAX_DEPTH);
    if depth > MAX_DEPTH {
        return Err(format!(
            "nested more than {MAX_DEPTH} levels deep, deeper than any state posture writes"
        ));
    }
    let decode = || {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        // The depth was bounded above; the stack is sized for it below.
        de.disable_recursion_limit();
        let value = T::deserialize(&mut de)?;
        de.end()?;
        Ok::<T, serde_json::Error>(value)
    };
    let result = if depth <= SHALLOW {
        decode()
    } else {
        stacker::grow(1024 * 1024 + depth * STACK_PER_LEVEL, decode)
    };
    result.map_err(|e| describe_json_error(&e))
}

/// `from_slice` for text: any JSON document posture wrote (a state, a
/// record, a saved plan) at any depth up to [`MAX_DEPTH`].
///
/// # Errors
/// The syntax or type error, or the depth bound, described without quoting
/// the input.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    from_slice(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::{MAX_DEPTH, from_slice, nesting_depth};

    fn nested(depth: usize) -> String {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn depth_ignores_brackets_inside_strings_and_escapes() {
        assert_eq!(nesting_depth(br#"{"a":"[[[\"{{"}"#, 100), 1);
        assert_eq!(nesting_depth(b"[[1],[[2]]]", 100), 3);
        assert_eq!(nesting_depth(b"1", 100), 0);
    }

    #[test]
    fn state_json_nested_deeper_than_serde_json_default_decodes() {
        let v: serde_json::Value = from_slice(nested(1_200).as_bytes()).expect("deep value");
        let mut cur = &v;
        let mut levels = 0;
        while let Some(inner) = cur.as_array().and_then(|a| a.first()) {
            cur = inner;
            levels += 1;
        }
        assert_eq!(levels, 1_200);
    }

    #[test]
    fn state_json_nested_past_the_bound_is_refused_without_overflow() {
        let text = nested(MAX_DEPTH + 1);
        let e = from_slice::<serde_json::Value>(text.as_bytes()).expect_err("too deep");
        assert!(e.contains("nested more than 5000 levels"), "{e}");
        // Hostile input far past the bound, unbalanced: refused, not a crash.
        let e = from_slice::<serde_json::Value>("[".repeat(1_000_000).as_bytes())
            .expect_err("too deep");
        assert!(e.contains("nested more than"), "{e}");
    }

    #[test]
    fn state_json_at_the_bound_decodes_on_a_small_thread() {
        // A 256 KiB thread: the decoding must not rely on the caller's stack.
        let text = nested(MAX_DEPTH);
        let decoded = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let v: serde_json::Value = from_slice(text.as_bytes()).expect("at the bound");
                // Drop on a big stack too: serde_json's Drop recurses.
                stacker::grow(64 * 1024 * 1024, move || drop(v));
            })
            .expect("spawn");
        decoded.join().expect("no overflow");
    }
}
