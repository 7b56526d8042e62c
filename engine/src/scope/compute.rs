//! Computing the nodes that are not resources nor module calls: input
//! variables (with their validations), provider settings, `cluster` blocks
//! and outputs. Split from `mod.rs`, which keeps the memo and the cycle checks.

use super::*;

impl Evaluation<'_> {
    pub(super) fn compute_var(&self, path: &ModuleInstance, name: &str) -> Value {
        let Some(t) = self.tree.descendant(&path.static_path()) else {
            return Value::NULL;
        };
        let Some(decl) = t.module.variables.get(name) else {
            return Value::NULL;
        };
        let ctx = format!("variable \"{name}\"");
        let ty = decl.ty.ty();
        let (raw, span) = if path.is_root() {
            match self.raw_vars.get(name) {
                Some(r) => (
                    Some(r.value.clone()),
                    match &r.source {
                        crate::config::vars::VarSource::File(s) => Some(*s),
                        _ => Some(decl.span),
                    },
                ),
                None => (None, Some(decl.span)),
            }
        } else {
            let (parent, (call, _key)) = split_last(path);
            let ptree = self.tree.descendant(&parent.static_path());
            let input = ptree
                .and_then(|pt| pt.module.module_calls.get(&call))
                .and_then(|c| c.inputs.get(name));
            match input {
                Some(e) => {
                    // The call's expansion sets each instance's each/count binding;
                    // make sure it ran in this evaluation.
                    if !self.instance_bindings.borrow().contains_key(path) {
                        self.module_instance_keys(&parent, &call);
                    }
                    let binding = self.instance_bindings.borrow().get(path).cloned();
                    let b: Vec<(String, Value)> = binding.into_iter().collect();
                    (
                        Some(self.eval_expr(&parent, e, &b, Some(format!("module \"{call}\"")))),
                        Some(e.span()),
                    )
                }
                None => (None, Some(decl.span)),
            }
        };
        // For a non-nullable variable, null means "use the default".
        let raw = match raw {
            Some(v) if v.is_null() && !decl.nullable => None,
            other => other,
        };
        let value = match raw {
            Some(v) => v,
            None => match &decl.default {
                Some(d) => self.eval_expr(path, d, &[], Some(ctx.clone())),
                None => {
                    if self.strictness == Strictness::Validate || !path.is_root() {
                        return Value::Unknown(ty).mark_if(decl.sensitive);
                    }
                    self.diags.borrow_mut().push(
                        Diagnostic::error(
                            "No value for required variable",
                            format!("The root module input variable \"{name}\" is not set, and has no default value. Use a --var or --var-file command line argument, a POSTURE_VAR_{name} environment variable, or a *.auto.vars.hcl file to provide a value for this variable."),
                        )
                        .at(decl.span),
                    );
                    return Value::Unknown(ty);
                }
            },
        };
        let value = match decl.ty.apply(value) {
            Ok(v) => v,
            Err(e) => {
                self.diags.borrow_mut().push(
                    Diagnostic::error(
                        "Invalid value for input variable",
                        format!("The given value is not suitable for var.{name}, which is declared as {}: {e}.", decl.ty.ty()),
                    )
                    .at_opt(span)
                    .in_context(ctx.clone()),
                );
                return Value::Unknown(ty);
            }
        };
        if value.is_null() && !decl.nullable {
            self.diags.borrow_mut().push(
                Diagnostic::error("Required variable not set", format!("Unsuitable value for var.{name}: this variable is not nullable, and null was given."))
                    .at_opt(span),
            );
            return Value::Unknown(ty);
        }
        let value = value.mark_if(decl.sensitive);
        for v in &decl.validations {
            // The condition sees this variable's value as var.NAME.
            self.memo.borrow_mut().insert(
                Node::Var(path.clone(), name.to_string()),
                Arc::new(value.clone()),
            );
            let ok = self.eval_expr(path, &v.condition, &[], Some(ctx.clone()));
            match ok.unmarked() {
                Value::Bool(true) | Value::Unknown(_) => {}
                Value::Bool(false) => {
                    let msg = self.eval_expr(path, &v.error_message, &[], Some(ctx.clone()));
                    let msg = if msg.is_sensitive() {
                        "(sensitive value)".to_string()
                    } else {
                        msg.as_str().unwrap_or("").to_string()
                    };
                    self.diags.borrow_mut().push(
                        Diagnostic::error(
                            "Invalid value for variable",
                            format!(
                                "{msg}\n\nThis was checked by the validation rule at {}.",
                                self.describe_span(v.condition.span())
                            ),
                        )
                        .at_opt(span)
                        .in_context(ctx.clone()),
                    );
                }
                _ => {
                    self.diags.borrow_mut().push(
                        Diagnostic::error(
                            "Invalid validation result",
                            "The condition must produce true or false.",
                        )
                        .at(v.condition.span()),
                    );
                }
            }
        }
        value
    }

    /// The settings of provider `name` from its `provider` block in the root
    /// module, decoded against `schema` (an object of nulls without a block).
    pub fn provider_settings(&self, name: &str, schema: &crate::schema::Schema) -> Value {
        let Some(b) = self.tree.module.providers.get(name) else {
            return Value::Object(
                schema
                    .attributes
                    .iter()
                    .map(|(k, a)| (k.clone(), Value::Null(a.ty.clone())))
                    .collect(),
            );
        };
        let scope = ModuleScope {
            eval: self,
            path: ModuleInstance::root(),
        };
        let mut ev = Evaluator::new(
            b.body.file,
            self.sources.text(b.body.file),
            &scope,
            &self.root_dir,
            &crate::lang::eval::FileTemplates,
        )
        .pure_only(self.pure_only)
        .with_context(Some(format!("provider \"{name}\"")));
        let v = crate::schema::decode_body(&mut ev, &b.body.body, schema, b.span);
        self.push_diags(ev.take_diags());
        v
    }

    pub(super) fn compute_cluster(&self, path: &ModuleInstance, name: &str) -> Value {
        let Some(t) = self.tree.descendant(&path.static_path()) else {
            return Value::NULL;
        };
        let Some(c) = t.module.clusters.get(name) else {
            return Value::NULL;
        };
        let ctx = format!("cluster \"{name}\"");
        let one = |id: String, binding: Option<(String, Value)>| -> Value {
            let b: Vec<(String, Value)> = binding.into_iter().collect();
            let get = |k: &str, ty: &Type| -> Value {
                match c.attrs.get(k) {
                    Some(e) => {
                        let v = self.eval_expr(path, e, &b, Some(ctx.clone()));
                        match convert::convert(v, ty) {
                            Ok(v) => v,
                            Err(err) => {
                                self.diags.borrow_mut().push(
                                    Diagnostic::error(
                                        "Incorrect attribute value type",
                                        format!(
                                            "Inappropriate value for attribute \"{k}\": {err}."
                                        ),
                                    )
                                    .at(e.span())
                                    .in_context(ctx.clone()),
                                );
                                Value::Unknown(ty.clone())
                            }
                        }
                    }
                    None => Value::Null(ty.clone()),
                }
            };
            let mut kubeconfig = get("kubeconfig", &Type::String);
            if let Some(p) = kubeconfig.as_str() {
                // Relative to the module, like file().
                let full = t.module.dir.join(p);
                kubeconfig = Value::from(full.display().to_string());
            }
            let labels = match get("labels", &Type::Map(Box::new(Type::String))) {
                v if v.is_null() => Value::Map(Type::String, BTreeMap::new()),
                v => v,
            };
            let field_manager = match get("field_manager", &Type::String) {
                v if v.is_null() => Value::from("posture"),
                v => v,
            };
            Value::Object(BTreeMap::from([
                ("name".to_string(), Value::from(id)),
                ("kubeconfig".to_string(), kubeconfig),
                ("context".to_string(), get("context", &Type::String)),
                ("labels".to_string(), labels),
                ("field_manager".to_string(), field_manager),
            ]))
        };
        if c.for_each.is_none() {
            return one(name.to_string(), None);
        }
        let exp = self.expansion_of(&Node::Cluster(path.clone(), name.to_string()));
        match &*exp {
            expand::Expansion::ForEach(_) | expand::Expansion::Single => {}
            _ => return Value::Unknown(Type::Dynamic),
        }
        Value::Object(
            exp.instances()
                .into_iter()
                .map(|(k, b)| {
                    let key = match k {
                        InstanceKey::Str(s) => s,
                        other => other.to_string(),
                    };
                    (key.clone(), one(key, b))
                })
                .collect(),
        )
    }

    pub(super) fn compute_output(&self, path: &ModuleInstance, name: &str) -> Value {
        let Some(t) = self.tree.descendant(&path.static_path()) else {
            return Value::NULL;
        };
        let Some(o) = t.module.outputs.get(name) else {
            return Value::NULL;
        };
        let ctx = format!("output \"{name}\"");
        for d in &o.depends_on {
            self.eval_expr(path, d, &[], Some(ctx.clone()));
        }
        let v = self.eval_expr(path, &o.value, &[], Some(ctx.clone()));
        if v.contains_sensitive() && !o.sensitive {
            self.diags.borrow_mut().push(
                Diagnostic::error(
                    "Output refers to sensitive values",
                    "To reduce the risk of accidentally exporting sensitive data, output values that refer to sensitive values must be declared sensitive: add sensitive = true to this output block.",
                )
                .at(o.value.span())
                .in_context(ctx),
            );
        }
        v.mark_if(o.sensitive)
    }
}
