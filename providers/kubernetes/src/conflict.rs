//! Server-side apply conflicts as plan notes: one per field, naming the
//! field manager that owns it and its live value (never a Secret's).
//!
//! The fields and managers come from the server's `Status` causes
//! (`FieldManagerConflict`), not from its message text, whose wording
//! differs between one conflict and several. Field paths are
//! structured-merge-diff paths: `.name` for a field, `[k="v",k2=2]` for an
//! entry of a keyed list, `[="v"]` for a set member, `[3]` for an index.

use crate::error::Conflict;
use serde_json::Value as J;

/// One note per conflicting field.
pub fn notes(conflicts: &[Conflict], live: Option<&J>, secret: bool, force: bool) -> Vec<String> {
    let then = if force {
        "apply takes it back (force_conflicts = true)"
    } else {
        "apply will fail (force_conflicts = false)"
    };
    conflicts
        .iter()
        .map(|c| {
            let value = if secret {
                "(sensitive value)".to_string()
            } else {
                live.and_then(|l| lookup(l, &c.field))
                    .map(J::to_string)
                    .unwrap_or_else(|| "(see the live object)".to_string())
            };
            format!(
                "conflict: {} is owned by field manager \"{}\" with value {value}; {then}",
                c.field, c.manager
            )
        })
        .collect()
}

/// The value at a field path, if the path parses and the value is there.
///
/// A field name may itself hold dots (`.data.hosts.toml` is the key
/// `hosts.toml` of `data`: the path does not escape them), so each `.name`
/// segment tries the shortest name first, then longer ones up to the next
/// dots, until the rest of the path is found.
pub fn lookup<'a>(root: &'a J, path: &str) -> Option<&'a J> {
    if path.is_empty() {
        return Some(root);
    }
    if let Some(r) = path.strip_prefix('.') {
        let ends = r
            .match_indices(['.', '['])
            .map(|(i, _)| i)
            .chain(std::iter::once(r.len()));
        for end in ends {
            if let Some(next) = root.get(&r[..end])
                && let Some(found) = lookup(next, &r[end..])
            {
                return Some(found);
            }
        }
        return None;
    }
    let r = path.strip_prefix('[')?;
    let (elem, after) = bracket(r)?;
    lookup(select(root.as_array()?, elem)?, after)
}

/// What a bracket selects in a list.
enum Elem {
    Index(usize),
    Value(J),
    Keys(Vec<(String, J)>),
}

/// Parses one `[...]` (the text after `[`); returns the element and the
/// text after `]`. Values are JSON, so a `]` or `,` inside a string is fine.
fn bracket(s: &str) -> Option<(Elem, &str)> {
    if let Some(v) = s.strip_prefix('=') {
        let (value, used) = json_prefix(v)?;
        return Some((Elem::Value(value), v[used..].strip_prefix(']')?));
    }
    if let Some(end) = s.find(']')
        && let Ok(i) = s[..end].parse::<usize>()
    {
        return Some((Elem::Index(i), &s[end + 1..]));
    }
    let mut keys = Vec::new();
    let mut rest = s;
    loop {
        let eq = rest.find('=')?;
        let key = rest[..eq].to_string();
        let (value, used) = json_prefix(&rest[eq + 1..])?;
        keys.push((key, value));
        rest = &rest[eq + 1 + used..];
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else {
            return Some((Elem::Keys(keys), rest.strip_prefix(']')?));
        }
    }
}

/// The first JSON value of `s` and the bytes it took.
fn json_prefix(s: &str) -> Option<(J, usize)> {
    let mut it = serde_json::Deserializer::from_str(s).into_iter::<J>();
    let v = it.next()?.ok()?;
    Some((v, it.byte_offset()))
}

fn select(items: &[J], elem: Elem) -> Option<&J> {
    match elem {
        Elem::Index(i) => items.get(i),
        Elem::Value(v) => items.iter().find(|x| **x == v),
        Elem::Keys(keys) => items
            .iter()
            .find(|x| keys.iter().all(|(k, v)| x.get(k) == Some(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(field: &str, manager: &str) -> Conflict {
        Conflict {
            field: field.into(),
            manager: manager.into(),
        }
    }

    #[test]
    fn notes_name_field_manager_and_value() {
        let live = json!({"spec": {"replicas": 5}});
        let n = notes(
            &[c(".spec.replicas", "kubectl-edit")],
            Some(&live),
            false,
            true,
        );
        assert_eq!(
            n,
            vec![
                "conflict: .spec.replicas is owned by field manager \"kubectl-edit\" with value 5; apply takes it back (force_conflicts = true)"
            ]
        );
    }

    #[test]
    fn a_conflict_on_a_key_with_dots_named_its_value_see_the_live_object() {
        let live = json!({"data": {"hosts.toml": "server = \"b\"\n", "a": {"b": 1}}});
        assert_eq!(
            lookup(&live, ".data.hosts.toml"),
            Some(&json!("server = \"b\"\n"))
        );
        assert_eq!(lookup(&live, ".data.a.b"), Some(&json!(1)));
        assert_eq!(lookup(&live, ".data.hosts.yaml"), None);
        let n = notes(
            &[c(".data.hosts.toml", "kubectl-patch")],
            Some(&live),
            false,
            true,
        );
        assert!(n[0].contains(r#"with value "server = \"b\"\n""#), "{n:?}");
    }

    #[test]
    fn secret_values_never_appear_in_notes() {
        let live = json!({"data": {"password": "c2VjcmV0"}});
        let n = notes(&[c(".data.password", "x")], Some(&live), true, false);
        assert!(
            !n[0].contains("c2VjcmV0") && n[0].contains("(sensitive value)"),
            "{n:?}"
        );
    }

    #[test]
    fn conflict_values_inside_keyed_list_entries_are_found() {
        let live = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "side", "image": "busybox"},
            {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80, "protocol": "TCP", "name": "h"}]}
        ]}}, "finalizers": ["a", "b]"]}});
        let at = |p: &str| lookup(&live, p).cloned();
        assert_eq!(
            at(".spec.template.spec.containers[name=\"web\"].image"),
            Some(json!("nginx:1.27"))
        );
        assert_eq!(
            at(
                ".spec.template.spec.containers[name=\"web\"].ports[containerPort=80,protocol=\"TCP\"].name"
            ),
            Some(json!("h"))
        );
        assert_eq!(at(".spec.finalizers[=\"b]\"]"), Some(json!("b]")));
        assert_eq!(
            at(".spec.template.spec.containers[1].name"),
            Some(json!("web"))
        );
        assert_eq!(at(".spec.template.spec.containers[name=\"db\"]"), None);
        assert_eq!(at("spec"), None);
    }
}
