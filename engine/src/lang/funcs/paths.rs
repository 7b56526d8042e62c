//! Go's lexical path rules (`filepath.Clean`, `Base`, `Dir`, `Join`) and
//! `~` expansion, so file functions name paths exactly as Terraform does,
//! plus the glob matcher `fileset` uses (doublestar syntax: `*`, `?`,
//! `[...]`, `{a,b}`, `**`). Nothing here touches the file system.

/// Go's `filepath.Clean` for `/`-separated paths.
pub(super) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// Go's `filepath.Join`: joins the non-empty elements and cleans.
pub(super) fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => String::new(),
        (true, false) => clean(b),
        (false, true) => clean(a),
        (false, false) => clean(&format!("{a}/{b}")),
    }
}

/// Go's `filepath.Base`.
pub(super) fn base(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    match trimmed.rfind('/') {
        Some(i) => trimmed[i + 1..].to_string(),
        None => trimmed.to_string(),
    }
}

/// Go's `filepath.Dir`.
pub(super) fn dir(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => clean(&path[..=i]),
        None => ".".into(),
    }
}

/// `~` expansion as Terraform's homedir package does it.
///
/// # Errors
/// `~user` forms, and a missing home directory.
pub(super) fn expand_home(path: &str) -> Result<String, String> {
    if !path.starts_with('~') {
        return Ok(path.to_string());
    }
    if path.len() > 1 && !path[1..].starts_with('/') && !path[1..].starts_with('\\') {
        return Err("cannot expand user-specific home dir".into());
    }
    let home = std::env::var("HOME")
        .ok()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| "HOME is not set; cannot expand ~".to_string())?;
    Ok(join(&home, &path[1..]))
}

/// Expands `{a,b}` alternatives into every plain pattern.
fn braces(pattern: &str) -> Vec<String> {
    let b = pattern.as_bytes();
    let mut depth = 0;
    let mut open = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'{' => {
                if depth == 0 {
                    open = Some(i);
                }
                depth += 1;
            }
            b'}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    let Some(o) = open else { break };
                    let (pre, inner, post) = (&pattern[..o], &pattern[o + 1..i], &pattern[i + 1..]);
                    let mut alts = Vec::new();
                    let (mut d, mut last) = (0, 0);
                    let ib = inner.as_bytes();
                    let mut j = 0;
                    while j < ib.len() {
                        match ib[j] {
                            b'\\' => j += 1,
                            b'{' => d += 1,
                            b'}' => d -= 1,
                            b',' if d == 0 => {
                                alts.push(&inner[last..j]);
                                last = j + 1;
                            }
                            _ => {}
                        }
                        j += 1;
                    }
                    alts.push(&inner[last..]);
                    return alts
                        .into_iter()
                        .flat_map(|a| braces(&format!("{pre}{a}{post}")))
                        .collect();
                }
            }
            _ => {}
        }
        i += 1;
    }
    vec![pattern.to_string()]
}

/// Matches one path segment against one pattern segment.
fn segment(p: &[char], s: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some('*') => (0..=s.len()).any(|k| segment(&p[1..], &s[k..])),
        Some('?') => !s.is_empty() && segment(&p[1..], &s[1..]),
        Some('[') => {
            let Some(c) = s.first() else { return false };
            let mut i = 1;
            let neg = matches!(p.get(1), Some('!' | '^'));
            if neg {
                i += 1;
            }
            let mut hit = false;
            let mut first = true;
            while i < p.len() && (p[i] != ']' || first) {
                first = false;
                let lo = if p[i] == '\\' {
                    i += 1;
                    p.get(i).copied().unwrap_or('\\')
                } else {
                    p[i]
                };
                if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|x| *x != ']') {
                    let hi = p[i + 2];
                    hit |= lo <= *c && *c <= hi;
                    i += 3;
                } else {
                    hit |= lo == *c;
                    i += 1;
                }
            }
            if i >= p.len() {
                return false;
            }
            hit != neg && segment(&p[i + 1..], &s[1..])
        }
        Some('\\') if p.len() > 1 => s.first() == Some(&p[1]) && segment(&p[2..], &s[1..]),
        Some(c) => s.first() == Some(c) && segment(&p[1..], &s[1..]),
    }
}

fn segments(p: &[Vec<char>], s: &[Vec<char>]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(first) if first.iter().collect::<String>() == "**" => {
            (0..=s.len()).any(|k| segments(&p[1..], &s[k..]))
        }
        Some(first) => !s.is_empty() && segment(first, &s[0]) && segments(&p[1..], &s[1..]),
    }
}

/// Whether a `/`-separated relative path matches a doublestar pattern.
pub(super) fn glob_match(pattern: &str, path: &str) -> bool {
    let split = |x: &str| -> Vec<Vec<char>> { x.split('/').map(|s| s.chars().collect()).collect() };
    let path = split(path);
    braces(pattern).iter().any(|p| segments(&split(p), &path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_clean_like_go() {
        let cases = [
            ("", "."),
            ("a//b/./c/..", "a/b"),
            ("/../x", "/x"),
            ("../../a", "../../a"),
            ("a/../..", ".."),
            ("/", "/"),
        ];
        for (input, want) in cases {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
        assert_eq!(base("foo/bar/baz.txt"), "baz.txt");
        assert_eq!(base("foo/bar/"), "bar");
        assert_eq!(base(""), ".");
        assert_eq!(base("///"), "/");
        assert_eq!(dir("foo/bar/baz.txt"), "foo/bar");
        assert_eq!(dir("baz.txt"), ".");
        assert_eq!(dir("/baz"), "/");
        assert_eq!(join("mod", "../x.txt"), "x.txt");
    }

    #[test]
    fn globs_match_like_doublestar() {
        let cases = [
            ("*.txt", "a.txt", true),
            ("*.txt", "d/a.txt", false),
            ("**/*.txt", "a.txt", true),
            ("**/*.txt", "d/e/a.txt", true),
            ("d/**", "d/e/a.txt", true),
            ("{a,b}.txt", "b.txt", true),
            ("[a-c]?.txt", "bx.txt", true),
            ("[!a-c]?.txt", "bx.txt", false),
            ("file\\*.txt", "file*.txt", true),
        ];
        for (p, s, want) in cases {
            assert_eq!(glob_match(p, s), want, "{p} vs {s}");
        }
    }
}
