//! Provider configurations: `alias` in `provider` blocks, the `provider`
//! meta-argument of resources and data sources, and the checks that tie a
//! resource to a declared configuration of the provider serving its type.
//!
//! A configuration is named by its *key*: `route53` for the default
//! (unaliased) one, `route53.eu` for `provider "route53" { alias = "eu" }`.
//! Child modules share the root module's configurations; a module call's
//! `providers = { route53 = route53.eu }` makes the called module's
//! `route53` stand for the caller's `route53.eu`.

use super::{ModuleTree, Resource};
use crate::addrs::Mode;
use crate::diag::{Diagnostic, Diagnostics, FileId, Span, suggest};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};

/// `provider = route53.eu`: the provider configuration a resource uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRef {
    /// The provider's name (`route53`).
    pub name: String,
    /// The alias, or `None` for the default configuration.
    pub alias: Option<String>,
    /// Where the reference is.
    pub span: Span,
}

impl ProviderRef {
    /// Its configuration key (`route53.eu`).
    pub fn key(&self) -> String {
        config_key(&self.name, self.alias.as_deref())
    }
}

/// One entry of a module call's `providers` map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderMapping {
    /// The configuration as the called module names it (`route53`, `route53.x`).
    pub inner: ProviderRef,
    /// The caller's configuration it stands for.
    pub outer: ProviderRef,
}

/// Reads `providers = { route53 = route53.eu, route53.x = route53 }`.
pub(super) fn parse_mappings(
    e: &Expression,
    file: FileId,
    src: &str,
) -> Result<Vec<ProviderMapping>, Diagnostics> {
    let span = Span::new(file, e.span().unwrap_or(0..0));
    let Expression::Object(o) = e else {
        return Err(Diagnostic::error(
            "Invalid providers argument",
            "providers must be a map from the called module's provider configurations to this module's, like { route53 = route53.eu }.",
        )
        .at(span)
        .into());
    };
    let mut out: Vec<ProviderMapping> = Vec::new();
    let mut diags = Diagnostics::default();
    for (k, v) in o.iter() {
        let inner = match k {
            ObjectKey::Ident(id) => Ok(ProviderRef {
                // As the file writes it (see `source::key_name`).
                name: super::source::key_name(src, k)
                    .unwrap_or(id.value().as_str())
                    .to_string(),
                alias: None,
                span: Span::new(file, id.span().unwrap_or(0..0)),
            }),
            ObjectKey::Expression(ke) => parse_ref(ke, file),
        };
        let (inner, outer) = match (inner, parse_ref(v.expr(), file)) {
            (Ok(i), Ok(o)) => (i, o),
            (i, o) => {
                for d in i.err().into_iter().chain(o.err()) {
                    diags.push(d);
                }
                continue;
            }
        };
        if inner.name != outer.name {
            diags.push(
                Diagnostic::error(
                    "Invalid providers entry",
                    format!(
                        "{} can only stand for a configuration of provider \"{}\", not {}.",
                        inner.key(),
                        inner.name,
                        outer.key()
                    ),
                )
                .at(outer.span),
            );
        } else if out.iter().any(|m| m.inner.key() == inner.key()) {
            diags.push(
                Diagnostic::error(
                    "Duplicate providers entry",
                    format!("{} is given more than once.", inner.key()),
                )
                .at(inner.span),
            );
        } else {
            out.push(ProviderMapping { inner, outer });
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(out)
    }
}

/// Hands a module call's `providers` map to every resource of the called
/// module and of the modules it calls (after their own calls' maps).
pub(super) fn inherit(tree: &mut ModuleTree, maps: &[ProviderMapping]) {
    for r in tree.module.resources.values_mut() {
        r.inherited_providers.push(maps.to_vec());
    }
    for c in tree.children.values_mut() {
        inherit(c, maps);
    }
}

/// The root module's configuration a resource uses, through the
/// `providers` maps of the module calls above it; `owner` is the provider
/// serving its type (the default when it names none).
pub fn resolve(r: &Resource, owner: &str) -> ProviderRef {
    let mut cur = r.provider.clone().unwrap_or_else(|| ProviderRef {
        name: owner.to_string(),
        alias: None,
        span: r.span,
    });
    for level in &r.inherited_providers {
        if let Some(m) = level.iter().find(|m| m.inner.key() == cur.key()) {
            cur = m.outer.clone();
        }
    }
    cur
}

/// The key of a provider configuration: `NAME` or `NAME.ALIAS`.
pub fn config_key(name: &str, alias: Option<&str>) -> String {
    match alias {
        Some(a) => format!("{name}.{a}"),
        None => name.to_string(),
    }
}

/// The provider name of a configuration key (`route53.eu` is `route53`).
pub fn key_provider(key: &str) -> &str {
    key.split_once('.').map_or(key, |(n, _)| n)
}

/// Reads the `provider` meta-argument: a bare `NAME` or `NAME.ALIAS`.
pub(super) fn parse_ref(e: &Expression, file: FileId) -> Result<ProviderRef, Diagnostic> {
    let span = Span::new(file, e.span().unwrap_or(0..0));
    let bad = || {
        Diagnostic::error(
            "Invalid provider reference",
            "The provider argument must name a provider configuration, like route53 or route53.eu (a reference, not a quoted string or other expression).",
        )
        .at(span)
    };
    match e {
        Expression::Variable(v) => Ok(ProviderRef {
            name: v.value().to_string(),
            alias: None,
            span,
        }),
        Expression::Traversal(t) => {
            let Expression::Variable(v) = &t.expr else {
                return Err(bad());
            };
            match t.operators.as_slice() {
                [op] => match op.value() {
                    TraversalOperator::GetAttr(a) => Ok(ProviderRef {
                        name: v.value().to_string(),
                        alias: Some(a.value().to_string()),
                        span,
                    }),
                    _ => Err(bad()),
                },
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}

/// Reads `alias = "eu"` of a provider block: a string that is a valid name.
pub(super) fn parse_alias(e: &Expression, file: FileId) -> Result<String, Diagnostic> {
    let span = Span::new(file, e.span().unwrap_or(0..0));
    let ok = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    match e {
        Expression::String(s) if ok(s.value()) => Ok(s.value().to_string()),
        _ => Err(Diagnostic::error(
            "Invalid provider alias",
            "alias must be a quoted name that starts with a letter and holds only letters, digits, underscores and dashes, like alias = \"eu\".",
        )
        .at(span)),
    }
}

/// Checks provider blocks and `provider` meta-arguments against the
/// providers of this build: `names` are their names, `serves` tells which
/// provider serves a resource type (`None` for an unknown type, reported
/// elsewhere).
pub fn check(
    tree: &ModuleTree,
    names: &[String],
    serves: &dyn Fn(Mode, &str) -> Option<String>,
) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let declared = &tree.module.providers;
    for b in declared.values() {
        if names.contains(&b.name) {
            continue;
        }
        let hint = suggest(&b.name, names.iter().map(String::as_str))
            .map(|s| format!(" Did you mean \"{s}\"?"))
            .unwrap_or_default();
        let what = match &b.alias {
            Some((a, _)) => format!(" (configured with alias \"{a}\")"),
            None => String::new(),
        };
        diags.push(
            Diagnostic::error(
                "Unknown provider",
                format!(
                    "This posture has no provider named \"{}\"{what}.{hint}",
                    b.name
                ),
            )
            .at(b.span),
        );
    }
    let mut todo = vec![tree];
    while let Some(t) = todo.pop() {
        todo.extend(t.children.values());
        for r in t.module.resources.values() {
            if r.provider.is_some() || !r.inherited_providers.is_empty() {
                check_ref(r, tree, serves, &mut diags);
            }
        }
    }
    diags
}

/// [`check`] knowing only the schemas (as `validate` does): a type's
/// provider is its name's prefix (`route53_record` is `route53`'s).
pub fn check_with_schemas(tree: &ModuleTree, schemas: &dyn crate::schema::Schemas) -> Diagnostics {
    let prefix = |t: &str| t.split_once('_').map_or(t, |(p, _)| p).to_string();
    let mut names: Vec<String> = [Mode::Managed, Mode::Data]
        .into_iter()
        .flat_map(|m| schemas.type_names(m))
        .map(|t| prefix(&t))
        .collect();
    names.sort();
    names.dedup();
    let serves = |mode: Mode, t: &str| schemas.schema(mode, t).map(|_| prefix(t));
    check(tree, &names, &serves)
}

fn check_ref(
    r: &Resource,
    tree: &ModuleTree,
    serves: &dyn Fn(Mode, &str) -> Option<String>,
    diags: &mut Diagnostics,
) {
    let Some(owner) = serves(r.addr.mode, &r.addr.type_name) else {
        return;
    };
    if let Some(p) = &r.provider
        && p.name != owner
    {
        let key = p.key();
        diags.push(
            Diagnostic::error(
                "Invalid provider configuration reference",
                format!(
                    "{} is of type {}, which provider \"{owner}\" serves, but provider = {key} names a configuration of provider \"{}\". Use {owner} or {owner}.ALIAS.",
                    r.describe(),
                    r.addr.type_name,
                    p.name
                ),
            )
            .at(p.span),
        );
        return;
    }
    let p = resolve(r, &owner);
    let key = p.key();
    if p.alias.is_none() || tree.module.providers.contains_key(&key) {
        return;
    }
    let same: Vec<&str> = tree
        .module
        .providers
        .keys()
        .filter(|k| key_provider(k) == p.name && k.contains('.'))
        .map(String::as_str)
        .collect();
    let hint = suggest(&key, same.iter().copied())
        .or(if same.len() == 1 { Some(same[0]) } else { None })
        .map(|s| format!(" Did you mean {s}?"))
        .unwrap_or_default();
    diags.push(
        Diagnostic::error(
            "Provider configuration not present",
            format!(
                "{} uses provider configuration {key}, which is not declared. Declare it in the root module with provider \"{}\" {{ alias = \"{}\" }}.{hint}",
                r.describe(),
                p.name,
                p.alias.as_deref().unwrap_or_default()
            ),
        )
        .at(p.span),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(src: &str) -> Expression {
        src.parse().expect("expression")
    }

    #[test]
    fn provider_meta_argument_is_parsed_not_ignored() {
        let file = FileId(0);
        let r = parse_ref(&expr("route53.eu"), file).expect("ref");
        assert_eq!(
            (r.name.as_str(), r.alias.as_deref()),
            ("route53", Some("eu"))
        );
        assert_eq!(r.key(), "route53.eu");
        let r = parse_ref(&expr("route53"), file).expect("ref");
        assert_eq!((r.key().as_str(), r.alias), ("route53", None));
        for bad in ["\"route53.eu\"", "route53.eu.x", "route53[\"eu\"]", "1"] {
            let d = parse_ref(&expr(bad), file).expect_err(bad);
            assert_eq!(d.summary, "Invalid provider reference", "{bad}");
        }
    }

    #[test]
    fn an_alias_is_a_quoted_name() {
        let file = FileId(0);
        assert_eq!(
            parse_alias(&expr("\"eu-west_1\""), file).ok().as_deref(),
            Some("eu-west_1")
        );
        for bad in ["eu", "\"\"", "\"1eu\"", "\"e u\"", "\"a.b\""] {
            assert!(parse_alias(&expr(bad), file).is_err(), "{bad}");
        }
        assert_eq!(key_provider("route53.eu"), "route53");
        assert_eq!(key_provider("route53"), "route53");
    }
}
