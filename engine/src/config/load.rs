//! Reading a directory of `*.hcl` files into a [`Module`], and local module
//! calls into a [`ModuleTree`].

use super::model::*;
use super::typeexpr::{self, TypeConstraint};
use crate::addrs::{Mode, ResourceAddr};
use crate::diag::{Diagnostic, Diagnostics, FileId, SourceMap, Span, suggest};
use crate::lang::eval::{Evaluator, MapScope};
use crate::lang::funcs::NoTemplates;
use crate::value::{Type, Value, convert};
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, Body, Structure};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[path = "heredoc.rs"]
mod heredoc;

/// A module and the modules it calls, by call name.
#[derive(Debug, Clone, Default)]
pub struct ModuleTree {
    /// This module.
    pub module: Module,
    /// Called modules by call name.
    pub children: BTreeMap<String, ModuleTree>,
}

impl ModuleTree {
    /// The module at a static path of call names from here.
    pub fn descendant(&self, path: &[&str]) -> Option<&ModuleTree> {
        match path.split_first() {
            None => Some(self),
            Some((first, rest)) => self.children.get(*first)?.descendant(rest),
        }
    }
}

/// Loads the module in `dir` and every local module it calls. Files are
/// added to `sources` (named relative to `dir`). Returns the tree even with
/// errors, so callers can report everything; check `has_errors()`.
pub fn load_tree(dir: &Path, sources: &mut SourceMap) -> (ModuleTree, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut stack = Vec::new();
    let tree = load_rec(dir, dir, sources, &mut diags, &mut stack);
    (tree, diags)
}

fn load_rec(
    root: &Path,
    dir: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
    stack: &mut Vec<PathBuf>,
) -> ModuleTree {
    let canon = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    stack.push(canon);
    let module = load_module(root, dir, sources, diags);
    let mut children = BTreeMap::new();
    for call in module.module_calls.values() {
        let child_canon = call
            .source_dir
            .canonicalize()
            .unwrap_or_else(|_| call.source_dir.clone());
        if stack.contains(&child_canon) {
            diags.push(
                Diagnostic::error(
                    "Module calls itself",
                    format!("Module \"{}\" has source {:?}, which is this module or one that calls it: modules cannot call themselves.", call.name, call.source),
                )
                .at(call.span),
            );
            continue;
        }
        if !call.source_dir.is_dir() {
            diags.push(
                Diagnostic::error(
                    "Module not found",
                    format!("The module directory {} does not exist. Check the module's source argument.", call.source_dir.display()),
                )
                .at(call.span),
            );
            continue;
        }
        let mut child = load_rec(root, &call.source_dir, sources, diags, stack);
        check_module_inputs(call, &child.module, diags);
        if !call.providers.is_empty() {
            super::providers::inherit(&mut child, &call.providers);
        }
        children.insert(call.name.clone(), child);
    }
    stack.pop();
    ModuleTree { module, children }
}

/// The `.hcl` files of a directory that are configuration (not variable files), sorted.
pub fn config_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            p.is_file()
                && name.ends_with(".hcl")
                && !name.ends_with(".vars.hcl")
                && !name.starts_with('.')
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Reads and parses one file; a syntax error becomes a diagnostic.
pub fn parse_file(
    root: &Path,
    path: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Option<(FileId, Body)> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Failed to read file",
                format!("The file {} could not be read: {e}.", path.display()),
            ));
            return None;
        }
    };
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let text = match super::source::decode(bytes) {
        Ok(t) => t,
        Err(bad) => {
            // The excerpt shows a printable stand-in; the span is the bad byte.
            let id = sources.add(name, path, Arc::from(bad.text.as_str()));
            let (summary, detail) = bad.summary_and_detail();
            let span = Span::new(id, bad.offset..bad.offset + bad.len);
            diags.push(Diagnostic::error(summary, detail).at(span));
            return None;
        }
    };
    let id = sources.add(name, path, Arc::from(text.as_str()));
    match heredoc::parse_body(&text) {
        Ok(body) => Some((id, body)),
        Err(heredoc::Problem::Heredoc(d, at)) => {
            diags.push((*d).at(Span::new(id, at)));
            None
        }
        Err(heredoc::Problem::Syntax(e)) => {
            let off = e.location().offset();
            let end = text[off..]
                .chars()
                .next()
                .map(|c| off + c.len_utf8())
                .unwrap_or(off);
            // hcl-edit rejects a repeated argument while parsing; report
            // it as the mistake it is rather than as a syntax error.
            let d = if e.message().contains("redefined attribute") {
                Diagnostic::error(
                    "Attribute redefined",
                    "This argument was already set earlier in the same block. Each argument may be set only once.",
                )
            } else {
                Diagnostic::error("Invalid syntax", syntax_detail(e.message()))
            };
            diags.push(d.at(Span::new(id, off..end)));
            None
        }
    }
}

fn syntax_detail(msg: &str) -> String {
    let mut m = msg.trim().to_string();
    if let Some(first) = m.get(..1) {
        m = first.to_uppercase() + &m[1..];
    }
    if !m.ends_with('.') {
        m.push('.');
    }
    m
}

fn load_module(
    root: &Path,
    dir: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Module {
    let mut m = Module {
        dir: dir.to_path_buf(),
        ..Module::default()
    };
    let files = match config_files(dir) {
        Ok(f) => f,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Failed to read directory",
                format!("The directory {} could not be read: {e}.", dir.display()),
            ));
            return m;
        }
    };
    let mut seen: HashMap<String, Span> = HashMap::new();
    for path in files {
        let Some((file, body)) = parse_file(root, &path, sources, diags) else {
            continue;
        };
        m.files.push(file);
        let src = sources.text(file).to_string();
        let mut d = Decoder {
            file,
            src: &src,
            diags,
            dir,
        };
        d.module_body(&body, &mut m, &mut seen);
    }
    m
}

fn check_module_inputs(call: &ModuleCall, child: &Module, diags: &mut Diagnostics) {
    for (name, e) in &call.inputs {
        if !child.variables.contains_key(name) {
            let hint = suggest(name, child.variables.keys().map(String::as_str))
                .map(|s| format!(" Did you mean \"{s}\"?"))
                .unwrap_or_default();
            diags.push(
                Diagnostic::error(
                    "Unsupported argument",
                    format!("An argument named \"{name}\" is not expected here: module \"{}\" declares no variable \"{name}\".{hint}", call.name),
                )
                .at(e.span()),
            );
        }
    }
    for (name, v) in &child.variables {
        if v.default.is_none() && !call.inputs.contains_key(name) {
            diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    format!("The argument \"{name}\" is required by module \"{}\", but no definition was found.", call.name),
                )
                .at(call.span),
            );
        }
    }
}

struct Decoder<'a> {
    file: FileId,
    src: &'a str,
    diags: &'a mut Diagnostics,
    dir: &'a Path,
}

const RESERVED_VARIABLE_NAMES: &[&str] = &[
    "source",
    "version",
    "providers",
    "count",
    "for_each",
    "lifecycle",
    "depends_on",
    "locals",
];

impl Decoder<'_> {
    fn span(&self, r: Option<std::ops::Range<usize>>) -> Span {
        Span::new(self.file, r.unwrap_or(0..0))
    }

    fn expr(&self, e: &Expression) -> Expr {
        Expr {
            file: self.file,
            expr: e.clone(),
        }
    }

    fn err(&mut self, summary: &str, detail: String, span: Span) {
        self.diags.push(Diagnostic::error(summary, detail).at(span));
    }

    /// Evaluates a constant expression (no references) and converts it.
    fn constant(&mut self, e: &Expression, ty: &Type, what: &str) -> Option<Value> {
        let scope = MapScope::default();
        let mut ev = Evaluator::new(self.file, self.src, &scope, self.dir, &NoTemplates);
        let v = ev.eval(e);
        let ds = ev.take_diags();
        if ds.has_errors() {
            let span = self.span(e.span());
            self.err(
                "Invalid expression",
                format!("The value of {what} must be a literal value; references and function calls are not allowed here."),
                span,
            );
            return None;
        }
        match convert::convert(v, ty) {
            Ok(v) if !v.is_null() => Some(v),
            Ok(_) => None,
            Err(e2) => {
                let span = self.span(e.span());
                self.err(
                    "Incorrect attribute value type",
                    format!("Inappropriate value for {what}: {e2}."),
                    span,
                );
                None
            }
        }
    }

    fn const_string(&mut self, e: &Expression, what: &str) -> Option<String> {
        self.constant(e, &Type::String, what)
            .and_then(|v| v.as_str().map(str::to_string))
    }

    fn const_bool(&mut self, e: &Expression, what: &str) -> Option<bool> {
        self.constant(e, &Type::Bool, what)
            .and_then(|v| v.as_bool())
    }

    /// Splits a body into its attributes and blocks, reporting unexpected
    /// and duplicate names.
    fn content<'b>(
        &mut self,
        body: &'b Body,
        attrs: &[&str],
        blocks: &[&str],
        context: &str,
    ) -> (BTreeMap<String, &'b Attribute>, Vec<&'b Block>) {
        let mut out_attrs: BTreeMap<String, &Attribute> = BTreeMap::new();
        let mut out_blocks = Vec::new();
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let name = a.key.value().as_str();
                    let span = self.span(a.key.span());
                    if !attrs.contains(&name) {
                        let hint = suggest(name, attrs.iter().copied())
                            .map(|s| format!(" Did you mean \"{s}\"?"))
                            .unwrap_or_default();
                        let what = if blocks.contains(&name) {
                            format!(" \"{name}\" is a block here: write {name} {{ ... }}.")
                        } else {
                            String::new()
                        };
                        self.err(
                            "Unsupported argument",
                            format!("An argument named \"{name}\" is not expected {context}.{hint}{what}"),
                            span,
                        );
                        continue;
                    }
                    if let Some(prev) = out_attrs.get(name) {
                        let p = self.span(prev.key.span());
                        self.err(
                            "Attribute redefined",
                            format!("The argument \"{name}\" was already set at byte {}. Each argument may be set only once.", p.start),
                            span,
                        );
                        continue;
                    }
                    out_attrs.insert(name.to_string(), a);
                }
                Structure::Block(b) => {
                    let name = b.ident.value().as_str();
                    if !blocks.contains(&name) {
                        let span = self.span(b.ident.span());
                        let hint = suggest(name, blocks.iter().copied())
                            .map(|s| format!(" Did you mean \"{s}\"?"))
                            .unwrap_or_default();
                        self.err(
                            "Unsupported block type",
                            format!("Blocks of type \"{name}\" are not expected {context}.{hint}"),
                            span,
                        );
                        continue;
                    }
                    out_blocks.push(b);
                }
            }
        }
        (out_attrs, out_blocks)
    }

    fn labels(&mut self, b: &Block, n: usize, names: &str) -> Option<Vec<String>> {
        let labels: Vec<String> = b.labels.iter().map(|l| l.as_str().to_string()).collect();
        let kind = b.ident.value().as_str();
        if labels.len() != n {
            let span = self.span(b.ident.span());
            let detail = if labels.len() < n {
                format!("A {kind} block needs {n} label(s): {names}.")
            } else {
                format!("A {kind} block has {n} label(s) ({names}); remove the extra one(s).")
            };
            self.err(
                if labels.len() < n {
                    "Missing name"
                } else {
                    "Extraneous label"
                },
                detail,
                span,
            );
            return None;
        }
        for l in &labels {
            if !valid_identifier(l) {
                let span = self.span(b.ident.span());
                self.err(
                    "Invalid name",
                    format!("\"{l}\" is not a valid name: a name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes."),
                    span,
                );
                return None;
            }
        }
        Some(labels)
    }

    fn duplicate(
        &mut self,
        seen: &mut HashMap<String, Span>,
        key: String,
        what: &str,
        span: Span,
    ) -> bool {
        if seen.contains_key(&key) {
            self.diags.push(
                Diagnostic::error(
                    format!("Duplicate {what} declaration"),
                    format!("{key} was already declared in this module. Names must be unique within a module."),
                )
                .at(span),
            );
            return true;
        }
        seen.insert(key, span);
        false
    }

    fn module_body(&mut self, body: &Body, m: &mut Module, seen: &mut HashMap<String, Span>) {
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
                        match super::providers::parse_alias(&a.value, self.file) {
                            Ok(name) => Some((name, self.span(a.value.span()))),
                            Err(d) => {
                                self.diags.push(d);
                                None
                            }
                        }
                    });
                    let key = super::providers::config_key(
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

    fn settings(&mut self, b: &Block, m: &mut Module) {
        let (attrs, blocks) = self.content(
            &b.body,
            &["required_version"],
            &["backend"],
            "in the posture block",
        );
        if let Some(a) = attrs.get("required_version")
            && let Some(s) = self.const_string(&a.value, "required_version")
        {
            let span = self.span(a.value.span());
            m.settings.required_version = Some((s, span));
        }
        for bb in blocks {
            let span = self.span(bb.span());
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

    fn variable(&mut self, b: &Block, name: &str, span: Span) -> Option<Variable> {
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

    fn output(&mut self, b: &Block, name: &str, span: Span) -> Option<Output> {
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

    fn references_list(&mut self, e: &Expression) -> Vec<Expr> {
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

    fn resource(&mut self, b: &Block, addr: ResourceAddr, span: Span) -> Option<Resource> {
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
                super::providers::parse_ref(&a.value, self.file)
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

    fn module_call(&mut self, b: &Block, name: &str, span: Span) -> Option<ModuleCall> {
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
                            match super::providers::parse_mappings(&a.value, self.file) {
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

fn valid_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}
