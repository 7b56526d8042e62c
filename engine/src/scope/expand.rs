//! `count` and `for_each`: expanding resources and module calls into instances.

use super::{Evaluation, Node, Strictness};
use crate::addrs::{InstanceKey, ModuleInstance, ResourceAddr};
use crate::config::Expr;
use crate::diag::Diagnostic;
use crate::lang::eval::Evaluator;

use crate::schema::decode_body;
use crate::value::{Type, Value, convert};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The most instances one resource or module call may expand to by
/// `count` or `for_each` (docs/language.md, "Limits"): Terraform has no
/// bound, but every instance costs memory, and `count = 4294967297` must be
/// a diagnostic, not an abort.
pub const MAX_INSTANCES: usize = 1_000_000;

fn too_many(what: &str, n: &str) -> String {
    format!(
        "The given \"{what}\" argument value is unsuitable: it asks for {n} instances, and posture expands a resource or module to at most {MAX_INSTANCES} instances."
    )
}

/// The instances of a resource or module call.
#[derive(Debug, Clone)]
pub enum Expansion {
    /// Neither count nor for_each: one instance.
    Single,
    /// `count = N`
    Count(usize),
    /// `for_each`: keys and their `each.value`.
    ForEach(BTreeMap<String, Value>),
    /// Not known yet (validate only), or invalid (already reported).
    Unknown,
}

impl Expansion {
    /// Instance keys with the binding (`each` or `count`) each one sees.
    pub fn instances(&self) -> Vec<(InstanceKey, Option<(String, Value)>)> {
        match self {
            Expansion::Single => vec![(InstanceKey::None, None)],
            Expansion::Count(n) => (0..*n)
                .map(|i| {
                    let b = Value::Object(BTreeMap::from([(
                        "index".to_string(),
                        Value::from(i as i64),
                    )]));
                    (InstanceKey::Int(i as i64), Some(("count".to_string(), b)))
                })
                .collect(),
            Expansion::ForEach(m) => m
                .iter()
                .map(|(k, v)| {
                    let b = Value::Object(BTreeMap::from([
                        ("key".to_string(), Value::from(k.as_str())),
                        ("value".to_string(), v.clone()),
                    ]));
                    (InstanceKey::Str(k.clone()), Some(("each".to_string(), b)))
                })
                .collect(),
            Expansion::Unknown => Vec::new(),
        }
    }
}

impl Evaluation<'_> {
    /// The instances of `site` (a [`Node::Resource`], [`Node::ModuleCall`]
    /// or [`Node::Cluster`]), its `count` / `for_each` evaluated once and
    /// kept until something it read changes (as a node's value is).
    pub(crate) fn expansion_of(&self, site: &Node) -> Arc<Expansion> {
        let key = Node::Expansion(Box::new(site.clone()));
        if let Some(reader) = self.stack.borrow().last() {
            self.dependents
                .borrow_mut()
                .entry(key.clone())
                .or_default()
                .insert(reader.clone());
        }
        if let Some(e) = self.expansions.borrow().get(&key) {
            if self.failed.borrow().contains(&key) {
                self.failed_reads.set(self.failed_reads.get() + 1);
            }
            return Arc::clone(e);
        }
        let on_stack = self.stack.borrow().iter().position(|n| *n == key);
        if let Some(pos) = on_stack {
            self.report_cycle(pos, &key);
            self.failed_reads.set(self.failed_reads.get() + 1);
            return Arc::new(Expansion::Unknown);
        }
        let before = self.error_count();
        self.stack.borrow_mut().push(key.clone());
        let e = Arc::new(self.compute_expansion(site));
        self.stack.borrow_mut().pop();
        if self.error_count() > before {
            self.failed.borrow_mut().insert(key.clone());
            self.failed_reads.set(self.failed_reads.get() + 1);
        }
        self.expansions.borrow_mut().insert(key, Arc::clone(&e));
        e
    }

    fn compute_expansion(&self, site: &Node) -> Expansion {
        let module = |p: &ModuleInstance| self.tree.descendant(&p.static_path()).map(|t| &t.module);
        match site {
            Node::Resource(p, a) => match module(p).and_then(|m| m.resources.get(a)) {
                Some(r) => self.expansion(p, r.count.as_ref(), r.for_each.as_ref(), &r.describe()),
                None => Expansion::Unknown,
            },
            Node::ModuleCall(p, n) => match module(p).and_then(|m| m.module_calls.get(n)) {
                Some(c) => {
                    let ctx = format!("module \"{n}\"");
                    self.expansion(p, c.count.as_ref(), c.for_each.as_ref(), &ctx)
                }
                None => Expansion::Unknown,
            },
            Node::Cluster(p, n) => match module(p).and_then(|m| m.clusters.get(n)) {
                Some(c) => {
                    let ctx = format!("cluster \"{n}\"");
                    self.expansion(p, None, c.for_each.as_ref(), &ctx)
                }
                None => Expansion::Unknown,
            },
            _ => Expansion::Single,
        }
    }

    /// Evaluates `count` / `for_each` of a resource or module call.
    fn expansion(
        &self,
        path: &ModuleInstance,
        count: Option<&Expr>,
        for_each: Option<&Expr>,
        ctx: &str,
    ) -> Expansion {
        if let Some(c) = count {
            let mark = self.taint_mark();
            let v = self.eval_expr(path, c, &[], Some(ctx.to_string()));
            if self.tainted_since(mark) {
                // Already reported; an unknown here is its consequence.
                return Expansion::Unknown;
            }
            let (v, _) = v.unmark();
            if v.is_unknown() {
                if self.strictness == Strictness::Full {
                    self.push_diags(
                        Diagnostic::error(
                            "Invalid count argument",
                            "The \"count\" value depends on values that cannot be determined until apply, so posture cannot predict how many instances will be created. Use literal values or values known at plan time.",
                        )
                        .at(c.span())
                        .in_context(ctx)
                        .into(),
                    );
                }
                return Expansion::Unknown;
            }
            return match convert::convert(v, &Type::Number) {
                Ok(Value::Number(n)) => match n.to_i64() {
                    Some(i) if i >= 0 && i as u64 <= MAX_INSTANCES as u64 => {
                        Expansion::Count(i as usize)
                    }
                    // Whole and beyond the bound, even beyond i64 (`1e400`).
                    _ if n.is_integer() && n.signum() > 0 => {
                        self.push_diags(
                            Diagnostic::error(
                                "Invalid count argument",
                                too_many("count", &n.to_string()),
                            )
                            .at(c.span())
                            .in_context(ctx)
                            .into(),
                        );
                        Expansion::Unknown
                    }
                    _ => {
                        self.push_diags(
                            Diagnostic::error("Invalid count argument", "The given \"count\" argument value is unsuitable: must be a whole number, greater than or equal to zero.")
                                .at(c.span())
                                .in_context(ctx)
                                .into(),
                        );
                        Expansion::Unknown
                    }
                },
                Ok(Value::Null(_)) | Err(_) | Ok(_) => {
                    self.push_diags(
                        Diagnostic::error("Invalid count argument", "The given \"count\" argument value is unsuitable: a whole number is required.")
                            .at(c.span())
                            .in_context(ctx)
                            .into(),
                    );
                    Expansion::Unknown
                }
            };
        }
        let Some(fe) = for_each else {
            return Expansion::Single;
        };
        let mark = self.taint_mark();
        let v = self.eval_expr(path, fe, &[], Some(ctx.to_string()));
        if self.tainted_since(mark) {
            // Already reported; an unknown here is its consequence.
            return Expansion::Unknown;
        }
        if v.is_sensitive() {
            self.push_diags(
                Diagnostic::error("Invalid for_each argument", "Sensitive values, or values derived from sensitive values, cannot be used as for_each arguments: they would be disclosed as resource instance keys.")
                    .at(fe.span())
                    .in_context(ctx)
                    .into(),
            );
            return Expansion::Unknown;
        }
        let bad = |what: String| {
            Diagnostic::error(
                "Invalid for_each argument",
                format!("The given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings, and you have provided a value of type {what}."),
            )
            .at(fe.span())
            .in_context(ctx)
        };
        // The keys must be known at plan time; a map's values may not be
        // (each.value is then unknown until apply), as in Terraform.
        let keys_known = match v.unmarked() {
            Value::Map(_, _) | Value::Object(_) => true,
            Value::Set(_, items) => items.iter().all(Value::is_wholly_known),
            other => other.is_wholly_known(),
        };
        if !keys_known {
            if self.strictness == Strictness::Full {
                self.push_diags(
                    Diagnostic::error(
                        "Invalid for_each argument",
                        "The \"for_each\" value depends on values that cannot be determined until apply, so posture cannot predict how many instances will be created. Use keys that are known at plan time (for example from variables), and values that may be known only after apply.",
                    )
                    .at(fe.span())
                    .in_context(ctx)
                    .into(),
                );
            }
            return Expansion::Unknown;
        }
        let size = v
            .as_seq()
            .map(<[Value]>::len)
            .or_else(|| v.as_map().map(BTreeMap::len));
        if let Some(n) = size.filter(|n| *n > MAX_INSTANCES) {
            self.push_diags(
                Diagnostic::error(
                    "Invalid for_each argument",
                    too_many("for_each", &n.to_string()),
                )
                .at(fe.span())
                .in_context(ctx)
                .into(),
            );
            return Expansion::Unknown;
        }
        match v {
            Value::Map(_, m) | Value::Object(m) => Expansion::ForEach(m),
            Value::Set(et, items) => {
                if et != Type::String && et != Type::Dynamic {
                    self.push_diags(bad(format!("set of {}", et.friendly_name())).into());
                    return Expansion::Unknown;
                }
                let mut out = BTreeMap::new();
                for it in items {
                    match it.as_str() {
                        Some(s) => {
                            out.insert(s.to_string(), it.clone());
                        }
                        None => {
                            self.push_diags(
                                Diagnostic::error("Invalid for_each set argument", "The given \"for_each\" argument value is unsuitable: \"for_each\" sets must not contain null values.")
                                    .at(fe.span())
                                    .in_context(ctx)
                                    .into(),
                            );
                            return Expansion::Unknown;
                        }
                    }
                }
                Expansion::ForEach(out)
            }
            Value::Null(_) => {
                self.push_diags(
                    Diagnostic::error("Invalid for_each argument", "The given \"for_each\" argument value is null. A map, or set of strings is allowed.")
                        .at(fe.span())
                        .in_context(ctx)
                        .into(),
                );
                Expansion::Unknown
            }
            other => {
                let what = match other.ty() {
                    Type::Tuple(_) => "tuple".to_string(),
                    t => t.friendly_name(),
                };
                let mut d = bad(what);
                if matches!(other, Value::Tuple(_) | Value::List(..)) {
                    d.detail.push_str(" Convert a list of strings with toset(...), or build a map with a for expression.");
                }
                self.push_diags(d.into());
                Expansion::Unknown
            }
        }
    }

    /// The schema of a resource's type, or a diagnostic naming the type.
    pub fn resource_schema(&self, r: &crate::config::Resource) -> Option<crate::schema::Schema> {
        let addr = &r.addr;
        let schema = self.schemas.schema(addr.mode, &addr.type_name);
        if schema.is_none() {
            let names = self.schemas.type_names(addr.mode);
            let hint = crate::diag::suggest(&addr.type_name, names.iter().map(String::as_str))
                .map(|s| format!(" Did you mean \"{s}\"?"))
                .unwrap_or_default();
            let kind = if addr.mode == crate::addrs::Mode::Data {
                "data source"
            } else {
                "resource"
            };
            self.push_diags(
                Diagnostic::error(
                    format!("Invalid {kind} type"),
                    format!(
                        "No provider supports {kind} type \"{}\".{hint}",
                        addr.type_name
                    ),
                )
                .at(r.span)
                .into(),
            );
        }
        schema
    }

    /// The instances of a resource in one module instance.
    pub fn resource_expansion(&self, path: &ModuleInstance, addr: &ResourceAddr) -> Arc<Expansion> {
        self.expansion_of(&Node::Resource(path.clone(), addr.clone()))
    }

    /// One instance's configuration decoded against its schema, with
    /// computed attributes unknown (what the provider is asked to plan).
    pub fn instance_config(
        &self,
        path: &ModuleInstance,
        addr: &ResourceAddr,
        binding: Option<(String, Value)>,
    ) -> Value {
        let Some(t) = self.tree.descendant(&path.static_path()) else {
            return Value::NULL;
        };
        let Some(r) = t.module.resources.get(addr) else {
            return Value::NULL;
        };
        let Some(schema) = self.resource_schema(r) else {
            return Value::Unknown(Type::Dynamic);
        };
        let scope = super::ModuleScope {
            eval: self,
            path: path.clone(),
        };
        let mut ev = Evaluator::new(
            r.body.file,
            self.sources.text(r.body.file),
            &scope,
            &t.module.dir,
            &crate::lang::eval::FileTemplates,
        )
        .pure_only(self.pure_only)
        .with_context(Some(r.describe()));
        if let Some((n, v)) = binding {
            ev.bind(&n, v);
        }
        let v = decode_body(&mut ev, &r.body.body, &schema, r.span);
        self.push_diags(ev.take_diags());
        if let Some(d) = super::depth::check(&v, &r.describe(), Some(r.span)) {
            self.diags.borrow_mut().push(d);
            return Value::Unknown(Type::Dynamic);
        }
        v
    }

    pub(super) fn compute_resource(&self, path: &ModuleInstance, addr: &ResourceAddr) -> Value {
        let Some(t) = self.tree.descendant(&path.static_path()) else {
            return Value::NULL;
        };
        let Some(r) = t.module.resources.get(addr) else {
            return Value::NULL;
        };
        let ctx = r.describe();
        if self.resource_schema(r).is_none() {
            return Value::Unknown(Type::Dynamic);
        }
        for d in &r.depends_on {
            self.eval_expr(path, d, &[], Some(ctx.clone()));
        }
        let expansion = self.expansion_of(&Node::Resource(path.clone(), addr.clone()));
        let overrides = self
            .overrides
            .borrow()
            .get(&(path.clone(), addr.clone()))
            .cloned()
            .unwrap_or_default();
        let value_of = |key: &InstanceKey, binding: Option<(String, Value)>| -> Value {
            match overrides.get(key) {
                Some(v) => v.clone(),
                None => self.instance_config(path, addr, binding),
            }
        };
        match &*expansion {
            Expansion::Single => value_of(&InstanceKey::None, None),
            Expansion::Count(_) => Value::Tuple(
                expansion
                    .instances()
                    .into_iter()
                    .map(|(k, b)| value_of(&k, b))
                    .collect(),
            ),
            Expansion::ForEach(_) => Value::Object(
                expansion
                    .instances()
                    .into_iter()
                    .map(|(k, b)| {
                        let v = value_of(&k, b);
                        (
                            if let InstanceKey::Str(s) = k {
                                s
                            } else {
                                String::new()
                            },
                            v,
                        )
                    })
                    .collect(),
            ),
            Expansion::Unknown => {
                // Still check the body once, with each/count unknown.
                let binding = if r.for_each.is_some() {
                    Some((
                        "each".to_string(),
                        Value::Object(BTreeMap::from([
                            ("key".to_string(), Value::Unknown(Type::String)),
                            ("value".to_string(), Value::Unknown(Type::Dynamic)),
                        ])),
                    ))
                } else if r.count.is_some() {
                    Some((
                        "count".to_string(),
                        Value::Object(BTreeMap::from([(
                            "index".to_string(),
                            Value::Unknown(Type::Number),
                        )])),
                    ))
                } else {
                    None
                };
                self.instance_config(path, addr, binding);
                Value::Unknown(Type::Dynamic)
            }
        }
    }

    pub(super) fn module_instance_keys(
        &self,
        path: &ModuleInstance,
        name: &str,
    ) -> Vec<InstanceKey> {
        let expansion = self.expansion_of(&Node::ModuleCall(path.clone(), name.to_string()));
        let mut keys = Vec::new();
        for (k, b) in expansion.instances() {
            if let Some(b) = b {
                self.set_instance_binding(path.child(name, k.clone()), b);
            }
            keys.push(k);
        }
        keys
    }

    pub(super) fn compute_module_call(&self, path: &ModuleInstance, name: &str) -> Value {
        let Some(t) = self.tree.descendant(&path.static_path()) else {
            return Value::NULL;
        };
        let Some(call) = t.module.module_calls.get(name) else {
            return Value::NULL;
        };
        let Some(child) = t.children.get(name) else {
            return Value::Unknown(Type::Dynamic);
        };
        let ctx = format!("module \"{name}\"");
        for d in &call.depends_on {
            self.eval_expr(path, d, &[], Some(ctx.clone()));
        }
        let keys = self.module_instance_keys(path, name);
        let outputs_of = |inst: ModuleInstance| -> Value {
            Value::Object(
                child
                    .module
                    .outputs
                    .keys()
                    .map(|o| (o.clone(), self.get(&Node::Output(inst.clone(), o.clone()))))
                    .collect(),
            )
        };
        if call.count.is_none() && call.for_each.is_none() {
            return outputs_of(path.child(name, InstanceKey::None));
        }
        if keys.is_empty() && (call.count.is_some() || call.for_each.is_some()) {
            // Unknown expansion, or zero instances.
            let known_empty = matches!(self.expansion_cached_empty(path, name), Some(true));
            if !known_empty {
                return Value::Unknown(Type::Dynamic);
            }
        }
        if call.count.is_some() {
            Value::Tuple(
                keys.into_iter()
                    .map(|k| outputs_of(path.child(name, k)))
                    .collect(),
            )
        } else {
            Value::Object(
                keys.into_iter()
                    .map(|k| {
                        let s = if let InstanceKey::Str(s) = &k {
                            s.clone()
                        } else {
                            String::new()
                        };
                        (s, outputs_of(path.child(name, k)))
                    })
                    .collect(),
            )
        }
    }

    fn expansion_cached_empty(&self, path: &ModuleInstance, name: &str) -> Option<bool> {
        let site = Node::ModuleCall(path.clone(), name.to_string());
        Some(match &*self.expansion_of(&site) {
            Expansion::Count(0) => true,
            Expansion::ForEach(m) => m.is_empty(),
            _ => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::builtin::Builtins;
    use crate::workspace::Workspace;
    use std::collections::BTreeMap;

    /// Each diagnostic as `summary: detail @start..end`.
    fn validate(hcl: &str) -> Vec<String> {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::write(d.path().join("main.hcl"), hcl).expect("write");
        let ws = Workspace::load(d.path(), &[], &BTreeMap::new());
        let diags = ws.validate(&Builtins);
        diags
            .0
            .iter()
            .map(|x| {
                let at = x.span.map(|s| format!("{}..{}", s.start, s.end));
                format!("{}: {} @{}", x.summary, x.detail, at.unwrap_or_default())
            })
            .collect()
    }

    #[test]
    fn count_of_4294967297_is_a_diagnostic_not_an_allocation() {
        let hcl = "resource \"posture_data\" \"x\" {\n  count = 4294967297\n  input = 1\n}\n";
        let got = validate(hcl);
        let start = hcl.find("4294967297").expect("in the text");
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].starts_with("Invalid count argument"), "{got:?}");
        assert!(got[0].contains("asks for 4294967297 instances"), "{got:?}");
        assert!(
            got[0].ends_with(&format!("@{start}..{}", start + 10)),
            "{got:?}"
        );
        let at_bound = validate(&format!(
            "resource \"posture_data\" \"x\" {{\n  count = {}\n  input = 1\n}}\n",
            super::MAX_INSTANCES + 1
        ));
        assert!(
            at_bound[0].contains("at most 1000000 instances"),
            "{at_bound:?}"
        );
        let beyond_i64 =
            validate("resource \"posture_data\" \"x\" {\n  count = 1e400\n  input = 1\n}\n");
        assert!(beyond_i64[0].contains("asks for 1000"), "{beyond_i64:?}");
        // The bound itself is allowed.
        let ok = validate(&format!(
            "resource \"posture_data\" \"x\" {{\n  count = {}\n  input = 1\n}}\n",
            super::MAX_INSTANCES
        ));
        assert!(ok.iter().all(|d| !d.contains("count")), "{ok:?}");
    }
}
