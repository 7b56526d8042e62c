//! Parsing addresses typed by users (`--target`, `state rm`, `import`).

use super::{InstanceKey, Mode, ModuleInstance, ResourceAddr, ResourceInstanceAddr};

/// Parses `module.a["k"].TYPE.NAME[0]`, `data.TYPE.NAME`, ... into an
/// instance address (key `None` when no key is written).
///
/// ```
/// use posture_provider_core::addrs::{parse_instance, InstanceKey};
/// let a = parse_instance("module.app[\"eu\"].posture_data.x[2]").unwrap();
/// assert_eq!(a.key, InstanceKey::Int(2));
/// assert_eq!(a.to_string(), "module.app[\"eu\"].posture_data.x[2]");
/// ```
///
/// # Errors
/// A message saying what is wrong with the address.
pub fn parse_instance(s: &str) -> Result<ResourceInstanceAddr, String> {
    let mut p = Cursor { s, i: 0 };
    let mut module = ModuleInstance::root();
    loop {
        let save = p.i;
        let word = p.ident().ok_or_else(|| {
            format!(
                "invalid address {s:?}: expected a name at position {}",
                p.i + 1
            )
        })?;
        if word == "module" {
            p.expect('.')?;
            let name = p
                .ident()
                .ok_or_else(|| format!("invalid address {s:?}: expected a module name"))?;
            let key = p.key()?;
            module = module.child(&name, key);
            p.expect('.')?;
            continue;
        }
        p.i = save;
        break;
    }
    let mut mode = Mode::Managed;
    let first = p
        .ident()
        .ok_or_else(|| format!("invalid address {s:?}: expected a resource type"))?;
    let type_name = if first == "data" {
        mode = Mode::Data;
        p.expect('.')?;
        p.ident()
            .ok_or_else(|| format!("invalid address {s:?}: expected a data source type"))?
    } else {
        first
    };
    p.expect('.')?;
    let name = p.ident().ok_or_else(|| {
        format!("invalid address {s:?}: expected a resource name after {type_name}.")
    })?;
    let key = p.key()?;
    if p.i != s.len() {
        return Err(format!(
            "invalid address {s:?}: unexpected {:?} at position {}",
            &s[p.i..],
            p.i + 1
        ));
    }
    Ok(ResourceInstanceAddr {
        module,
        resource: ResourceAddr {
            mode,
            type_name,
            name,
        },
        key,
    })
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl Cursor<'_> {
    fn rest(&self) -> &str {
        &self.s[self.i..]
    }
    fn ident(&mut self) -> Option<String> {
        let r = self.rest();
        let n = r
            .char_indices()
            .take_while(|(j, c)| c.is_alphanumeric() || *c == '_' || (*j > 0 && *c == '-'))
            .map(|(j, c)| j + c.len_utf8())
            .last()?;
        let word = r[..n].to_string();
        self.i += n;
        Some(word)
    }
    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.rest().starts_with(c) {
            self.i += c.len_utf8();
            Ok(())
        } else {
            Err(format!(
                "invalid address {:?}: expected {c:?} at position {}",
                self.s,
                self.i + 1
            ))
        }
    }
    fn key(&mut self) -> Result<InstanceKey, String> {
        if !self.rest().starts_with('[') {
            return Ok(InstanceKey::None);
        }
        self.i += 1;
        let r = self.rest();
        let key = if r.starts_with('"') {
            // A JSON string literal, up to the closing quote.
            let mut end = None;
            let mut esc = false;
            for (j, c) in r.char_indices().skip(1) {
                if esc {
                    esc = false;
                } else if c == '\\' {
                    esc = true;
                } else if c == '"' {
                    end = Some(j);
                    break;
                }
            }
            let end = end
                .ok_or_else(|| format!("invalid address {:?}: unterminated string key", self.s))?;
            let k: String = serde_json::from_str(&r[..=end])
                .map_err(|e| format!("invalid address {:?}: {e}", self.s))?;
            self.i += end + 1;
            InstanceKey::Str(k)
        } else {
            let n: String = r.chars().take_while(|c| c.is_ascii_digit()).collect();
            let v = n.parse::<i64>().map_err(|_| {
                format!(
                    "invalid address {:?}: an instance key is a number or a quoted string",
                    self.s
                )
            })?;
            self.i += n.len();
            InstanceKey::Int(v)
        };
        self.expect(']')?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects() {
        for s in [
            "posture_data.x",
            "data.route53_zone.main",
            "module.a.module.b[3].posture_data.y[\"k.1\"]",
        ] {
            assert_eq!(parse_instance(s).map(|a| a.to_string()), Ok(s.to_string()));
        }
        assert!(parse_instance("posture_data").is_err());
        assert!(parse_instance("posture_data.x[abc]").is_err());
        assert!(parse_instance("posture_data.x junk").is_err());
    }
}
