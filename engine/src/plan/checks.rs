//! The checks every command that reads the configuration runs: what
//! `posture validate` reports (unknown resource types, schema errors,
//! references...) and each provider's own [`Provider::validate`] of every
//! instance it can expand, at the resource's location. `plan`, `apply` and
//! `destroy` run them before planning, so a typo never drops part of a
//! configuration silently.
//!
//! [`Provider::validate`]: crate::provider::Provider::validate

use crate::addrs::{InstanceKey, ModuleInstance, ResourceInstanceAddr};
use crate::config::{ModuleTree, Resource};
use crate::diag::{Diagnostic, Diagnostics};
use crate::provider::Providers;
use crate::scope::{Evaluation, Node};
use crate::value::Value;
use crate::workspace::Workspace;

/// Every diagnostic `posture validate` reports for `ws`, sorted: the
/// loading and evaluation checks, then the providers' checks of each
/// instance.
pub fn validate(ws: &Workspace, providers: &Providers) -> Diagnostics {
    // One evaluation for both: the providers' checks read the instance
    // configurations validation has just computed.
    ws.validate_then(providers, |ev| provider_checks(ev, providers))
}

/// Each provider's [`validate`](crate::provider::Provider::validate) of every
/// instance of every resource, in every module instance `ev` can expand.
pub fn provider_checks(ev: &Evaluation<'_>, providers: &Providers) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let mut path = Vec::new();
    walk(ev, providers, ev.tree(), &mut path, &mut diags);
    diags
}

fn walk(
    ev: &Evaluation<'_>,
    providers: &Providers,
    t: &ModuleTree,
    path: &mut Vec<String>,
    diags: &mut Diagnostics,
) {
    let static_path: Vec<&str> = path.iter().map(String::as_str).collect();
    for mi in ev.module_instances(&static_path) {
        for r in t.module.resources.values() {
            check_resource(ev, providers, &mi, r, diags);
        }
    }
    for (name, child) in &t.children {
        path.push(name.clone());
        walk(ev, providers, child, path, diags);
        path.pop();
    }
}

fn check_resource(
    ev: &Evaluation<'_>,
    providers: &Providers,
    mi: &ModuleInstance,
    r: &Resource,
    diags: &mut Diagnostics,
) {
    // An unknown type is reported by the evaluation already.
    let Some((_, p)) = providers.for_type(r.addr.mode, &r.addr.type_name) else {
        return;
    };
    // The resource's value holds every instance's configuration, memoised
    // when the evaluation computed it: decoding each body again would
    // evaluate the configuration twice.
    let value = ev.get_shared(&Node::Resource(mi.clone(), r.addr.clone()));
    for (key, binding) in ev.resource_expansion(mi, &r.addr).instances() {
        let evaluated = match (&key, &*value) {
            (InstanceKey::None, v) => Some(v),
            (InstanceKey::Int(i), Value::Tuple(items)) => {
                usize::try_from(*i).ok().and_then(|i| items.get(i))
            }
            (InstanceKey::Str(s), Value::Object(m)) => m.get(s),
            _ => None,
        };
        let fresh;
        let config = match evaluated {
            Some(v) => v,
            None => {
                fresh = ev.instance_config(mi, &r.addr, binding);
                &fresh
            }
        };
        let address = ResourceInstanceAddr {
            module: mi.clone(),
            resource: r.addr.clone(),
            key,
        }
        .to_string();
        diags.extend(instance_checks(p.as_ref(), &address, config, r));
    }
}

/// One instance's provider check, as diagnostics at its resource block.
pub(crate) fn instance_checks(
    p: &dyn crate::provider::Provider,
    address: &str,
    config: &Value,
    r: &Resource,
) -> Diagnostics {
    let mut diags = Diagnostics::default();
    if config.is_null() || config.is_unknown() {
        return diags;
    }
    for msg in p.validate(&r.addr.type_name, config) {
        diags.push(
            Diagnostic::error(
                "Invalid resource configuration",
                format!("{address}: {msg}"),
            )
            .at(r.span),
        );
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrs::Mode;
    use crate::schema::{Schema, Schemas};
    use std::cell::Cell;

    /// The providers' schemas, counting lookups: every instance body
    /// decoded looks its schema up once.
    struct Counting<'a>(&'a Providers, Cell<usize>);

    impl Schemas for Counting<'_> {
        fn schema(&self, mode: Mode, type_name: &str) -> Option<Schema> {
            self.1.set(self.1.get() + 1);
            self.0.schema(mode, type_name)
        }
        fn type_names(&self, mode: Mode) -> Vec<String> {
            self.0.type_names(mode)
        }
    }

    #[test]
    fn provider_checks_evaluated_every_instance_a_second_time() {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            d.path().join("main.hcl"),
            "resource \"posture_data\" \"n\" {\n  count = 50\n  input = count.index\n}\n",
        )
        .expect("write");
        let ws = Workspace::load(d.path(), &[], &std::collections::BTreeMap::new());
        let providers = Providers::new(Vec::new());
        let counting = Counting(&providers, Cell::new(0));
        let mut during_checks = None;
        let diags = ws.validate_then(&counting, |ev| {
            let before = counting.1.get();
            let checks = provider_checks(ev, &providers);
            during_checks = Some(counting.1.get() - before);
            checks
        });
        assert!(!diags.has_errors(), "{diags:?}");
        // Validation decoded the 50 bodies; the checks read them back.
        assert!(counting.1.get() >= 50, "{}", counting.1.get());
        assert_eq!(during_checks, Some(0));
    }
}
