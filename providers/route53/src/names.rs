//! Spelling rules of Route53: record and zone names (case, trailing dot,
//! `\052` for `*`), zone ids (`/hostedzone/Z1` or `Z1`), and TXT values
//! (quoted, split into strings of at most 255 characters).
//!
//! Pure functions only; nothing here calls AWS.

/// A name as posture compares it: octal escapes decoded (`\052` is `*`),
/// lower case, no trailing dot.
pub fn canonical_name(name: &str) -> String {
    let decoded = decode_escapes(name.trim());
    let lower = decoded.to_ascii_lowercase();
    lower.strip_suffix('.').unwrap_or(&lower).to_string()
}

/// The name as an absolute name within its zone: `www` in `example.com`
/// is `www.example.com`; `@` and the empty name are the apex.
pub fn fqdn_in_zone(name: &str, zone_name: &str) -> String {
    let n = canonical_name(name);
    let z = canonical_name(zone_name);
    if n.is_empty() || n == "@" {
        z
    } else if n == z || n.ends_with(&format!(".{z}")) {
        n
    } else {
        format!("{n}.{z}")
    }
}

/// The name as sent to Route53 (absolute, with a trailing dot).
pub fn wire_name(canonical: &str) -> String {
    format!("{canonical}.")
}

/// A zone id without its `/hostedzone/` prefix.
pub fn bare_zone_id(id: &str) -> String {
    let id = id.trim();
    id.strip_prefix("/hostedzone/")
        .or_else(|| id.strip_prefix("hostedzone/"))
        .unwrap_or(id)
        .to_string()
}

/// A change id without its `/change/` prefix.
pub fn bare_change_id(id: &str) -> String {
    id.strip_prefix("/change/").unwrap_or(id).to_string()
}

/// Decodes Route53's `\NNN` octal escapes (and `\X` for any other X).
fn decode_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\'
            && i + 3 < chars.len()
            && chars[i + 1..i + 4].iter().all(|d| ('0'..='7').contains(d))
        {
            let code = chars[i + 1..i + 4]
                .iter()
                .fold(0u32, |acc, d| acc * 8 + (*d as u32 - '0' as u32));
            out.push(char::from_u32(code).unwrap_or('?'));
            i += 4;
        } else if c == '\\' && i + 1 < chars.len() {
            out.push(chars[i + 1]);
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Longest character-string in a TXT record.
pub const TXT_CHUNK: usize = 255;

/// True for the types whose values are character-strings.
pub fn is_txt_like(record_type: &str) -> bool {
    matches!(record_type, "TXT" | "SPF")
}

/// A TXT value as sent to Route53: quoted, `"` and `\` escaped, split into
/// strings of at most 255 bytes (never inside a character).
pub fn txt_to_wire(value: &str) -> String {
    let mut parts = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > TXT_CHUNK {
            parts.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() || parts.is_empty() {
        parts.push(chunk);
    }
    parts
        .iter()
        .map(|p| format!("\"{}\"", p.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A TXT value as posture shows it: the character-strings of the wire form
/// decoded and joined. A value that is not in quoted form is returned as is
/// (so users may write either `v=spf1 -all` or `"v=spf1 -all"`).
pub fn txt_from_wire(wire: &str) -> String {
    match parse_quoted_strings(wire.trim()) {
        Some(parts) => parts.concat(),
        None => wire.to_string(),
    }
}

/// Parses `"a" "b\"c"` into its strings; `None` unless the whole input is
/// quoted strings separated by spaces.
fn parse_quoted_strings(s: &str) -> Option<Vec<String>> {
    if !s.starts_with('"') {
        return None;
    }
    let chars: Vec<char> = s.chars().collect();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' {
            i += 1;
            continue;
        }
        if chars[i] != '"' {
            return None;
        }
        i += 1;
        let mut raw = String::new();
        let mut closed = false;
        while i < chars.len() {
            match chars[i] {
                '\\' if i + 1 < chars.len() => {
                    raw.push('\\');
                    raw.push(chars[i + 1]);
                    i += 2;
                }
                '"' => {
                    closed = true;
                    i += 1;
                    break;
                }
                c => {
                    raw.push(c);
                    i += 1;
                }
            }
        }
        if !closed {
            return None;
        }
        parts.push(decode_escapes(&raw));
    }
    Some(parts)
}

/// A record value as posture compares it, for a record type.
pub fn canonical_value(record_type: &str, value: &str) -> String {
    if is_txt_like(record_type) {
        txt_from_wire(value)
    } else {
        value.trim().to_string()
    }
}

/// A record value as sent to Route53.
pub fn wire_value(record_type: &str, value: &str) -> String {
    if is_txt_like(record_type) {
        txt_to_wire(&txt_from_wire(value))
    } else {
        value.trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_without_case_dot_or_escapes() {
        assert_eq!(canonical_name("WWW.Example.COM."), "www.example.com");
        assert_eq!(canonical_name("\\052.example.com."), "*.example.com");
        assert_eq!(canonical_name("*.example.com"), "*.example.com");
        assert_eq!(fqdn_in_zone("www", "example.com."), "www.example.com");
        assert_eq!(fqdn_in_zone("@", "example.com."), "example.com");
        assert_eq!(fqdn_in_zone("Example.com.", "example.com"), "example.com");
        assert_eq!(
            fqdn_in_zone("a.example.com", "example.com"),
            "a.example.com"
        );
        assert_eq!(bare_zone_id("/hostedzone/Z123"), "Z123");
        assert_eq!(bare_zone_id("Z123"), "Z123");
    }

    #[test]
    fn txt_is_quoted_escaped_and_split() {
        assert_eq!(txt_to_wire("v=spf1 -all"), "\"v=spf1 -all\"");
        assert_eq!(txt_to_wire(r#"a"b\c"#), r#""a\"b\\c""#);
        let long = "x".repeat(600);
        let wire = txt_to_wire(&long);
        let parts: Vec<&str> = wire.split(' ').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].len(), 255 + 2);
        assert_eq!(parts[2].len(), 90 + 2);
        assert_eq!(txt_from_wire(&wire), long);
        assert_eq!(txt_from_wire(r#""a\"b\\c""#), r#"a"b\c"#);
        assert_eq!(txt_from_wire("plain"), "plain");
        assert_eq!(txt_to_wire(""), "\"\"");
        // Already-quoted input is not quoted twice.
        assert_eq!(wire_value("TXT", "\"abc\""), "\"abc\"");
        assert_eq!(canonical_value("TXT", "\"ab\" \"c\""), "abc");
    }

    #[test]
    fn multibyte_characters_are_never_split() {
        let s = "é".repeat(200); // 400 bytes
        let wire = txt_to_wire(&s);
        assert_eq!(txt_from_wire(&wire), s);
        for part in wire.split(' ') {
            assert!(part.len() <= TXT_CHUNK + 2);
        }
    }
}
