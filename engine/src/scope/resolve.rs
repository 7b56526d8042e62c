//! Resolving references from a module instance: `var.`, `local.`,
//! `module.`, `data.`, resource types, `path.`, and the errors for names
//! that are not declared (with the closest declared name suggested).

use super::{Evaluation, Node};
use crate::addrs::{Mode, ModuleInstance, ResourceAddr};
use crate::diag::{Diagnostic, Span, suggest};
use crate::lang::eval::Scope;
use crate::value::Value;
use hcl_edit::Decorated;
use hcl_edit::expr::TraversalOperator;
use std::collections::BTreeMap;

/// The scope of one module instance.
pub struct ModuleScope<'e, 'c> {
    /// The evaluation it belongs to.
    pub eval: &'e Evaluation<'c>,
    /// The module instance.
    pub path: ModuleInstance,
}

fn attr_name(op: Option<&Decorated<TraversalOperator>>) -> Option<&str> {
    match op.map(|o| o.value()) {
        Some(TraversalOperator::GetAttr(id)) => Some(id.value().as_str()),
        _ => None,
    }
}

fn hint_prefixed<'a>(name: &str, names: impl IntoIterator<Item = &'a str>, prefix: &str) -> String {
    suggest(name, names)
        .map(|s| format!(" Did you mean {prefix}{s}?"))
        .unwrap_or_default()
}

fn hint<'a>(name: &str, names: impl IntoIterator<Item = &'a str>) -> String {
    suggest(name, names)
        .map(|s| format!(" Did you mean \"{s}\"?"))
        .unwrap_or_default()
}

impl Scope for ModuleScope<'_, '_> {
    fn resolve(
        &self,
        root: &str,
        ops: &[Decorated<TraversalOperator>],
        span: Span,
    ) -> Result<(Value, usize), Diagnostic> {
        let Some(tree) = self.eval.tree.descendant(&self.path.static_path()) else {
            return Err(Diagnostic::error(
                "Internal error",
                "module instance without configuration",
            ));
        };
        let m = &tree.module;
        let where_ = if self.path.is_root() {
            "the root module".to_string()
        } else {
            format!("{}", self.path)
        };
        match root {
            "var" => {
                let Some(name) = attr_name(ops.first()) else {
                    return Err(Diagnostic::error(
                        "Invalid reference",
                        "The \"var\" object cannot be accessed directly. Instead, access one of its attributes, like var.region.",
                    ));
                };
                if !m.variables.contains_key(name) {
                    return Err(Diagnostic::error(
                        "Reference to undeclared input variable",
                        format!("An input variable with the name \"{name}\" has not been declared in {where_}.{}", hint(name, m.variables.keys().map(|s| s.as_str()))),
                    ).at(span));
                }
                Ok((
                    self.eval
                        .get(&Node::Var(self.path.clone(), name.to_string())),
                    1,
                ))
            }
            "local" => {
                let Some(name) = attr_name(ops.first()) else {
                    return Err(Diagnostic::error(
                        "Invalid reference",
                        "The \"local\" object cannot be accessed directly. Instead, access one of its attributes, like local.name.",
                    ));
                };
                if !m.locals.contains_key(name) {
                    return Err(Diagnostic::error(
                        "Reference to undeclared local value",
                        format!(
                            "A local value with the name \"{name}\" has not been declared in {where_}.{}",
                            hint_prefixed(name, m.locals.keys().map(|s| s.as_str()), "local.")
                        ),
                    ));
                }
                Ok((
                    self.eval
                        .get(&Node::Local(self.path.clone(), name.to_string())),
                    1,
                ))
            }
            "module" => {
                let Some(name) = attr_name(ops.first()) else {
                    return Err(Diagnostic::error(
                        "Invalid reference",
                        "The \"module\" object cannot be accessed directly. Instead, access a module by name, like module.app.",
                    ));
                };
                if !m.module_calls.contains_key(name) {
                    return Err(Diagnostic::error(
                        "Reference to undeclared module",
                        format!(
                            "No module call named \"{name}\" is declared in {where_}.{}",
                            hint(name, m.module_calls.keys().map(|s| s.as_str()))
                        ),
                    ));
                }
                Ok((
                    self.eval
                        .get(&Node::ModuleCall(self.path.clone(), name.to_string())),
                    1,
                ))
            }
            "cluster" => {
                let Some(name) = attr_name(ops.first()) else {
                    return Err(Diagnostic::error(
                        "Invalid reference",
                        "The \"cluster\" object cannot be accessed directly. Instead, access a cluster by name, like cluster.prod.",
                    ));
                };
                if !m.clusters.contains_key(name) {
                    return Err(Diagnostic::error(
                        "Reference to undeclared cluster",
                        format!(
                            "No cluster block named \"{name}\" is declared in {where_}.{}",
                            hint(name, m.clusters.keys().map(|s| s.as_str()))
                        ),
                    ));
                }
                Ok((
                    self.eval
                        .get(&Node::Cluster(self.path.clone(), name.to_string())),
                    1,
                ))
            }
            "path" => {
                let obj = Value::Object(BTreeMap::from([
                    (
                        "module".to_string(),
                        Value::from(m.dir.display().to_string()),
                    ),
                    (
                        "root".to_string(),
                        Value::from(self.eval.root_dir.display().to_string()),
                    ),
                    (
                        "cwd".to_string(),
                        Value::from(
                            std::env::current_dir()
                                .map(|d| d.display().to_string())
                                .unwrap_or_default(),
                        ),
                    ),
                ]));
                Ok((obj, 0))
            }
            "each" => Err(Diagnostic::error(
                "Reference to \"each\" in context without for_each",
                "The \"each\" object can be used only in \"module\" or \"resource\" blocks, and only when the \"for_each\" argument is set.",
            )),
            "count" => Err(Diagnostic::error(
                "Reference to \"count\" in non-counted context",
                "The \"count\" object can only be used in \"module\", \"resource\", and \"data\" blocks, and only when the \"count\" argument is set.",
            )),
            "self" => Err(Diagnostic::error(
                "Invalid \"self\" reference",
                "The \"self\" object is not available in this context.",
            )),
            "data" => {
                let (Some(t), Some(n)) = (attr_name(ops.first()), attr_name(ops.get(1))) else {
                    return Err(Diagnostic::error(
                        "Invalid data source reference",
                        "A data source reference needs a type and a name, like data.route53_zone.main.",
                    ));
                };
                let addr = ResourceAddr {
                    mode: Mode::Data,
                    type_name: t.to_string(),
                    name: n.to_string(),
                };
                if !m.resources.contains_key(&addr) {
                    let names: Vec<String> = m
                        .resources
                        .keys()
                        .filter(|a| a.mode == Mode::Data)
                        .map(|a| a.to_string())
                        .collect();
                    return Err(Diagnostic::error(
                        "Reference to undeclared resource",
                        format!(
                            "A data resource \"{t}\" \"{n}\" has not been declared in {where_}.{}",
                            hint(&addr.to_string(), names.iter().map(String::as_str))
                        ),
                    ));
                }
                Ok((self.eval.get(&Node::Resource(self.path.clone(), addr)), 2))
            }
            t => {
                let is_type = m
                    .resources
                    .keys()
                    .any(|a| a.mode == Mode::Managed && a.type_name == t)
                    || self.eval.schemas.schema(Mode::Managed, t).is_some();
                if is_type {
                    let Some(n) = attr_name(ops.first()) else {
                        return Err(Diagnostic::error(
                            "Invalid reference",
                            format!(
                                "A reference to a resource type must be followed by at least one attribute access, specifying the resource name, like {t}.name."
                            ),
                        ));
                    };
                    let addr = ResourceAddr {
                        mode: Mode::Managed,
                        type_name: t.to_string(),
                        name: n.to_string(),
                    };
                    if !m.resources.contains_key(&addr) {
                        let names: Vec<String> = m
                            .resources
                            .keys()
                            .filter(|a| a.mode == Mode::Managed)
                            .map(|a| a.to_string())
                            .collect();
                        return Err(Diagnostic::error(
                            "Reference to undeclared resource",
                            format!(
                                "A managed resource \"{t}\" \"{n}\" has not been declared in {where_}.{}",
                                hint(&addr.to_string(), names.iter().map(String::as_str))
                            ),
                        ));
                    }
                    return Ok((self.eval.get(&Node::Resource(self.path.clone(), addr)), 1));
                }
                let mut known: Vec<String> =
                    ["var", "local", "module", "path", "data", "each", "count"]
                        .iter()
                        .map(|s| s.to_string())
                        .collect();
                known.extend(
                    m.resources
                        .keys()
                        .filter(|a| a.mode == Mode::Managed)
                        .map(|a| a.type_name.clone()),
                );
                Err(undeclared_root(t, ops, &where_, &known))
            }
        }
    }
}

/// A root name nothing declares. Terraform reads it as a resource type,
/// so the summaries are its: "Invalid reference" for a bare name (`name`,
/// also inside a template), "Reference to undeclared resource" for
/// `name.x`; the closest declared root is suggested.
fn undeclared_root(
    t: &str,
    ops: &[Decorated<TraversalOperator>],
    where_: &str,
    known: &[String],
) -> Diagnostic {
    let did_you_mean = hint(t, known.iter().map(String::as_str));
    match attr_name(ops.first()) {
        None => Diagnostic::error(
            "Invalid reference",
            format!(
                "There is no variable named \"{t}\": a reference to a resource type must be followed by at least one attribute access, specifying the resource name.{did_you_mean}"
            ),
        ),
        Some(n) => Diagnostic::error(
            "Reference to undeclared resource",
            format!(
                "A managed resource \"{t}\" \"{n}\" has not been declared in {where_}.{did_you_mean}"
            ),
        ),
    }
}
