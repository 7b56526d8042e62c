//! `required_version` constraints (`">= 0.1, < 2"`, `"~> 0.1"`), checked
//! against this build's version the way Terraform checks its own.

/// Checks `constraint` against `version` (like "0.1.0").
///
/// ```
/// use posture_engine::config::check_required_version;
/// assert_eq!(check_required_version("~> 0.1", "0.1.5"), Ok(true));
/// assert_eq!(check_required_version(">= 2.0", "0.1.5"), Ok(false));
/// ```
///
/// # Errors
/// A message when the constraint cannot be parsed.
pub fn check_required_version(constraint: &str, version: &str) -> Result<bool, String> {
    let have = parse_version(version).ok_or_else(|| format!("invalid version {version:?}"))?;
    for part in constraint.split(',') {
        let part = part.trim();
        let (op, rest) = ["~>", ">=", "<=", "!=", ">", "<", "="]
            .iter()
            .find_map(|op| part.strip_prefix(op).map(|r| (*op, r.trim())))
            .unwrap_or(("=", part));
        let want =
            parse_version(rest).ok_or_else(|| format!("invalid version constraint {part:?}"))?;
        let segments = rest.split('.').count();
        let ok = match op {
            "=" => have == want,
            "!=" => have != want,
            ">" => have > want,
            ">=" => have >= want,
            "<" => have < want,
            "<=" => have <= want,
            _ => {
                // ~> allows the rightmost given segment to grow.
                let upper = if segments <= 1 {
                    [u64::MAX, 0, 0]
                } else if segments == 2 {
                    [want[0] + 1, 0, 0]
                } else {
                    [want[0], want[1] + 1, 0]
                };
                have >= want && have < upper
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn parse_version(s: &str) -> Option<[u64; 3]> {
    let s = s.trim().trim_start_matches('v');
    let core = s.split(['-', '+']).next()?;
    let mut out = [0u64; 3];
    let mut n = 0;
    for (i, p) in core.split('.').enumerate() {
        if i >= 3 {
            return None;
        }
        out[i] = p.parse().ok()?;
        n += 1;
    }
    (n > 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pessimistic_and_ranges() {
        assert_eq!(check_required_version("~> 0.1.2", "0.1.9"), Ok(true));
        assert_eq!(check_required_version("~> 0.1.2", "0.2.0"), Ok(false));
        assert_eq!(check_required_version(">= 0.1, < 1.0", "0.5.0"), Ok(true));
        assert!(check_required_version(">= banana", "0.1.0").is_err());
    }
}
