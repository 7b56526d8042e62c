//! Unary and binary operators.

use super::Evaluator;
use crate::diag::Diagnostic;
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
        let l = self.eval(&b.lhs_expr);
        let r = self.eval(&b.rhs_expr);
        let op = *b.operator.value();
        let span = self.span_of(e);
        let lspan = self.span_of(&b.lhs_expr);
        let rspan = self.span_of(&b.rhs_expr);
        let (l, lm) = l.unmark_deep();
        let (r, rm) = r.unmark_deep();
        let marked = lm || rm;
        use BinaryOperator as B;
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
            B::And | B::Or => (Type::Bool, Type::Bool),
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
            (B::And, Value::Bool(a), Value::Bool(b)) => Value::Bool(a && b),
            (B::Or, Value::Bool(a), Value::Bool(b)) => Value::Bool(a || b),
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
            (B::Mod, Value::Number(a), Value::Number(b)) => match a.rem(&b) {
                Some(q) => Value::Number(q),
                None => {
                    return self.error(
                        Diagnostic::error(
                            "Operation failed",
                            "Error during operation: can't use modulo by zero.",
                        ),
                        span,
                    );
                }
            },
            _ => Value::Unknown(result),
        };
        out.mark_if(marked)
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
