//! Static references: which named things an expression or body refers to
//! (`var.x`, `local.y`, `module.m`, `TYPE.NAME`, `data.TYPE.NAME`), found
//! without evaluating anything. The dependency graph is built from these.

use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::Body;
use hcl_edit::visit::{Visit, visit_body, visit_expr, visit_traversal_operator};

/// One reference: its root name and the attribute names right after it
/// (at most two: enough for `data.TYPE.NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// `var`, `local`, `module`, `data`, `each`, a resource type...
    pub root: String,
    /// The attribute names after the root.
    pub attrs: Vec<String>,
}

#[derive(Default)]
struct Collector {
    refs: Vec<Reference>,
}

impl Visit for Collector {
    fn visit_expr(&mut self, e: &Expression) {
        match e {
            Expression::Variable(v) => self.refs.push(Reference {
                root: v.value().as_str().to_string(),
                attrs: Vec::new(),
            }),
            Expression::Traversal(t) => {
                if let Expression::Variable(v) = &t.expr {
                    let attrs = t
                        .operators
                        .iter()
                        .map_while(|op| match op.value() {
                            TraversalOperator::GetAttr(id) => Some(id.value().as_str().to_string()),
                            _ => None,
                        })
                        .take(2)
                        .collect();
                    self.refs.push(Reference {
                        root: v.value().as_str().to_string(),
                        attrs,
                    });
                } else {
                    self.visit_expr(&t.expr);
                }
                for op in &t.operators {
                    visit_traversal_operator(self, op);
                }
            }
            other => visit_expr(self, other),
        }
    }
}

/// The references an expression makes, in order of appearance.
///
/// ```
/// use posture_engine::lang::refs::references;
/// let e = hcl_edit::parser::parse_expr("\"${var.a}-${posture_data.x.id}\"").unwrap();
/// let r = references(&e);
/// assert_eq!((r[0].root.as_str(), r[0].attrs[0].as_str()), ("var", "a"));
/// assert_eq!((r[1].root.as_str(), r[1].attrs[0].as_str()), ("posture_data", "x"));
/// ```
pub fn references(e: &Expression) -> Vec<Reference> {
    let mut c = Collector::default();
    c.visit_expr(e);
    c.refs
}

/// The references every expression of a body makes (nested blocks included).
pub fn body_references(b: &Body) -> Vec<Reference> {
    let mut c = Collector::default();
    visit_body(&mut c, b);
    c.refs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_in_unevaluated_branches_stay_dependencies() {
        // The evaluator reports only the chosen branch, `&&`/`||` skip a
        // side and `try` stops at its first success; the graph still
        // depends on every reference, as Terraform's static references do.
        let src = r#"var.on ? posture_data.a.id : (false && local.b) || try(local.c, module.d.x)"#;
        let e = hcl_edit::parser::parse_expr(src).expect("parse");
        let roots: Vec<String> = references(&e)
            .into_iter()
            .map(|r| format!("{}.{}", r.root, r.attrs.join(".")))
            .collect();
        assert_eq!(
            roots,
            [
                "var.on",
                "posture_data.a.id",
                "local.b",
                "local.c",
                "module.d.x"
            ]
        );
    }
}
