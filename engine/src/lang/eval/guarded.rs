//! The expressions whose sub-expressions may fail without failing them:
//! the conditional (only the chosen branch's errors count), `try` and
//! `can`. `&&`/`||` short-circuiting (ops.rs) uses the same holding back.
//!
//! Reference errors (an undeclared `local.x`, `var.x`, resource) are never
//! held back: Terraform resolves every reference of an expression before
//! evaluating it, so `can(local.typo)` is an error, not `false`.

use super::Evaluator;
use crate::diag::{Diagnostic, Severity};
use crate::value::{Type, Value, convert};
use hcl_edit::expr::Expression;

/// Diagnostics an expression produced, held back until its parent decides
/// whether they count.
pub(super) struct Held(Vec<Diagnostic>);

impl Held {
    pub(super) fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }
}

impl Evaluator<'_> {
    /// Evaluates `e` and takes back its diagnostics, except reference
    /// errors, which stay reported.
    pub(super) fn eval_held(&mut self, e: &Expression) -> (Value, Held) {
        let before = self.diags.0.len();
        let v = self.eval(e);
        (v, self.held_since(before))
    }

    /// Takes back the diagnostics pushed since `before`, except reference
    /// errors.
    pub(super) fn held_since(&mut self, before: usize) -> Held {
        let tail = self.diags.0.split_off(before);
        let refs: Vec<usize> = self
            .ref_errors
            .iter()
            .copied()
            .filter(|i| *i >= before)
            .collect();
        self.ref_errors.retain(|i| *i < before);
        let mut held = Vec::new();
        for (k, d) in tail.into_iter().enumerate() {
            if refs.contains(&(before + k)) {
                self.ref_errors.push(self.diags.0.len());
                self.diags.push(d);
            } else {
                held.push(d);
            }
        }
        Held(held)
    }

    /// Reports diagnostics held back by [`Evaluator::eval_held`].
    pub(super) fn release(&mut self, held: Held) {
        for d in held.0 {
            self.diags.push(d);
        }
    }

    /// `c ? a : b` as HCL's ConditionalExpr: both results are evaluated
    /// (their types decide the result type), but only the chosen one's
    /// errors are reported, and none when the condition is unknown.
    pub(super) fn conditional(&mut self, c: &hcl_edit::expr::Conditional) -> Value {
        let (t, t_held) = self.eval_held(&c.true_expr);
        let (f, f_held) = self.eval_held(&c.false_expr);
        let span = self.span_of(&c.cond_expr);
        let results_span = {
            let (a, b) = (self.span_of(&c.true_expr), self.span_of(&c.false_expr));
            self.span_range(Some(a.start..b.end))
        };
        // A literal null takes the other side's type; a dynamic side makes
        // the result dynamic, unconverted; otherwise the types unify.
        let result_ty = if t == Value::NULL {
            Some(f.ty())
        } else if f == Value::NULL {
            Some(t.ty())
        } else if t.ty() == Type::Dynamic || f.ty() == Type::Dynamic {
            Some(Type::Dynamic)
        } else {
            convert::unify(&[t.ty(), f.ty()])
        };
        let Some(result_ty) = result_ty else {
            let d = Diagnostic::error(
                "Inconsistent conditional result types",
                format!(
                    "The true and false result expressions must have consistent types. The 'true' value is {}, but the 'false' value is {}.",
                    t.ty().friendly_name(),
                    f.ty().friendly_name()
                ),
            );
            return self.error(d, results_span);
        };
        let cond = self.eval(&c.cond_expr);
        let (cond, marked) = cond.unmark();
        if cond.is_null() {
            let d = Diagnostic::error(
                "Null condition",
                "The condition value is null. Conditions must either be true or false.",
            );
            return self.error(d, span);
        }
        if cond.is_unknown() {
            return Value::Unknown(result_ty).mark_if(marked);
        }
        let b = match convert::convert(cond, &Type::Bool) {
            Ok(Value::Bool(b)) => b,
            _ => {
                let d = Diagnostic::error(
                    "Incorrect condition type",
                    "The condition expression must be of type bool.",
                );
                return self.error(d, span);
            }
        };
        let (chosen, held, side, chosen_expr) = if b {
            (t, t_held, "true", &c.true_expr)
        } else {
            (f, f_held, "false", &c.false_expr)
        };
        self.release(held);
        if result_ty == Type::Dynamic {
            return chosen.mark_if(marked);
        }
        match convert::convert(chosen, &result_ty) {
            Ok(v) => v.mark_if(marked),
            Err(e) => {
                let at = self.span_of(chosen_expr);
                self.error(
                    Diagnostic::error(
                        "Inconsistent conditional result types",
                        format!("The {side} result value has the wrong type: {e}."),
                    ),
                    at,
                )
            }
        }
    }

    pub(super) fn try_fn(
        &mut self,
        f: &hcl_edit::expr::FuncCall,
        span: crate::diag::Span,
    ) -> Value {
        if f.args.is_empty() {
            return self.error(
                Diagnostic::error(
                    "Error in function call",
                    "Call to function \"try\" failed: at least one argument is required.",
                ),
                span,
            );
        }
        let refs_before = self.ref_errors.len();
        let mut result = None;
        for arg in f.args.iter() {
            let (v, held) = self.eval_held(arg);
            if held.has_errors() || result.is_some() {
                // The arguments after the first success are evaluated too,
                // for their reference errors only.
                continue;
            }
            // An unknown value might yet fail: decide after apply.
            result = Some(if v.is_unknown() {
                Value::Unknown(Type::Dynamic)
            } else {
                v
            });
        }
        if self.ref_errors.len() > refs_before {
            // A reference error is never a fallback's cue.
            return Value::Unknown(Type::Dynamic);
        }
        match result {
            Some(v) => v,
            None => self.error(
                Diagnostic::error(
                    "Error in function call",
                    "Call to function \"try\" failed: no expression succeeded.",
                ),
                span,
            ),
        }
    }

    pub(super) fn can_fn(
        &mut self,
        f: &hcl_edit::expr::FuncCall,
        span: crate::diag::Span,
    ) -> Value {
        let args: Vec<&Expression> = f.args.iter().collect();
        if args.len() != 1 {
            return self.error(
                Diagnostic::error(
                    "Invalid function arguments",
                    "Function \"can\" expects exactly one argument.",
                ),
                span,
            );
        }
        let refs_before = self.ref_errors.len();
        let (v, held) = self.eval_held(args[0]);
        if self.ref_errors.len() > refs_before {
            Value::Unknown(Type::Bool)
        } else if held.has_errors() {
            Value::Bool(false)
        } else if !v.is_wholly_known() {
            Value::Unknown(Type::Bool)
        } else {
            Value::Bool(true)
        }
    }
}

#[cfg(test)]
#[path = "guarded_tests.rs"]
mod tests;
