//! Expression evaluation with Terraform's semantics.
//!
//! The evaluator walks hcl-edit's syntax tree (which keeps byte spans) and
//! produces [`Value`]s. Errors become [`Diagnostic`]s at the span of the
//! offending sub-expression; evaluation goes on with an unknown value so
//! one run reports every mistake. References (`var.x`, `local.y`, resource
//! addresses) are resolved through a [`Scope`], so this module knows nothing
//! about configuration or state.

mod for_expr;
mod guarded;
mod ops;
mod template;

pub use template::FileTemplates;
mod traverse;

use crate::diag::{Diagnostic, Diagnostics, FileId, Span};
use crate::lang::funcs::{self, FuncCtx, TemplateRenderer};
use crate::value::{Number, Type, Value, convert};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use std::collections::BTreeMap;
use std::path::Path;
use unicode_normalization::UnicodeNormalization;

/// Resolves the references an expression makes: everything rooted at a
/// name that is not bound by a `for` expression.
pub trait Scope {
    /// Resolves the reference starting at `root`, followed by `ops`.
    /// Returns the value and how many of `ops` the scope consumed (for
    /// example one for `var.region`, two for `data.t.n`); the evaluator
    /// applies the rest.
    ///
    /// # Errors
    /// A diagnostic for an undeclared or invalid reference (the evaluator
    /// sets the span when the diagnostic has none).
    fn resolve(
        &self,
        root: &str,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        span: Span,
    ) -> Result<(Value, usize), Diagnostic>;
}

/// A scope with nothing in it except names given as values (tests, console).
#[derive(Default)]
pub struct MapScope(pub BTreeMap<String, Value>);

impl Scope for MapScope {
    fn resolve(
        &self,
        root: &str,
        _: &[hcl_edit::Decorated<TraversalOperator>],
        span: Span,
    ) -> Result<(Value, usize), Diagnostic> {
        match self.0.get(root) {
            Some(v) => Ok((v.clone(), 0)),
            None => Err(unknown_variable(root, self.0.keys().map(String::as_str)).at(span)),
        }
    }
}

/// The diagnostic for a root name nothing declares.
pub fn unknown_variable<'a>(root: &str, known: impl IntoIterator<Item = &'a str>) -> Diagnostic {
    let hint = crate::diag::suggest(root, known)
        .map(|s| format!(" Did you mean \"{s}\"?"))
        .unwrap_or_default();
    Diagnostic::error(
        "Unknown variable",
        format!("There is no variable named \"{root}\".{hint}"),
    )
}

/// Evaluates expressions of one file against a scope.
pub struct Evaluator<'a> {
    file: FileId,
    src: &'a str,
    scope: &'a dyn Scope,
    base_dir: &'a Path,
    templates: &'a dyn TemplateRenderer,
    /// Names bound by enclosing `for` expressions and template `%{for}`s, innermost last.
    bindings: Vec<(String, Value)>,
    context: Option<String>,
    /// When true, impure functions (`timestamp`, `uuid`) return unknown
    /// values: their real results exist only at apply (Terraform's
    /// `PureOnly` scope of `plan` and `validate`).
    pure_only: bool,
    diags: Diagnostics,
    /// Indices in `diags` of reference errors (undeclared names): these
    /// are never held back by `try`, `can` or an unchosen branch, as
    /// Terraform resolves every reference before evaluating.
    ref_errors: Vec<usize>,
}

impl<'a> Evaluator<'a> {
    /// An evaluator for expressions parsed from `file`, whose text is `src`.
    pub fn new(
        file: FileId,
        src: &'a str,
        scope: &'a dyn Scope,
        base_dir: &'a Path,
        templates: &'a dyn TemplateRenderer,
    ) -> Evaluator<'a> {
        Evaluator {
            file,
            src,
            scope,
            base_dir,
            templates,
            bindings: Vec::new(),
            context: None,
            pure_only: false,
            diags: Diagnostics::default(),
            ref_errors: Vec::new(),
        }
    }

    /// Makes impure functions return unknown values (see [`funcs::IMPURE`]).
    pub fn pure_only(mut self, on: bool) -> Evaluator<'a> {
        self.pure_only = on;
        self
    }

    /// Sets the enclosing block shown in diagnostics (`resource "t" "n"`).
    pub fn with_context(mut self, ctx: Option<String>) -> Evaluator<'a> {
        self.context = ctx;
        self
    }

    /// Binds a name for the expressions evaluated next (like `each`).
    pub fn bind(&mut self, name: &str, v: Value) {
        self.bindings.push((name.to_string(), v));
    }

    /// Removes the innermost name bound with [`Evaluator::bind`].
    pub fn unbind(&mut self) {
        self.bindings.pop();
    }

    /// The diagnostics collected so far.
    pub fn take_diags(&mut self) -> Diagnostics {
        self.ref_errors.clear();
        std::mem::take(&mut self.diags)
    }

    /// True when an error has been reported.
    pub fn has_errors(&self) -> bool {
        self.diags.has_errors()
    }

    /// The span of an expression in this file.
    pub fn span_of(&self, e: &Expression) -> Span {
        let r = e.span().unwrap_or(0..0);
        Span::new(self.file, r)
    }

    pub fn span_range(&self, r: Option<std::ops::Range<usize>>) -> Span {
        Span::new(self.file, r.unwrap_or(0..0))
    }

    /// Records an error and returns an unknown value to go on with.
    pub fn error(&mut self, d: Diagnostic, span: Span) -> Value {
        let d = d.at_opt(Some(span));
        let d = match &self.context {
            Some(c) => d.in_context(c.clone()),
            None => d,
        };
        self.diags.push(d);
        Value::Unknown(Type::Dynamic)
    }

    /// Evaluates an expression.
    pub fn eval(&mut self, e: &Expression) -> Value {
        match e {
            Expression::Null(_) => Value::NULL,
            Expression::Bool(b) => Value::Bool(*b.value()),
            Expression::Number(n) => self.number(e, n.value()),
            // HCL normalises string literals to Unicode NFC.
            Expression::String(s) => Value::String(s.value().nfc().collect()),
            Expression::Array(a) => {
                let items = a.iter().map(|x| self.eval(x)).collect();
                Value::Tuple(items)
            }
            Expression::Object(o) => self.object(o),
            Expression::StringTemplate(t) => self.template(t, e),
            Expression::HeredocTemplate(h) => self.template(&h.template, e),
            Expression::Parenthesis(p) => self.eval(p.inner()),
            Expression::Variable(v) => {
                let name = v.value().as_str();
                let span = self.span_of(e);
                self.reference(name, &[], span)
            }
            Expression::Conditional(c) => self.conditional(c),
            Expression::FuncCall(f) => self.func_call(f, e),
            Expression::Traversal(t) => self.traversal(t, e),
            Expression::UnaryOp(u) => self.unary(u, e),
            Expression::BinaryOp(b) => self.binary(b, e),
            Expression::ForExpr(f) => self.for_expr(f, e),
        }
    }

    fn number(&mut self, e: &Expression, n: &hcl_edit::Number) -> Value {
        // The parsed f64 would lose precision: read the literal's own text.
        let _ = n;
        let text = e
            .span()
            .and_then(|r| self.source_text(r))
            .unwrap_or_default();
        match text.trim().parse::<Number>() {
            Ok(num) => Value::Number(num),
            Err(_) => match n.as_f64().and_then(Number::from_f64) {
                Some(num) => Value::Number(num),
                None => {
                    let span = self.span_of(e);
                    self.error(
                        Diagnostic::error(
                            "Invalid number literal",
                            "This number cannot be represented.",
                        ),
                        span,
                    )
                }
            },
        }
    }

    fn source_text(&self, r: std::ops::Range<usize>) -> Option<String> {
        self.src.get(r).map(str::to_string)
    }

    pub(crate) fn reference(
        &mut self,
        name: &str,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        span: Span,
    ) -> Value {
        if let Some((_, v)) = self.bindings.iter().rev().find(|(n, _)| n == name) {
            let v = v.clone();
            return self.apply_ops(v, ops);
        }
        match self.scope.resolve(name, ops, span) {
            Ok((v, used)) => {
                let rest = ops.get(used..).unwrap_or(&[]);
                self.apply_ops(v, rest)
            }
            Err(d) => {
                // Underline the whole reference, not just its root.
                let v = self.error(d, span);
                self.ref_errors.push(self.diags.0.len() - 1);
                v
            }
        }
    }

    fn object(&mut self, o: &hcl_edit::expr::Object) -> Value {
        let mut out: BTreeMap<String, Value> = BTreeMap::new();
        let mut unknown_key = false;
        let mut sensitive_key = false;
        for (k, v) in o.iter() {
            // The name as the file writes it (a repeated one is disguised in
            // the tree), so the last item of a name wins as in HCL.
            let written = crate::config::source::key_name(self.src, k);
            let (key, kspan) = match k {
                ObjectKey::Ident(id) => (
                    Value::from(written.unwrap_or(id.value().as_str())),
                    self.span_range(id.span()),
                ),
                ObjectKey::Expression(ke @ Expression::String(_)) => match written {
                    Some(w) => (Value::from(w), self.span_of(ke)),
                    None => (self.eval(ke), self.span_of(ke)),
                },
                ObjectKey::Expression(ke @ Expression::Traversal(_)) => {
                    let sp = self.span_of(ke);
                    self.error(
                        Diagnostic::error(
                            "Ambiguous attribute key",
                            "If this expression is intended to be a reference, wrap it in parentheses. If it's instead intended as a literal name containing periods, wrap it in quotes to create a string literal.",
                        ),
                        sp,
                    );
                    continue;
                }
                ObjectKey::Expression(ke) => (self.eval(ke), self.span_of(ke)),
            };
            let (key, marked) = key.unmark();
            sensitive_key |= marked;
            let val = self.eval(v.expr());
            if key.is_unknown() {
                unknown_key = true;
                continue;
            }
            if key.is_null() {
                self.error(
                    Diagnostic::error("Null value as key", "Can't use a null value as a key."),
                    kspan,
                );
                continue;
            }
            match convert::convert(key, &Type::String) {
                Ok(Value::String(s)) => {
                    // Terraform lets a later attribute of the same name win.
                    out.insert(s, val);
                }
                _ => {
                    self.error(
                        Diagnostic::error(
                            "Incorrect key type",
                            "Can't use this value as a key: string required.",
                        ),
                        kspan,
                    );
                }
            }
        }
        if unknown_key {
            return Value::Unknown(Type::Dynamic).mark_if(sensitive_key);
        }
        Value::Object(out).mark_if(sensitive_key)
    }

    fn func_call(&mut self, f: &hcl_edit::expr::FuncCall, e: &Expression) -> Value {
        let name = f.name.name.value().as_str();
        let span = self.span_of(e);
        match name {
            "try" => return self.try_fn(f, span),
            "can" => return self.can_fn(f, span),
            _ => {}
        }
        if funcs::lookup(name).is_none() {
            let hint = crate::diag::suggest(name, funcs::names().chain(["try", "can"]))
                .map(|s| format!(" Did you mean \"{s}\"?"))
                .unwrap_or_default();
            let nspan = self.span_range(f.name.name.span());
            return self.error(
                Diagnostic::error(
                    "Call to unknown function",
                    format!("There is no function named \"{name}\".{hint}"),
                ),
                nspan,
            );
        }
        let arg_exprs: Vec<&Expression> = f.args.iter().collect();
        let refs_before = self.ref_errors.len();
        let mut args: Vec<Value> = arg_exprs.iter().map(|a| self.eval(a)).collect();
        if name == "templatestring"
            && self.ref_errors.len() == refs_before
            && let Some(first) = arg_exprs.first()
            && let Some(why) = literal_template(first)
        {
            let at = self.span_of(first);
            return self.error(
                Diagnostic::error(
                    "Invalid function argument",
                    format!(
                        "Invalid value for \"template\" parameter: invalid template expression: {why}."
                    ),
                ),
                at,
            );
        }
        let mut arg_spans: Vec<Span> = arg_exprs.iter().map(|a| self.span_of(a)).collect();
        if f.args.expand_final()
            && let Some(last) = args.pop()
        {
            let lspan = arg_spans.pop().unwrap_or(span);
            let (last, marked) = last.unmark();
            match last {
                Value::List(_, items) | Value::Set(_, items) | Value::Tuple(items) => {
                    for it in items {
                        args.push(it.mark_if(marked));
                        arg_spans.push(lspan);
                    }
                }
                Value::Unknown(_) => return Value::Unknown(Type::Dynamic),
                _ => {
                    return self.error(
                            Diagnostic::error("Invalid expanding argument value", "The expanding argument (indicated by ...) must be of a tuple, list, or set type."),
                            lspan,
                        );
                }
            }
        }
        let templates = match self.templates.planning() {
            Some(t) if self.pure_only => t,
            _ => self.templates,
        };
        let ctx = FuncCtx {
            base_dir: self.base_dir,
            templates,
        };
        match funcs::call(&ctx, name, args) {
            // Arguments are still checked; only the result waits for apply.
            Ok(_) if self.pure_only && funcs::IMPURE.contains(&name) => {
                Value::Unknown(funcs::lookup(name).map_or(Type::Dynamic, |f| f.ret.clone()))
            }
            Ok(v) => v,
            Err(fe) => {
                let at = fe
                    .arg
                    .and_then(|i| arg_spans.get(i).copied())
                    .unwrap_or(span);
                // The argument count errors of `funcs::call`, in HCL's words.
                let arity = fe
                    .message
                    .starts_with(&format!("Function \"{name}\" expects"));
                let summary = if arity && fe.message.contains("Missing value for") {
                    "Not enough function arguments"
                } else if arity && fe.message.contains("expects only") {
                    "Too many function arguments"
                } else if fe.arg.is_some() {
                    "Invalid function argument"
                } else {
                    "Error in function call"
                };
                let detail = if fe.arg.is_some() || arity {
                    fe.message
                } else {
                    format!("Call to function \"{name}\" failed: {}", fe.message)
                };
                self.error(Diagnostic::error(summary, detail), at)
            }
        }
    }
}

/// Why `templatestring` refuses `e` as its template: Terraform takes only a
/// template fetched from elsewhere (a reference), not one written in place.
fn literal_template(e: &Expression) -> Option<&'static str> {
    use hcl_edit::template::Element;
    let literal = "templatestring is only for rendering templates retrieved dynamically from elsewhere, and so does not support providing a literal template; consider using a template string expression instead";
    let inline = "templatestring is only for rendering templates retrieved dynamically from elsewhere; to render an inline template, consider using a plain template string expression";
    let elements: Vec<&Element> = match e {
        Expression::String(_) => return Some(literal),
        Expression::StringTemplate(t) => t.iter().collect(),
        Expression::HeredocTemplate(h) => h.template.iter().collect(),
        Expression::Parenthesis(p) => return literal_template(p.inner()),
        _ => return None,
    };
    if elements.iter().all(|el| matches!(el, Element::Literal(_))) {
        Some(literal)
    } else {
        Some(inline)
    }
}

#[cfg(test)]
mod tests;
