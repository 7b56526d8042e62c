//! String templates: interpolation, `%{if}` and `%{for}` directives, and
//! the `~` strip markers that trim whitespace next to them. Strip markers
//! and `<<-` indentation are resolved first, as HCL does (`parts`); this
//! module renders the result.

use super::Evaluator;
use crate::diag::Diagnostic;
use crate::lang::funcs::limits::MAX_STRING_BYTES;
use crate::value::{Type, Value, convert};
use hcl_edit::expr::Expression;
use hcl_edit::template::{Element, Template};
use parts::{Mode, Part};

#[path = "template_parts.rs"]
mod parts;

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;

#[derive(Default)]
struct Out {
    text: String,
    unknown: bool,
    sensitive: bool,
    /// The text reached `MAX_STRING_BYTES` (reported once; rendering stops).
    too_long: bool,
}

/// Interprets HCL string escapes: `\n`, `\t`, `\"`, `\uXXXX`, `$${`, `%%{`...
pub(super) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some(u @ ('u' | 'U')) => {
                    let n = if u == 'u' { 4 } else { 8 };
                    let hex: String = (0..n).filter_map(|_| chars.next()).collect();
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) => out.push(ch),
                        None => {
                            out.push('\\');
                            out.push(u);
                            out.push_str(&hex);
                        }
                    }
                }
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '$' | '%' if chars.peek() == Some(&c) => {
                // $${ and %%{ are literal ${ and %{.
                let mut look = chars.clone();
                look.next();
                if look.peek() == Some(&'{') {
                    chars.next();
                }
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

impl Evaluator<'_> {
    pub(super) fn template(&mut self, t: &Template, e: &Expression) -> Value {
        // "${x}" alone yields x itself, not its string form (HCL's template unwrapping).
        let elements: Vec<&Element> = t.iter().collect();
        if let [Element::Interpolation(i)] = elements.as_slice() {
            return self.eval(&i.expr);
        }
        let mode = match e {
            Expression::HeredocTemplate(_) => {
                let at = self.span_of(e).start;
                Mode::Heredoc {
                    flush: self.src.get(at..).is_some_and(|s| s.starts_with("<<-")),
                }
            }
            _ => Mode::Quoted,
        };
        let parts = parts::parts(t, mode, self.src);
        let mut out = Out::default();
        let span = self.span_of(e);
        self.render(&parts, &mut out);
        if out.too_long {
            self.report_too_long(span);
        }
        if out.unknown || out.too_long {
            return Value::Unknown(Type::String).mark_if(out.sensitive);
        }
        Value::String(out.text).mark_if(out.sensitive)
    }

    fn report_too_long(&mut self, span: crate::diag::Span) {
        self.error(
            Diagnostic::error(
                "Template result too long",
                format!(
                    "The template's result would be longer than {} bytes (64 MiB), the most posture builds into one string.",
                    MAX_STRING_BYTES
                ),
            ),
            span,
        );
    }

    /// Whether `more` bytes still fit in the text; else marks it too long.
    fn fits(out: &mut Out, more: usize) -> bool {
        if out.too_long || out.text.len().saturating_add(more) > MAX_STRING_BYTES {
            out.too_long = true;
            return false;
        }
        true
    }

    fn render(&mut self, parts: &[Part], out: &mut Out) {
        for part in parts {
            match part {
                Part::Lit(lit) => {
                    if !Self::fits(out, lit.len()) {
                        return;
                    }
                    out.text
                        .extend(unicode_normalization::UnicodeNormalization::nfc(
                            lit.as_str(),
                        ));
                }
                Part::Interp(expr) => {
                    let v = self.eval(expr);
                    let span = self.span_of(expr);
                    self.append(v, span, out);
                }
                Part::If { cond, then, els } => {
                    let cv = self.eval(cond);
                    let span = self.span_of(cond);
                    let (cv, marked) = cv.unmark();
                    out.sensitive |= marked;
                    if cv.is_unknown() {
                        out.unknown = true;
                        continue;
                    }
                    match convert::convert(cv, &Type::Bool) {
                        Ok(Value::Bool(true)) => self.render(then, out),
                        Ok(Value::Bool(false)) => self.render(els, out),
                        _ => {
                            self.error(
                                Diagnostic::error(
                                    "Incorrect condition type",
                                    "The condition expression must be of type bool.",
                                ),
                                span,
                            );
                        }
                    }
                }
                Part::For {
                    key,
                    value,
                    coll,
                    body,
                } => {
                    let cv = self.eval(coll);
                    let span = self.span_of(coll);
                    let (cv, marked) = cv.unmark();
                    out.sensitive |= marked;
                    let pairs: Vec<(Value, Value)> = match cv {
                        Value::Unknown(_) => {
                            out.unknown = true;
                            continue;
                        }
                        Value::List(_, items) | Value::Tuple(items) => items
                            .into_iter()
                            .enumerate()
                            .map(|(i, v)| (Value::from(i as i64), v))
                            .collect(),
                        Value::Set(_, items) => items.into_iter().map(|v| (v.clone(), v)).collect(),
                        Value::Map(_, m) | Value::Object(m) => {
                            m.into_iter().map(|(k, v)| (Value::from(k), v)).collect()
                        }
                        other => {
                            self.error(
                                Diagnostic::error(
                                    "Iteration over non-iterable value",
                                    format!("A value of type {} cannot be used as the collection in a 'for' expression.", other.ty().friendly_name()),
                                ),
                                span,
                            );
                            continue;
                        }
                    };
                    for (k, v) in pairs {
                        if out.too_long {
                            return;
                        }
                        let depth = self.bindings.len();
                        if let Some(kv) = key {
                            self.bindings.push((kv.to_string(), k));
                        }
                        self.bindings.push((value.to_string(), v));
                        self.render(body, out);
                        self.bindings.truncate(depth);
                    }
                }
            }
        }
    }

    fn append(&mut self, v: Value, span: crate::diag::Span, out: &mut Out) {
        let (v, marked) = v.unmark_deep();
        out.sensitive |= marked;
        if v.is_null() {
            self.error(
                Diagnostic::error(
                    "Invalid template interpolation value",
                    "The expression result is null. Cannot include a null value in a string template.",
                ),
                span,
            );
            return;
        }
        if v.is_unknown() {
            out.unknown = true;
            return;
        }
        match convert::convert(v.clone(), &Type::String) {
            Ok(Value::String(s)) if Self::fits(out, s.len()) => out.text.push_str(&s),
            Ok(Value::String(_)) => {}
            _ => {
                self.error(
                    Diagnostic::error(
                        "Invalid template interpolation value",
                        format!("Cannot include the given value in a string template: string required, but have {}.", v.ty().friendly_name()),
                    ),
                    span,
                );
            }
        }
    }
}

/// Renders `templatefile` templates: the file is parsed as a template and
/// evaluated with only the given variables (and functions) in scope.
#[derive(Debug, Default, Clone, Copy)]
pub struct FileTemplates;

/// [`FileTemplates`] while planning: impure functions in the template are
/// unknown, as they are everywhere else in a plan.
#[derive(Debug, Default, Clone, Copy)]
pub struct PlanFileTemplates;

impl crate::lang::funcs::TemplateRenderer for FileTemplates {
    fn render(
        &self,
        src: &str,
        path: &std::path::Path,
        vars: &std::collections::BTreeMap<String, Value>,
    ) -> Result<Value, String> {
        render_file(src, path, vars, false)
    }

    fn planning(&self) -> Option<&'static dyn crate::lang::funcs::TemplateRenderer> {
        Some(&PlanFileTemplates)
    }
}

impl crate::lang::funcs::TemplateRenderer for PlanFileTemplates {
    fn render(
        &self,
        src: &str,
        path: &std::path::Path,
        vars: &std::collections::BTreeMap<String, Value>,
    ) -> Result<Value, String> {
        render_file(src, path, vars, true)
    }
}

fn render_file(
    src: &str,
    path: &std::path::Path,
    vars: &std::collections::BTreeMap<String, Value>,
    pure_only: bool,
) -> Result<Value, String> {
    let tpl = hcl_edit::parser::parse_template(src).map_err(|e| {
        format!(
            "{}:{}:{}: {}",
            path.display(),
            e.location().line(),
            e.location().column(),
            e.message()
        )
    })?;
    let scope = super::MapScope(vars.clone());
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    // Templates may not call templatefile themselves (as in Terraform).
    let mut ev = Evaluator::new(
        crate::diag::FileId(u32::MAX),
        src,
        &scope,
        dir,
        &crate::lang::funcs::NoTemplates,
    )
    .pure_only(pure_only);
    let parts = parts::parts(&tpl, Mode::File, src);
    let mut out = Out::default();
    ev.render(&parts, &mut out);
    if out.too_long {
        ev.report_too_long(crate::diag::Span::new(crate::diag::FileId(u32::MAX), 0..0));
    }
    if let Some(d) = ev.take_diags().0.into_iter().next() {
        let at = d
            .span
            .map(|s| {
                let line = src[..s.start.min(src.len())].matches('\n').count() + 1;
                format!("{}:{line}: ", path.display())
            })
            .unwrap_or_default();
        return Err(format!("{at}{}: {}", d.summary, d.detail));
    }
    if out.unknown {
        return Ok(Value::Unknown(Type::String).mark_if(out.sensitive));
    }
    Ok(Value::String(out.text).mark_if(out.sensitive))
}
