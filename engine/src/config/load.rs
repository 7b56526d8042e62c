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

mod blocks;
mod body;
use super::heredoc;

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
}

fn valid_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}
