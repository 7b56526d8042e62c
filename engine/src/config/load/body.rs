//! The body of a module file: which top-level blocks it holds, each
//! decoded by its own method (`blocks.rs`), and the `posture` settings
//! block.

use super::*;

impl Decoder<'_> {
    pub(super) fn module_body(
        &mut self,
        body: &Body,
        m: &mut Module,
        seen: &mut HashMap<String, Span>,
    ) {
        let (_, blocks) = self.content(
            body,
            &[],
            &[
                "posture", "provider", "cluster", "variable", "locals", "output", "resource",
                "data", "module",
            ],
            "here",
        );
        for b in blocks {
            let span = self.span(b.span());
            match b.ident.value().as_str() {
                "posture" => self.settings(b, m),
                "cluster" => {
                    let Some(l) = self.labels(b, 1, "the cluster name") else {
                        continue;
                    };
                    if self.duplicate(seen, format!("cluster.{}", l[0]), "cluster", span) {
                        continue;
                    }
                    let (attrs, _) = self.content(
                        &b.body,
                        &[
                            "kubeconfig",
                            "context",
                            "labels",
                            "field_manager",
                            "for_each",
                        ],
                        &[],
                        "in a cluster block",
                    );
                    let mut exprs: BTreeMap<String, Expr> = attrs
                        .iter()
                        .map(|(k, a)| (k.clone(), self.expr(&a.value)))
                        .collect();
                    let for_each = exprs.remove("for_each");
                    m.clusters.insert(
                        l[0].clone(),
                        ClusterBlock {
                            name: l[0].clone(),
                            for_each,
                            attrs: exprs,
                            span,
                        },
                    );
                }
                "provider" => {
                    let Some(l) = self.labels(b, 1, "the provider name") else {
                        continue;
                    };
                    let mut body = b.body.clone();
                    let alias = body.remove_attribute("alias").and_then(|a| {
                        match crate::config::providers::parse_alias(&a.value, self.file) {
                            Ok(name) => Some((name, self.span(a.value.span()))),
                            Err(d) => {
                                self.diags.push(d);
                                None
                            }
                        }
                    });
                    let key = crate::config::providers::config_key(
                        &l[0],
                        alias.as_ref().map(|(a, _)| a.as_str()),
                    );
                    if self.duplicate(
                        seen,
                        format!("provider.{key}"),
                        "provider configuration",
                        span,
                    ) {
                        continue;
                    }
                    m.providers.insert(
                        key,
                        ProviderBlock {
                            name: l[0].clone(),
                            alias,
                            body: BodyRef {
                                file: self.file,
                                body,
                            },
                            span,
                        },
                    );
                }
                "variable" => {
                    let Some(l) = self.labels(b, 1, "the variable name") else {
                        continue;
                    };
                    if RESERVED_VARIABLE_NAMES.contains(&l[0].as_str()) {
                        self.err(
                            "Invalid variable name",
                            format!("The variable name \"{}\" is reserved.", l[0]),
                            span,
                        );
                        continue;
                    }
                    if self.duplicate(seen, format!("var.{}", l[0]), "variable", span) {
                        continue;
                    }
                    if let Some(v) = self.variable(b, &l[0], span) {
                        m.variables.insert(l[0].clone(), v);
                    }
                }
                "locals" => {
                    for s in b.body.iter() {
                        if let Structure::Block(inner) = s {
                            let bspan = self.span(inner.ident.span());
                            self.err(
                                "Unsupported block type",
                                format!("Blocks of type \"{}\" are not expected in a locals block: locals holds only NAME = EXPRESSION entries.", inner.ident.value().as_str()),
                                bspan,
                            );
                        }
                        if let Structure::Attribute(a) = s {
                            let name = a.key.value().as_str().to_string();
                            let aspan = self.span(a.key.span());
                            if self.duplicate(seen, format!("local.{name}"), "local value", aspan) {
                                continue;
                            }
                            m.locals.insert(
                                name.clone(),
                                Local {
                                    name,
                                    value: self.expr(&a.value),
                                },
                            );
                        }
                    }
                }
                "output" => {
                    let Some(l) = self.labels(b, 1, "the output name") else {
                        continue;
                    };
                    if self.duplicate(seen, format!("output.{}", l[0]), "output", span) {
                        continue;
                    }
                    if let Some(o) = self.output(b, &l[0], span) {
                        m.outputs.insert(l[0].clone(), o);
                    }
                }
                kind @ ("resource" | "data") => {
                    let Some(l) = self.labels(b, 2, "the type and the name") else {
                        continue;
                    };
                    let mode = if kind == "resource" {
                        Mode::Managed
                    } else {
                        Mode::Data
                    };
                    let addr = ResourceAddr {
                        mode,
                        type_name: l[0].clone(),
                        name: l[1].clone(),
                    };
                    if self.duplicate(seen, addr.to_string(), kind, span) {
                        continue;
                    }
                    if let Some(r) = self.resource(b, addr.clone(), span) {
                        m.resources.insert(addr, r);
                    }
                }
                "module" => {
                    let Some(l) = self.labels(b, 1, "the module name") else {
                        continue;
                    };
                    if self.duplicate(seen, format!("module.{}", l[0]), "module call", span) {
                        continue;
                    }
                    if let Some(c) = self.module_call(b, &l[0], span) {
                        m.module_calls.insert(l[0].clone(), c);
                    }
                }
                _ => {}
            }
        }
    }

    pub(super) fn settings(&mut self, b: &Block, m: &mut Module) {
        let (attrs, blocks) = self.content(
            &b.body,
            &["required_version", "state_partition"],
            &["backend", "encryption"],
            "in the posture block",
        );
        if let Some(a) = attrs.get("required_version")
            && let Some(s) = self.const_string(&a.value, "required_version")
        {
            let span = self.span(a.value.span());
            m.settings.required_version = Some((s, span));
        }
        if let Some(a) = attrs.get("state_partition")
            && let Some(s) = self.const_string(&a.value, "state_partition")
        {
            m.settings.state_partition = match s.as_str() {
                "cluster" => StatePartition::Cluster,
                "none" => StatePartition::None,
                other => {
                    let span = self.span(a.value.span());
                    self.err(
                        "Invalid state_partition",
                        format!(
                            "state_partition must be \"cluster\" (one state and lock per cluster) or \"none\" (one state), not {other:?}."
                        ),
                        span,
                    );
                    StatePartition::None
                }
            };
        }
        for bb in blocks {
            let span = self.span(bb.span());
            if bb.ident.value().as_str() == "encryption" {
                if m.settings.encryption.is_some() {
                    self.err(
                        "Duplicate encryption configuration",
                        "Only one encryption block is allowed.".into(),
                        span,
                    );
                    continue;
                }
                m.settings.encryption = Some(EncryptionBlock {
                    body: BodyRef {
                        file: self.file,
                        body: bb.body.clone(),
                    },
                    span,
                });
                continue;
            }
            let Some(l) = self.labels(bb, 1, "the backend type") else {
                continue;
            };
            let Some((kind, names)) = BACKEND_KINDS.iter().find(|(k, _)| *k == l[0]) else {
                let known: Vec<String> = BACKEND_KINDS
                    .iter()
                    .map(|k| format!("\"{}\"", k.0))
                    .collect();
                self.err(
                    "Unsupported backend type",
                    format!(
                        "There is no backend type named \"{}\". Supported: {}.",
                        l[0],
                        known.join(", ")
                    ),
                    span,
                );
                continue;
            };
            if m.settings.backend.is_some() {
                self.err(
                    "Duplicate backend configuration",
                    "Only one backend block is allowed.".into(),
                    span,
                );
                continue;
            }
            let context = format!("in a {kind} backend block");
            let (battrs, _) = self.content(&bb.body, names, &[], &context);
            let mut settings = BTreeMap::new();
            for (name, a) in &battrs {
                let what = format!("backend setting {name}");
                let Some(v) = self.constant(&a.value, &Type::Dynamic, &what) else {
                    continue;
                };
                let value = if let Some(b) = v.as_bool() {
                    BackendSetting::Bool(b)
                } else if let Some(t) = v.as_str() {
                    BackendSetting::Str(t.to_string())
                } else {
                    let vspan = self.span(a.value.span());
                    self.err(
                        "Invalid backend setting",
                        format!("The backend setting {name} must be a string or a boolean."),
                        vspan,
                    );
                    continue;
                };
                settings.insert(name.clone(), (value, self.span(a.value.span())));
            }
            let path = match settings.get("path") {
                Some((BackendSetting::Str(p), _)) => Some(p.clone()),
                _ => None,
            };
            m.settings.backend = Some(Backend {
                kind: kind.to_string(),
                path,
                settings,
                span,
            });
        }
    }
}
