//! One top-level block each: `variable`, `output`, `resource`/`data` and
//! `module`.

use super::*;

impl Decoder<'_> {
    pub(super) fn variable(&mut self, b: &Block, name: &str, span: Span) -> Option<Variable> {
        let (attrs, blocks) = self.content(
            &b.body,
            &["type", "default", "description", "sensitive", "nullable"],
            &["validation"],
            "in a variable block",
        );
        let ty = match attrs.get("type") {
            Some(a) => match typeexpr::parse(self.file, self.src, &a.value) {
                Ok(t) => t,
                Err(d) => {
                    self.diags.push(d);
                    TypeConstraint::Plain(Type::Dynamic)
                }
            },
            None => TypeConstraint::Plain(Type::Dynamic),
        };
        let default = attrs.get("default").map(|a| self.expr(&a.value));
        if let Some(d) = &default {
            // A default must be a constant of the declared type.
            if let Some(v) = self.constant(&d.expr, &Type::Dynamic, "a variable default")
                && let Err(e) = ty.apply(v)
            {
                self.err(
                        "Invalid default value for variable",
                        format!("This default value is not compatible with the variable's type constraint: {e}."),
                        d.span(),
                    );
            }
        }
        let description = attrs.get("description").and_then(|a| {
            let e = a.value.clone();
            self.const_string(&e, "description")
        });
        let sensitive = attrs.get("sensitive").and_then(|a| {
            let e = a.value.clone();
            self.const_bool(&e, "sensitive")
        });
        let nullable = attrs.get("nullable").and_then(|a| {
            let e = a.value.clone();
            self.const_bool(&e, "nullable")
        });
        let mut validations = Vec::new();
        for vb in blocks {
            let vspan = self.span(vb.span());
            let (va, _) = self.content(
                &vb.body,
                &["condition", "error_message"],
                &[],
                "in a validation block",
            );
            match (va.get("condition"), va.get("error_message")) {
                (Some(c), Some(m)) => validations.push(Validation {
                    condition: self.expr(&c.value),
                    error_message: self.expr(&m.value),
                }),
                _ => self.err(
                    "Missing required argument",
                    "A validation block needs both \"condition\" and \"error_message\".".into(),
                    vspan,
                ),
            }
        }
        Some(Variable {
            name: name.to_string(),
            ty,
            default,
            description,
            validations,
            sensitive: sensitive.unwrap_or(false),
            nullable: nullable.unwrap_or(true),
            span,
        })
    }

    pub(super) fn output(&mut self, b: &Block, name: &str, span: Span) -> Option<Output> {
        let (attrs, _) = self.content(
            &b.body,
            &["value", "description", "sensitive", "depends_on"],
            &[],
            "in an output block",
        );
        let Some(value) = attrs.get("value") else {
            self.err(
                "Missing required argument",
                "The argument \"value\" is required, but no definition was found.".into(),
                span,
            );
            return None;
        };
        let description = attrs.get("description").and_then(|a| {
            let e = a.value.clone();
            self.const_string(&e, "description")
        });
        let sensitive = attrs.get("sensitive").and_then(|a| {
            let e = a.value.clone();
            self.const_bool(&e, "sensitive")
        });
        let depends_on = attrs
            .get("depends_on")
            .map(|a| self.references_list(&a.value))
            .unwrap_or_default();
        Some(Output {
            name: name.to_string(),
            value: self.expr(&value.value),
            description,
            sensitive: sensitive.unwrap_or(false),
            depends_on,
            span,
        })
    }

    pub(super) fn references_list(&mut self, e: &Expression) -> Vec<Expr> {
        match e {
            Expression::Array(items) => {
                let mut out = Vec::new();
                for it in items.iter() {
                    if matches!(it, Expression::Traversal(_) | Expression::Variable(_)) {
                        out.push(self.expr(it));
                    } else {
                        let span = self.span(it.span());
                        self.err(
                            "Invalid depends_on reference",
                            "References in depends_on must be to a whole resource, data source or module, like posture_data.x or module.app.".into(),
                            span,
                        );
                    }
                }
                out
            }
            other => {
                let span = self.span(other.span());
                self.err(
                    "Invalid depends_on",
                    "depends_on must be a list of references, like [posture_data.x].".into(),
                    span,
                );
                Vec::new()
            }
        }
    }

    pub(super) fn resource(
        &mut self,
        b: &Block,
        addr: ResourceAddr,
        span: Span,
    ) -> Option<Resource> {
        let mut body = b.body.clone();
        let mut take = |n: &str| body.remove_attribute(n);
        let count = take("count");
        let for_each = take("for_each");
        let depends_on = take("depends_on");
        let provider = take("provider");
        let lifecycle_blocks = if addr.mode == Mode::Managed {
            body.remove_blocks("lifecycle")
        } else {
            Vec::new()
        };
        for a in [&count, &for_each, &depends_on, &provider]
            .into_iter()
            .flatten()
        {
            let name = a.key.value().as_str();
            if b.body
                .iter()
                .filter_map(Structure::as_attribute)
                .filter(|x| x.key.value().as_str() == name)
                .count()
                > 1
            {
                let s = self.span(a.key.span());
                self.err("Attribute redefined", format!("The argument \"{name}\" was already set. Each argument may be set only once."), s);
            }
        }
        if let (Some(c), Some(_)) = (&count, &for_each) {
            let s = self.span(c.key.span());
            self.err(
                "Invalid combination of \"count\" and \"for_each\"",
                "The \"count\" and \"for_each\" meta-arguments are mutually-exclusive, only one should be used to be explicit about the number of resources to be created.".into(),
                s,
            );
        }
        let mut lifecycle = Lifecycle::default();
        if lifecycle_blocks.len() > 1 {
            let s = self.span(lifecycle_blocks[1].span());
            self.err(
                "Duplicate lifecycle block",
                "Only one lifecycle block is allowed in a resource.".into(),
                s,
            );
        }
        if let Some(lb) = lifecycle_blocks.first() {
            let (la, _) = self.content(
                &lb.body,
                &[
                    "create_before_destroy",
                    "prevent_destroy",
                    "ignore_changes",
                    "replace_triggered_by",
                ],
                &[],
                "in a lifecycle block",
            );
            if let Some(a) = la.get("create_before_destroy") {
                let e = a.value.clone();
                lifecycle.create_before_destroy = self
                    .const_bool(&e, "create_before_destroy")
                    .unwrap_or(false);
            }
            if let Some(a) = la.get("prevent_destroy") {
                let e = a.value.clone();
                lifecycle.prevent_destroy = self.const_bool(&e, "prevent_destroy").unwrap_or(false);
            }
            if let Some(a) = la.get("ignore_changes") {
                lifecycle.ignore_changes = match &a.value {
                    Expression::Variable(v) if v.value().as_str() == "all" => IgnoreChanges::All,
                    other => IgnoreChanges::Paths(self.references_list(other)),
                };
            }
            if let Some(a) = la.get("replace_triggered_by") {
                lifecycle.replace_triggered_by = self.references_list(&a.value);
            }
        }
        let depends_on = depends_on
            .map(|a| self.references_list(&a.value))
            .unwrap_or_default();
        Some(Resource {
            addr,
            count: count.map(|a| self.expr(&a.value)),
            for_each: for_each.map(|a| self.expr(&a.value)),
            depends_on,
            lifecycle,
            inherited_providers: Vec::new(),
            provider: provider.and_then(|a| {
                crate::config::providers::parse_ref(&a.value, self.file)
                    .map_err(|d| self.diags.push(d))
                    .ok()
            }),
            body: BodyRef {
                file: self.file,
                body,
            },
            span,
        })
    }

    pub(super) fn module_call(&mut self, b: &Block, name: &str, span: Span) -> Option<ModuleCall> {
        let mut source = None;
        let mut count = None;
        let mut for_each = None;
        let mut depends_on = Vec::new();
        let mut inputs = BTreeMap::new();
        let mut providers = Vec::new();
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let key = a.key.value().as_str();
                    let aspan = self.span(a.key.span());
                    let dup = match key {
                        "source" => source.replace(a.value.clone()).is_some(),
                        "count" => count.replace(self.expr(&a.value)).is_some(),
                        "for_each" => for_each.replace(self.expr(&a.value)).is_some(),
                        "depends_on" => {
                            depends_on = self.references_list(&a.value);
                            false
                        }
                        "providers" => {
                            match crate::config::providers::parse_mappings(
                                &a.value, self.file, self.src,
                            ) {
                                Ok(m) => providers = m,
                                Err(d) => self.diags.extend(d),
                            }
                            false
                        }
                        "version" => {
                            self.err(
                                "Unsupported argument",
                                "\"version\" is not supported: posture modules are local directories.".to_string(),
                                aspan,
                            );
                            false
                        }
                        _ => inputs
                            .insert(key.to_string(), self.expr(&a.value))
                            .is_some(),
                    };
                    if dup {
                        self.err("Attribute redefined", format!("The argument \"{key}\" was already set. Each argument may be set only once."), aspan);
                    }
                }
                Structure::Block(bb) => {
                    let bspan = self.span(bb.ident.span());
                    self.err(
                        "Unsupported block type",
                        format!(
                            "Blocks of type \"{}\" are not expected in a module block.",
                            bb.ident.value().as_str()
                        ),
                        bspan,
                    );
                }
            }
        }
        if let (Some(c), Some(_)) = (&count, &for_each) {
            self.err(
                "Invalid combination of \"count\" and \"for_each\"",
                "The \"count\" and \"for_each\" meta-arguments are mutually-exclusive.".into(),
                c.span(),
            );
        }
        let Some(source_expr) = source else {
            self.err(
                "Missing required argument",
                "The argument \"source\" is required, but no definition was found.".into(),
                span,
            );
            return None;
        };
        let source = self.const_string(&source_expr, "source")?;
        if !(source.starts_with("./") || source.starts_with("../")) {
            let s = self.span(source_expr.span());
            self.err(
                "Invalid module source",
                format!("The module source {source:?} is not a local path. posture supports local modules only: start the source with \"./\" or \"../\"."),
                s,
            );
            return None;
        }
        Some(ModuleCall {
            name: name.to_string(),
            source_dir: self.dir.join(&source),
            source,
            count,
            for_each,
            inputs,
            depends_on,
            providers,
            span,
        })
    }
}
