//! Values for the root module's input variables, from every source with
//! Terraform's precedence (later wins): `POSTURE_VAR_<name>` environment
//! variables, `posture.vars.hcl`, `*.auto.vars.hcl` in lexical order, then
//! `--var` and `--var-file` in command-line order.

use super::Module;
use crate::diag::{Diagnostic, Diagnostics, SourceMap, Span};
use crate::lang::eval::{Evaluator, MapScope};
use crate::lang::funcs::NoTemplates;
use crate::value::Value;
use hcl_edit::Span as _;
use hcl_edit::structure::Structure;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One `--var` or `--var-file` from the command line, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum CliVar {
    /// `--var NAME=VALUE`
    Var(String),
    /// `--var-file FILE`
    File(PathBuf),
}

/// Where a value came from (for messages).
#[derive(Debug, Clone, PartialEq)]
pub enum VarSource {
    /// An environment variable.
    Env,
    /// A variable file, at a span.
    File(Span),
    /// `--var`.
    Cli,
}

/// A raw value for a root variable: not yet converted to its type.
#[derive(Debug, Clone)]
pub struct RawVar {
    /// The value.
    pub value: Value,
    /// Where it came from.
    pub source: VarSource,
}

/// Collects the root variables' raw values. Files are added to `sources`.
/// `env` is the process environment (passed in, so tests control it).
pub fn collect(
    dir: &Path,
    module: &Module,
    cli: &[CliVar],
    env: &BTreeMap<String, String>,
    sources: &mut SourceMap,
) -> (BTreeMap<String, RawVar>, Diagnostics) {
    let mut out = BTreeMap::new();
    let mut diags = Diagnostics::default();
    for (k, v) in env {
        if let Some(name) = k.strip_prefix("POSTURE_VAR_")
            && let Some(decl) = module.variables.get(name)
        {
            let value = parse_cli_value(
                v,
                decl.ty.ty().is_primitive() || matches!(decl.ty.ty(), crate::value::Type::Dynamic),
            );
            match value {
                    Ok(value) => {
                        out.insert(name.to_string(), RawVar { value, source: VarSource::Env });
                    }
                    Err(msg) => diags.push(Diagnostic::error(
                        "Invalid value for input variable",
                        format!("The environment variable {k} does not contain a valid value for variable \"{name}\": {msg}."),
                    )),
                }
        }
    }
    let mut auto: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    p.is_file() && n.ends_with(".auto.vars.hcl")
                })
                .collect()
        })
        .unwrap_or_default();
    auto.sort();
    let default_file = dir.join("posture.vars.hcl");
    if default_file.is_file() {
        auto.insert(0, default_file);
    }
    for f in auto {
        read_var_file(dir, &f, module, false, &mut out, &mut diags, sources);
    }
    for c in cli {
        match c {
            CliVar::File(f) => {
                let path = if f.is_absolute() {
                    f.clone()
                } else {
                    dir.join(f)
                };
                if !path.is_file() {
                    diags.push(Diagnostic::error(
                        "Failed to read variables file",
                        format!("Given variables file {} does not exist.", f.display()),
                    ));
                    continue;
                }
                read_var_file(dir, &path, module, true, &mut out, &mut diags, sources);
            }
            CliVar::Var(s) => {
                let Some((name, raw)) = s.split_once('=') else {
                    diags.push(Diagnostic::error(
                        "Invalid --var option",
                        format!("The given --var option {s:?} is not correctly specified. It must be a variable name and value separated by an equals sign, like --var=\"key=value\"."),
                    ));
                    continue;
                };
                let name = name.trim();
                let Some(decl) = module.variables.get(name) else {
                    diags.push(Diagnostic::error(
                        "Value for undeclared variable",
                        format!("A variable named \"{name}\" was assigned on the command line, but the root module does not declare a variable of that name. To use this value, add a \"variable\" block to the configuration."),
                    ));
                    continue;
                };
                let prim = decl.ty.ty().is_primitive()
                    || matches!(decl.ty.ty(), crate::value::Type::Dynamic);
                match parse_cli_value(raw, prim) {
                    Ok(value) => {
                        out.insert(name.to_string(), RawVar { value, source: VarSource::Cli });
                    }
                    Err(msg) => diags.push(Diagnostic::error(
                        "Invalid value for input variable",
                        format!("The value given for variable \"{name}\" on the command line is not valid: {msg}."),
                    )),
                }
            }
        }
    }
    (out, diags)
}

/// A value from the command line or environment: taken literally as a
/// string for primitive types (and `any`), parsed as an HCL expression for
/// collections and objects (as Terraform does).
fn parse_cli_value(raw: &str, primitive: bool) -> Result<Value, String> {
    if primitive {
        return Ok(Value::from(raw));
    }
    let expr = super::source::parse_expr(raw).map_err(|e| e.message().to_string())?;
    let scope = MapScope::default();
    let mut ev = Evaluator::new(
        crate::diag::FileId(u32::MAX),
        raw,
        &scope,
        Path::new("."),
        &NoTemplates,
    );
    let v = ev.eval(&expr);
    match ev.take_diags().0.into_iter().next() {
        Some(d) => Err(d.detail),
        None => Ok(v),
    }
}

fn read_var_file(
    dir: &Path,
    path: &Path,
    module: &Module,
    explicit: bool,
    out: &mut BTreeMap<String, RawVar>,
    diags: &mut Diagnostics,
    sources: &mut SourceMap,
) {
    let Some((file, body)) = super::load::parse_file(dir, path, sources, diags) else {
        return;
    };
    let text: Arc<str> = Arc::from(sources.text(file));
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                let name = a.key.value().as_str();
                let span = Span::new(file, a.key.span().unwrap_or(0..0));
                if !module.variables.contains_key(name) {
                    let d = Diagnostic::warning(
                        "Value for undeclared variable",
                        format!("The root module does not declare a variable named \"{name}\" but a value was found in file {}. To use this value, add a \"variable\" block to the configuration.", path.display()),
                    )
                    .at(span);
                    let _ = explicit;
                    diags.push(d);
                    continue;
                }
                let scope = MapScope::default();
                let mut ev = Evaluator::new(file, &text, &scope, dir, &NoTemplates);
                let v = ev.eval(&a.value);
                let ds = ev.take_diags();
                if ds.has_errors() {
                    diags.push(
                        Diagnostic::error(
                            "Variables not allowed",
                            "Variable files may contain only literal values; references and function calls are not allowed.",
                        )
                        .at(Span::new(file, a.value.span().unwrap_or(0..0))),
                    );
                    continue;
                }
                out.insert(
                    name.to_string(),
                    RawVar {
                        value: v,
                        source: VarSource::File(span),
                    },
                );
            }
            Structure::Block(b) => {
                diags.push(
                    Diagnostic::error(
                        "Unexpected block",
                        "Variable files may contain only NAME = VALUE assignments.",
                    )
                    .at(Span::new(file, b.ident.span().unwrap_or(0..0))),
                );
            }
        }
    }
}
