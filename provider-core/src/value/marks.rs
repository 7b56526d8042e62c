//! Carrying sensitive marks from one value to another by path, as Terraform
//! copies the marks of a configuration onto the planned and new state values
//! a provider returns (providers see and return plain data, so a mark the
//! configuration set would otherwise be lost on the way back).

use super::Value;

/// One step of a path into a value: an attribute or map key, or a list or
/// tuple index. Set elements have no stable position: a mark inside a set
/// covers the whole set, as cty hoists set element marks to the set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute or map key.
    Key(String),
    /// A list or tuple index.
    Index(usize),
}

impl Value {
    /// Marks in `self` every part that is marked in `source` at the same
    /// path. Marks already in `self` stay. Where the shapes part ways the
    /// rule errs on the side of hiding:
    /// - a mark inside a set of `source` marks the set of `self` at that path;
    /// - an unknown in `self` where `source` has marks inside becomes a
    ///   sensitive unknown (whatever it turns out to be may hold them);
    /// - a list or tuple of another length, or a known non-null value of
    ///   another kind, where `source` has marks inside is marked whole
    ///   (positions cannot be matched, or the provider folded the marked
    ///   parts into it).
    ///
    /// Paths of `source` missing from `self` are ignored.
    ///
    /// ```
    /// use posture_provider_core::value::Value;
    /// use std::collections::BTreeMap;
    /// let obj = |pw: Value| Value::Object(BTreeMap::from([("pw".to_string(), pw)]));
    /// let config = obj(Value::from("s3cret").mark_sensitive());
    /// let planned = obj(Value::from("s3cret"));
    /// assert_eq!(planned.with_marks_of(&config), config);
    /// ```
    pub fn with_marks_of(self, source: &Value) -> Value {
        if !source.contains_sensitive() {
            return self;
        }
        if let Value::Sensitive(inner) = source {
            return self.with_marks_of(inner).mark_sensitive();
        }
        match (self, source) {
            (Value::Sensitive(inner), src) => inner.with_marks_of(src).mark_sensitive(),
            (Value::Object(m), Value::Object(s) | Value::Map(_, s)) => {
                Value::Object(carry_entries(m, s))
            }
            (Value::Map(t, m), Value::Object(s) | Value::Map(_, s)) => {
                Value::Map(t, carry_entries(m, s))
            }
            (Value::List(t, items), Value::List(_, s) | Value::Tuple(s)) => {
                match carry_items(items, s) {
                    Ok(items) => Value::List(t, items),
                    Err(items) => Value::List(t, items).mark_sensitive(),
                }
            }
            (Value::Tuple(items), Value::List(_, s) | Value::Tuple(s)) => {
                match carry_items(items, s) {
                    Ok(items) => Value::Tuple(items),
                    Err(items) => Value::Tuple(items).mark_sensitive(),
                }
            }
            // Nulls hold nothing to hide.
            (v @ Value::Null(_), _) => v,
            // Sets, unknowns and values whose shape differs from the source.
            (v, _) => v.mark_sensitive(),
        }
    }

    /// The paths of every marked part, outermost first; a marked value's
    /// own path is listed and nothing inside it.
    pub fn marked_paths(&self) -> Vec<Vec<PathStep>> {
        let mut out = Vec::new();
        collect(self, &mut Vec::new(), &mut out);
        out
    }

    /// True when every marked part of `other` is marked in `self` too (at
    /// its path or an enclosing one): `self` hides at least what `other` does.
    pub fn marks_cover(&self, other: &Value) -> bool {
        let mine = self.marked_paths();
        other
            .marked_paths()
            .iter()
            .all(|p| mine.iter().any(|m| p.starts_with(m)))
    }

    /// Marks the part at `path`. A path through a set or an unknown marks
    /// that set or unknown; a path missing from the value changes nothing.
    pub fn mark_path(self, path: &[PathStep]) -> Value {
        let Some((first, rest)) = path.split_first() else {
            return self.mark_sensitive();
        };
        match (self, first) {
            (Value::Sensitive(inner), _) => inner.mark_path(path).mark_sensitive(),
            (Value::Object(mut m), PathStep::Key(k)) => {
                if let Some(x) = m.remove(k) {
                    m.insert(k.clone(), x.mark_path(rest));
                }
                Value::Object(m)
            }
            (Value::Map(t, mut m), PathStep::Key(k)) => {
                if let Some(x) = m.remove(k) {
                    m.insert(k.clone(), x.mark_path(rest));
                }
                Value::Map(t, m)
            }
            (Value::List(t, mut items), PathStep::Index(i)) if *i < items.len() => {
                let x = std::mem::replace(&mut items[*i], Value::NULL);
                items[*i] = x.mark_path(rest);
                Value::List(t, items)
            }
            (Value::Tuple(mut items), PathStep::Index(i)) if *i < items.len() => {
                let x = std::mem::replace(&mut items[*i], Value::NULL);
                items[*i] = x.mark_path(rest);
                Value::Tuple(items)
            }
            (v @ (Value::Set(..) | Value::Unknown(_)), _) => v.mark_sensitive(),
            (v, _) => v,
        }
    }
}

fn carry_entries(
    mut m: std::collections::BTreeMap<String, Value>,
    s: &std::collections::BTreeMap<String, Value>,
) -> std::collections::BTreeMap<String, Value> {
    for (k, sv) in s {
        if !sv.contains_sensitive() {
            continue;
        }
        if let Some(x) = m.remove(k) {
            m.insert(k.clone(), x.with_marks_of(sv));
        }
    }
    m
}

/// Element by element when the lengths agree; `Err` (mark the whole) when
/// they do not, since then positions say nothing about which element is which.
fn carry_items(items: Vec<Value>, s: &[Value]) -> Result<Vec<Value>, Vec<Value>> {
    if items.len() != s.len() {
        return Err(items);
    }
    Ok(items
        .into_iter()
        .zip(s)
        .map(|(x, sv)| x.with_marks_of(sv))
        .collect())
}

fn collect(v: &Value, at: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    match v {
        Value::Sensitive(_) => out.push(at.clone()),
        Value::List(_, items) | Value::Tuple(items) => {
            for (i, x) in items.iter().enumerate() {
                at.push(PathStep::Index(i));
                collect(x, at, out);
                at.pop();
            }
        }
        // A set is addressed as a whole.
        Value::Set(..) if v.contains_sensitive() => out.push(at.clone()),
        Value::Map(_, m) | Value::Object(m) => {
            for (k, x) in m {
                at.push(PathStep::Key(k.clone()));
                collect(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::PathStep::{Index, Key};
    use super::*;
    use crate::value::Type;
    use std::collections::BTreeMap;

    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    fn s(x: &str) -> Value {
        Value::from(x)
    }

    fn secret(x: &str) -> Value {
        Value::from(x).mark_sensitive()
    }

    #[test]
    fn config_marks_reach_the_planned_value_at_the_same_path() {
        let config = obj(vec![(
            "manifest",
            obj(vec![(
                "data",
                obj(vec![("pw", secret("c")), ("a", s("1"))]),
            )]),
        )]);
        let planned = obj(vec![
            (
                "manifest",
                obj(vec![("data", obj(vec![("pw", s("c")), ("a", s("1"))]))]),
            ),
            ("id", s("x")),
        ]);
        let out = planned.with_marks_of(&config);
        assert_eq!(
            out.marked_paths(),
            vec![vec![
                Key("manifest".into()),
                Key("data".into()),
                Key("pw".into())
            ]]
        );
        let (plain, _) = out.clone().unmark_deep();
        assert!(
            crate::value::raw_equal(&plain, &out),
            "only marks are added"
        );
    }

    #[test]
    fn marks_inside_lists_and_maps_go_element_by_element() {
        let config = obj(vec![(
            "env",
            Value::list_of(vec![
                obj(vec![("name", s("A")), ("value", s("1"))]),
                obj(vec![("name", s("PW")), ("value", secret("c"))]),
            ]),
        )]);
        let planned = obj(vec![(
            "env",
            Value::list_of(vec![
                obj(vec![("name", s("A")), ("value", s("1"))]),
                obj(vec![("name", s("PW")), ("value", s("c"))]),
            ]),
        )]);
        assert_eq!(
            planned.with_marks_of(&config).marked_paths(),
            vec![vec![Key("env".into()), Index(1), Key("value".into())]]
        );
        let config = Value::Map(Type::String, BTreeMap::from([("k".into(), secret("v"))]));
        let planned = Value::Map(
            Type::String,
            BTreeMap::from([("k".into(), s("v")), ("other".into(), s("w"))]),
        );
        assert_eq!(
            planned.with_marks_of(&config).marked_paths(),
            vec![vec![Key("k".into())]]
        );
    }

    #[test]
    fn a_list_of_another_length_is_hidden_whole() {
        let config = Value::list_of(vec![secret("a")]);
        let planned = Value::list_of(vec![s("x"), s("a")]);
        let out = planned.with_marks_of(&config);
        assert!(out.is_sensitive());
    }

    #[test]
    fn an_unknown_where_the_config_has_marks_becomes_a_sensitive_unknown() {
        let config = obj(vec![("o", obj(vec![("pw", secret("c"))]))]);
        let planned = obj(vec![("o", Value::Unknown(Type::Dynamic))]);
        let out = planned.with_marks_of(&config);
        let o = &out.as_map().expect("object")["o"];
        assert!(o.is_sensitive() && o.is_unknown());
        // A marked unknown in the config marks the known value it became.
        let config = obj(vec![("pw", Value::Unknown(Type::String).mark_sensitive())]);
        let planned = obj(vec![("pw", s("c"))]);
        assert_eq!(
            planned.with_marks_of(&config).marked_paths(),
            vec![vec![Key("pw".into())]]
        );
    }

    #[test]
    fn a_mark_inside_a_set_hides_the_set() {
        let config = Value::set_of(Type::String, vec![secret("a"), s("b")]);
        assert_eq!(config.marked_paths(), vec![Vec::<PathStep>::new()]);
        let planned = Value::set_of(Type::String, vec![s("a"), s("b")]);
        assert!(planned.with_marks_of(&config).is_sensitive());
    }

    #[test]
    fn a_wholly_marked_source_marks_the_whole_and_keeps_inner_marks() {
        let config = obj(vec![("a", secret("x"))]).mark_sensitive();
        let planned = obj(vec![("a", s("x")), ("b", s("y"))]);
        let out = planned.with_marks_of(&config);
        assert!(out.is_sensitive());
        let (inner, _) = out.unmark();
        assert!(inner.as_map().expect("object")["a"].is_sensitive());
    }

    #[test]
    fn a_derived_scalar_of_a_marked_structure_is_hidden_and_nulls_are_not() {
        let config = obj(vec![("data", obj(vec![("pw", secret("c"))]))]);
        let planned = obj(vec![("data", s("{\"pw\":\"c\"}"))]);
        assert!(planned.with_marks_of(&config).as_map().expect("object")["data"].is_sensitive());
        let planned = obj(vec![("data", Value::NULL)]);
        assert!(!planned.with_marks_of(&config).contains_sensitive());
    }

    #[test]
    fn unmarked_sources_and_missing_paths_change_nothing() {
        let planned = obj(vec![("a", s("x"))]);
        assert_eq!(
            planned.clone().with_marks_of(&obj(vec![("a", s("x"))])),
            planned
        );
        let config = obj(vec![("gone", secret("x"))]);
        assert_eq!(planned.clone().with_marks_of(&config), planned);
        assert_eq!(planned.clone().mark_path(&[Key("gone".into())]), planned);
    }

    #[test]
    fn marks_already_there_stay() {
        let planned = obj(vec![("a", secret("x")), ("b", s("y"))]);
        let config = obj(vec![("b", secret("y"))]);
        assert_eq!(
            planned.with_marks_of(&config).marked_paths(),
            vec![vec![Key("a".into())], vec![Key("b".into())]]
        );
    }

    #[test]
    fn marks_cover_by_path_or_enclosing_path() {
        let inner = obj(vec![("o", obj(vec![("pw", secret("c")), ("a", s("1"))]))]);
        let outer = obj(vec![(
            "o",
            obj(vec![("pw", s("c")), ("a", s("1"))]).mark_sensitive(),
        )]);
        let none = obj(vec![("o", obj(vec![("pw", s("c")), ("a", s("1"))]))]);
        assert!(outer.marks_cover(&inner));
        assert!(!inner.marks_cover(&outer));
        assert!(inner.marks_cover(&none) && inner.marks_cover(&inner));
        assert!(!none.marks_cover(&inner));
    }

    #[test]
    fn marked_paths_round_trip_through_mark_path() {
        let v = obj(vec![
            ("l", Value::list_of(vec![s("a"), secret("b")])),
            ("t", Value::Tuple(vec![obj(vec![("k", secret("c"))])])),
            ("s", Value::set_of(Type::String, vec![secret("d")])),
        ]);
        let paths = v.marked_paths();
        let (mut plain, _) = v.clone().unmark_deep();
        for p in &paths {
            plain = plain.mark_path(p);
        }
        assert_eq!(plain.marked_paths(), paths);
        // Through an unknown: the unknown is marked.
        let u = obj(vec![("o", Value::Unknown(Type::Dynamic))]);
        let out = u.mark_path(&[Key("o".into()), Key("pw".into())]);
        assert!(out.as_map().expect("object")["o"].is_sensitive());
    }
}
