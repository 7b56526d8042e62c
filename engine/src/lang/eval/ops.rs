//! Unary and binary operators.

use super::Evaluator;
use super::guarded::Held;
use crate::diag::{Diagnostic, Span};
use crate::value::{Type, Value, convert};
use hcl_edit::expr::{BinaryOperator, Expression, UnaryOperator};

impl Evaluator<'_> {
    pub(super) fn unary(&mut self, u: &hcl_edit::expr::UnaryOp, e: &Expression) -> Value {
        let v = self.eval(&u.expr);
        let span = self.span_of(e);
        let (v, marked) = v.unmark_deep();
        let want = match u.operator.value() {
            UnaryOperator::Neg => Type::Number,
            UnaryOperator::Not => Type::Bool,
        };
        if v.is_null() {
            return self.error(null_operand(), span);
        }
        if v.is_unknown() {
            return Value::Unknown(want).mark_if(marked);
        }
        let out = match (u.operator.value(), convert::convert(v, &want)) {
            (UnaryOperator::Neg, Ok(Value::Number(n))) => Value::Number(n.neg()),
            (UnaryOperator::Not, Ok(Value::Bool(b))) => Value::Bool(!b),
            (_, Err(e)) => return self.error(operand_error("", &e.message), span),
            _ => return Value::Unknown(want),
        };
        out.mark_if(marked)
    }

    pub(super) fn binary(&mut self, b: &hcl_edit::expr::BinaryOp, e: &Expression) -> Value {
        // Both sides are evaluated, as in HCL; their errors are held back
        // so that `&&`/`||` can drop the side they did not need.
        let (l, l_held) = self.eval_held(&b.lhs_expr);
        let (r, r_held) = self.eval_held(&b.rhs_expr);
        let op = *b.operator.value();
        let span = self.span_of(e);
        let lspan = self.span_of(&b.lhs_expr);
        let rspan = self.span_of(&b.rhs_expr);
        let (l, lm) = l.unmark_deep();
        let (r, rm) = r.unmark_deep();
        let marked = lm || rm;
        use BinaryOperator as B;
        if matches!(op, B::And | B::Or) {
            return self.logical(op == B::And, (l, l_held, lspan), (r, r_held, rspan), marked);
        }
        self.release(l_held);
        self.release(r_held);
        match op {
            B::Eq | B::NotEq => {
                let eq = l.equals(&r);
                let out = match eq {
                    Value::Bool(x) => Value::Bool(if op == B::Eq { x } else { !x }),
                    other => other,
                };
                return out.mark_if(marked);
            }
            _ => {}
        }
        let (want, result) = match op {
            B::Less | B::LessEq | B::Greater | B::GreaterEq => (Type::Number, Type::Bool),
            _ => (Type::Number, Type::Number),
        };
        let mut bad = false;
        let mut operand = |this: &mut Self, v: Value, side: &str, sp| -> Option<Value> {
            if v.is_null() {
                this.error(null_operand(), sp);
                bad = true;
                return None;
            }
            if v.is_unknown() {
                return None;
            }
            match convert::convert(v, &want) {
                Ok(v) => Some(v),
                Err(e) => {
                    this.error(operand_error(side, &e.message), sp);
                    bad = true;
                    None
                }
            }
        };
        let lv = operand(self, l, "left ", lspan);
        let rv = operand(self, r, "right ", rspan);
        if bad {
            return Value::Unknown(result);
        }
        let (Some(lv), Some(rv)) = (lv, rv) else {
            return Value::Unknown(result).mark_if(marked);
        };
        let out = match (op, lv, rv) {
            (B::Less, Value::Number(a), Value::Number(b)) => Value::Bool(a < b),
            (B::LessEq, Value::Number(a), Value::Number(b)) => Value::Bool(a <= b),
            (B::Greater, Value::Number(a), Value::Number(b)) => Value::Bool(a > b),
            (B::GreaterEq, Value::Number(a), Value::Number(b)) => Value::Bool(a >= b),
            (B::Plus, Value::Number(a), Value::Number(b)) => Value::Number(a.add(&b)),
            (B::Minus, Value::Number(a), Value::Number(b)) => Value::Number(a.sub(&b)),
            (B::Mul, Value::Number(a), Value::Number(b)) => Value::Number(a.mul(&b)),
            (B::Div, Value::Number(a), Value::Number(b)) => match a.div(&b) {
                Some(q) => Value::Number(q),
                None => {
                    return self.error(
                        Diagnostic::error(
                            "Operation failed",
                            "Error during operation: can't divide by zero.",
                        ),
                        span,
                    );
                }
            },
            // cty's Modulo by zero gives the dividend (arith_mod_zero:
            // `1 % 0` is 1 in Terraform 1.15.5), no error.
            (B::Mod, Value::Number(a), Value::Number(b)) => match a.rem(&b) {
                Some(q) => Value::Number(q),
                None => Value::Number(a),
            },
            _ => Value::Unknown(result),
        };
        out.mark_if(marked)
    }
}

type Side = (Value, Held, Span);

impl Evaluator<'_> {
    /// `&&` and `||` with HCL's short-circuit rules (OpLogicalAnd/Or): a
    /// known controlling side (false for `&&`, true for `||`) decides the
    /// result and only its own errors are reported. A null counts as
    /// false there, as cty's `False()` says; otherwise null is an error.
    fn logical(&mut self, and: bool, l: Side, r: Side, marked: bool) -> Value {
        let (l, l_held, lspan) = l;
        let (r, r_held, rspan) = r;
        let mut conv_failed = false;
        let mut to_bool = |this: &mut Self, v: Value, side: &str, sp: Span| match convert::convert(
            v,
            &Type::Bool,
        ) {
            Ok(v) => v,
            Err(e) => {
                this.error(operand_error(side, &e.message), sp);
                conv_failed = true;
                Value::Unknown(Type::Bool)
            }
        };
        let l = to_bool(self, l, "left ", lspan);
        let r = to_bool(self, r, "right ", rspan);
        if conv_failed {
            self.release(l_held);
            self.release(r_held);
            return Value::Unknown(Type::Bool);
        }
        // cty: `True()` is false for null, `False()` is `!True()`.
        let controls =
            |v: &Value| !v.is_unknown() && (v == &Value::Bool(!and) || (and && v.is_null()));
        let (lu, ru) = (l.is_unknown(), r.is_unknown());
        let forced = if lu && ru {
            (!l_held.has_errors()).then_some((Value::Unknown(Type::Bool), true))
        } else if controls(&l) {
            Some((Value::Bool(!and), true))
        } else if controls(&r) {
            Some((Value::Bool(!and), false))
        } else if lu && r == Value::Bool(and) {
            Some((Value::Unknown(Type::Bool), true))
        } else if ru && l == Value::Bool(and) {
            Some((Value::Unknown(Type::Bool), false))
        } else {
            None
        };
        if let Some((v, left)) = forced {
            self.release(if left { l_held } else { r_held });
            return v.mark_if(marked);
        }
        let failed = l_held.has_errors() || r_held.has_errors();
        self.release(l_held);
        self.release(r_held);
        if failed {
            return Value::Unknown(Type::Bool).mark_if(marked);
        }
        match (l, r) {
            (Value::Bool(a), Value::Bool(b)) => {
                Value::Bool(if and { a && b } else { a || b }).mark_if(marked)
            }
            (a, b) if a.is_null() || b.is_null() => {
                let at = if a.is_null() { lspan } else { rspan };
                self.error(null_operand(), at)
            }
            _ => Value::Unknown(Type::Bool).mark_if(marked),
        }
    }
}

fn operand_error(side: &str, msg: &str) -> Diagnostic {
    Diagnostic::error(
        "Invalid operand",
        format!("Unsuitable value for {side}operand: {msg}."),
    )
}

/// A null operand: cty's operation error, as Terraform reports it.
fn null_operand() -> Diagnostic {
    Diagnostic::error(
        "Operation failed",
        "Error during operation: argument must not be null.",
    )
}
