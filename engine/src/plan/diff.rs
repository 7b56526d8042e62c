//! The structured diff of one instance, in the layout Terraform users read:
//! attribute by attribute into nested objects, maps and lists, with what did
//! not change counted instead of shown, and multi-line strings diffed line
//! by line as a heredoc.
//!
//! ```text
//!       ~ manifest = {
//!           ~ data = {
//!               ~ "hosts.toml" = <<-EOT
//!                     server = "https://registry-1.docker.io"
//!                   - [host."https://mirror.a"]
//!                   + [host."https://mirror.b"]
//!                   EOT
//!                 # (1 unchanged element hidden)
//!             }
//!             # (3 unchanged attributes hidden)
//!         }
//! ```
//!
//! Values a `cluster` block made (`cluster.NAME`) show as the cluster's
//! name: their kubeconfig path and labels say nothing about the change.

use crate::value::{Value, raw_equal, render::quote};
use std::collections::BTreeMap;
use std::fmt::Write;

/// What happens to one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Create,
    Delete,
    Update,
    Keep,
}

impl Op {
    fn sym(self) -> &'static str {
        match self {
            Op::Create => "+",
            Op::Delete => "-",
            Op::Update => "~",
            Op::Keep => " ",
        }
    }

    /// The op of a value that may have changed.
    fn between(b: &Value, a: &Value) -> Op {
        match (b.is_null(), a.is_null()) {
            (true, true) => Op::Keep,
            (true, false) => Op::Create,
            (false, true) => Op::Delete,
            _ if same(b, a) => Op::Keep,
            _ => Op::Update,
        }
    }
}

fn same(b: &Value, a: &Value) -> bool {
    raw_equal(b, a) && a.is_wholly_known() && b.is_sensitive() == a.is_sensitive()
}

/// Top-level attributes shown even when unchanged, so the reader knows
/// which object it is (Terraform shows `id`, `name` and `tags`).
const IDENTIFYING: &[&str] = &["id", "name", "tags", "cluster"];

/// Renders the attributes of a resource instance at `depth` (two spaces
/// each), `op` being what happens to the instance as a whole.
pub(super) fn render_attrs(
    out: &mut String,
    before: &Value,
    after: &Value,
    op: Op,
    replace: &[String],
    depth: usize,
) {
    let d = Differ { replace };
    let empty = BTreeMap::new();
    let b = before.unmarked().as_map().unwrap_or(&empty);
    let a = after.unmarked().as_map().unwrap_or(&empty);
    d.members(out, b, a, op, Members::Attributes { top: true }, "", depth);
}

#[derive(Clone, Copy)]
enum Members {
    /// Object attributes: bare keys, `# (N unchanged attributes hidden)`.
    Attributes { top: bool },
    /// Map elements: quoted keys, `# (N unchanged elements hidden)`.
    Elements,
}

struct Differ<'a> {
    replace: &'a [String],
}

impl Differ<'_> {
    /// The lines of an object's or map's members, at `depth`.
    #[allow(clippy::too_many_arguments)]
    fn members(
        &self,
        out: &mut String,
        b: &BTreeMap<String, Value>,
        a: &BTreeMap<String, Value>,
        op: Op,
        kind: Members,
        path: &str,
        depth: usize,
    ) {
        let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
        keys.sort();
        keys.dedup();
        let mut shown = Vec::new();
        let mut hidden = 0usize;
        for k in keys {
            let bv = b.get(k).unwrap_or(&Value::NULL);
            let av = a.get(k).unwrap_or(&Value::NULL);
            let child = match op {
                Op::Create if av.is_null() => continue,
                Op::Delete if bv.is_null() => continue,
                Op::Create | Op::Delete => op,
                _ => Op::between(bv, av),
            };
            let identifying =
                matches!(kind, Members::Attributes { top: true }) && IDENTIFYING.contains(&&**k);
            // Identifying attributes stay in sight, unless null.
            let keep_in_sight = identifying && !av.is_null();
            if child == Op::Keep && !keep_in_sight {
                if !(bv.is_null() && av.is_null()) {
                    hidden += 1;
                }
                continue;
            }
            shown.push((k, bv, av, child));
        }
        let label = |k: &str| match kind {
            // `hosts.toml` in an object's data is no identifier: quoted.
            Members::Attributes { .. } => super::render::key(k),
            Members::Elements => quote(k),
        };
        let width = shown
            .iter()
            .map(|(k, ..)| label(k).chars().count())
            .max()
            .unwrap_or(0);
        let ind = " ".repeat(depth * 2);
        for (k, bv, av, child) in shown {
            let name = label(k);
            let pad = " ".repeat(width - name.chars().count());
            let child_path = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            let rhs = self.value(bv, av, child, &child_path, depth, true);
            let _ = writeln!(out, "{ind}{} {name}{pad} = {rhs}", child.sym());
        }
        if hidden > 0 {
            let what = match (kind, hidden) {
                (Members::Attributes { .. }, 1) => "attribute",
                (Members::Attributes { .. }, _) => "attributes",
                (Members::Elements, 1) => "element",
                (Members::Elements, _) => "elements",
            };
            let _ = writeln!(out, "{ind}  # ({hidden} unchanged {what} hidden)");
        }
    }

    /// The right-hand side of `key = …` (several lines for collections),
    /// for a value at `depth` whose own line the caller writes.
    fn value(
        &self,
        b: &Value,
        a: &Value,
        op: Op,
        path: &str,
        depth: usize,
        null_suffix: bool,
    ) -> String {
        let forces = if self.replace.iter().any(|r| r == path) {
            " # forces replacement"
        } else {
            ""
        };
        let null = if op == Op::Delete && null_suffix {
            " -> null"
        } else {
            ""
        };
        if b.is_sensitive() || a.is_sensitive() {
            return format!("(sensitive value){null}{forces}");
        }
        if op == Op::Update && a.is_unknown() {
            return format!("{} -> (known after apply){forces}", shown(b));
        }
        if op == Op::Create && a.is_unknown() {
            return format!("(known after apply){forces}");
        }
        if let Some(name) = cluster_label(b, a, op) {
            return format!("{name}{forces}");
        }
        let inner = " ".repeat(depth * 2 + 4);
        let close = " ".repeat(depth * 2 + 2);
        match sides(b, a) {
            (Some(Coll::Map(bm, bk)), Some(Coll::Map(am, ak))) if bk == ak => {
                if bm.is_empty() && am.is_empty() {
                    return format!("{{}}{null}{forces}");
                }
                let mut s = format!("{{{forces}\n");
                let kind = if bk {
                    Members::Elements
                } else {
                    Members::Attributes { top: false }
                };
                self.members(&mut s, bm, am, op, kind, path, depth + 2);
                let _ = write!(s, "{close}}}{null}");
                s
            }
            (Some(Coll::Seq(bs)), Some(Coll::Seq(as_))) => {
                if bs.is_empty() && as_.is_empty() {
                    return format!("[]{null}{forces}");
                }
                let mut s = format!("[{forces}\n");
                self.elements(&mut s, bs, as_, op, path, depth + 2);
                let _ = write!(s, "{close}]{null}");
                s
            }
            _ => {
                if let Some(h) = heredoc(b, a, op, &inner, &close) {
                    return format!("{h}{null}{forces}");
                }
                match op {
                    Op::Create | Op::Keep => format!("{}{forces}", shown(a)),
                    Op::Delete => format!("{}{null}{forces}", shown(b)),
                    Op::Update => format!("{} -> {}{forces}", shown(b), shown(a)),
                }
            }
        }
    }

    /// A list's, tuple's or set's elements, aligned by a longest common
    /// subsequence; an object removed where another is added is shown as
    /// that object updated.
    fn elements(
        &self,
        out: &mut String,
        b: &[Value],
        a: &[Value],
        op: Op,
        path: &str,
        depth: usize,
    ) {
        let ind = " ".repeat(depth * 2);
        let mut lines: Vec<(Op, &Value, &Value)> = Vec::new();
        match op {
            Op::Create => lines.extend(a.iter().map(|v| (Op::Create, &Value::NULL, v))),
            Op::Delete => lines.extend(b.iter().map(|v| (Op::Delete, v, &Value::NULL))),
            _ => {
                let mut pending_delete: Vec<&Value> = Vec::new();
                for step in align(b, a) {
                    match step {
                        Step::Same(i, j) => {
                            lines.extend(
                                pending_delete
                                    .drain(..)
                                    .map(|v| (Op::Delete, v, &Value::NULL)),
                            );
                            lines.push((Op::Keep, &b[i], &a[j]));
                        }
                        Step::Removed(i) => pending_delete.push(&b[i]),
                        Step::Added(j) => {
                            let paired = pending_delete.first().is_some_and(|p| {
                                p.unmarked().as_map().is_some()
                                    && a[j].unmarked().as_map().is_some()
                            });
                            if paired {
                                let p = pending_delete.remove(0);
                                lines.push((Op::Update, p, &a[j]));
                            } else {
                                lines.push((Op::Create, &Value::NULL, &a[j]));
                            }
                        }
                    }
                }
                lines.extend(
                    pending_delete
                        .into_iter()
                        .map(|v| (Op::Delete, v, &Value::NULL)),
                );
            }
        }
        let mut hidden = 0usize;
        let flush = |out: &mut String, hidden: &mut usize| {
            if *hidden > 0 {
                let what = if *hidden == 1 { "element" } else { "elements" };
                let _ = writeln!(out, "{ind}  # ({hidden} unchanged {what} hidden)");
                *hidden = 0;
            }
        };
        for (o, bv, av) in lines {
            if o == Op::Keep {
                hidden += 1;
                continue;
            }
            flush(out, &mut hidden);
            let rhs = self.value(bv, av, o, path, depth, false);
            let _ = writeln!(out, "{ind}{} {rhs},", o.sym());
        }
        flush(out, &mut hidden);
    }
}

#[derive(Clone, Copy)]
enum Coll<'v> {
    /// Members, and whether they are map elements (quoted keys).
    Map(&'v BTreeMap<String, Value>, bool),
    Seq(&'v [Value]),
}

impl Coll<'_> {
    fn of(v: &Value) -> Option<Coll<'_>> {
        match v.unmarked() {
            Value::Object(m) => Some(Coll::Map(m, false)),
            Value::Map(_, m) => Some(Coll::Map(m, true)),
            Value::List(_, s) | Value::Set(_, s) | Value::Tuple(s) => Some(Coll::Seq(s)),
            _ => None,
        }
    }

    fn empty_like(self) -> Coll<'static> {
        static EMPTY: BTreeMap<String, Value> = BTreeMap::new();
        match self {
            Coll::Map(_, quoted) => Coll::Map(&EMPTY, quoted),
            Coll::Seq(_) => Coll::Seq(&[]),
        }
    }
}

/// Both sides as collections to go into, or `None` for a leaf. A null side
/// (what a create or delete has) is an empty collection of the other's kind.
fn sides<'v>(b: &'v Value, a: &'v Value) -> (Option<Coll<'v>>, Option<Coll<'v>>) {
    match (Coll::of(b), Coll::of(a)) {
        (None, Some(x)) if b.is_null() => (Some(x.empty_like()), Some(x)),
        (Some(x), None) if a.is_null() => (Some(x), Some(x.empty_like())),
        other => other,
    }
}

/// A value on one line, cluster objects by name.
fn shown(v: &Value) -> String {
    match cluster_name(v) {
        Some(n) => quote(n),
        None => super::render::inline(v),
    }
}

/// The name of a value a `cluster` block made, recognised by its shape.
fn cluster_name(v: &Value) -> Option<&str> {
    const KEYS: [&str; 5] = ["context", "field_manager", "kubeconfig", "labels", "name"];
    match v.unmarked() {
        Value::Object(m) if m.len() == KEYS.len() && KEYS.iter().all(|k| m.contains_key(*k)) => {
            m.get("name").and_then(Value::as_str)
        }
        _ => None,
    }
}

/// How a cluster value reads in the diff, unless the change is inside the
/// cluster's settings (same name, other kubeconfig): then it is diffed.
fn cluster_label(b: &Value, a: &Value, op: Op) -> Option<String> {
    match op {
        Op::Create | Op::Keep => cluster_name(a).map(quote),
        Op::Delete => cluster_name(b).map(quote),
        Op::Update => match (cluster_name(b), cluster_name(a)) {
            (Some(x), Some(y)) if x != y => Some(format!("{} -> {}", quote(x), quote(y))),
            (Some(x), None) if !matches!(a.unmarked(), Value::Object(_)) => {
                Some(format!("{} -> {}", quote(x), shown(a)))
            }
            _ => None,
        },
    }
}

/// A multi-line string as a heredoc, diffed line by line for an update.
fn heredoc(b: &Value, a: &Value, op: Op, inner: &str, close: &str) -> Option<String> {
    fn text(v: &Value) -> Option<&str> {
        match v.unmarked() {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }
    let multi = |v| text(v).filter(|s| s.contains('\n'));
    let (x, y) = match op {
        Op::Create | Op::Keep => ("", multi(a)?),
        Op::Delete => (multi(b)?, ""),
        Op::Update => match (text(b), text(a)) {
            (Some(x), Some(y)) if x.contains('\n') || y.contains('\n') => (x, y),
            _ => return None,
        },
    };
    let mut s = String::from("<<-EOT\n");
    let body = |s: &mut String, tag: &str, line: &str| {
        // An empty line gets no trailing blanks.
        let l = format!("{inner}{tag} {line}");
        let _ = writeln!(s, "{}", if line.is_empty() { l.trim_end() } else { &l });
    };
    match op {
        Op::Create | Op::Keep => y.lines().for_each(|l| body(&mut s, " ", l)),
        Op::Delete => x.lines().for_each(|l| body(&mut s, " ", l)),
        Op::Update => {
            for ch in similar::TextDiff::from_lines(x, y).iter_all_changes() {
                let tag = match ch.tag() {
                    similar::ChangeTag::Delete => "-",
                    similar::ChangeTag::Insert => "+",
                    similar::ChangeTag::Equal => " ",
                };
                body(&mut s, tag, ch.value().trim_end_matches('\n'));
            }
        }
    }
    let _ = write!(s, "{close}  EOT");
    Some(s)
}

enum Step {
    Same(usize, usize),
    Removed(usize),
    Added(usize),
}

/// Aligns two sequences by a longest common subsequence of equal values.
fn align(b: &[Value], a: &[Value]) -> Vec<Step> {
    let (n, m) = (b.len(), a.len());
    // The table is quadratic: lists in one attribute are short (containers,
    // ports, rules); past a million cells, compare position by position.
    if n.saturating_mul(m) > 1 << 20 {
        let mut out: Vec<Step> = Vec::new();
        for k in 0..n.max(m) {
            match (k < n, k < m) {
                (true, true) if same(&b[k], &a[k]) => out.push(Step::Same(k, k)),
                (true, true) => out.extend([Step::Removed(k), Step::Added(k)]),
                (true, false) => out.push(Step::Removed(k)),
                _ => out.push(Step::Added(k)),
            }
        }
        return out;
    }
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if same(&b[i], &a[j]) {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && same(&b[i], &a[j]) {
            out.push(Step::Same(i, j));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // Removals first, so that an element replaced in place pairs
            // with its replacement.
            out.push(Step::Removed(i));
            i += 1;
        } else {
            out.push(Step::Added(j));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
