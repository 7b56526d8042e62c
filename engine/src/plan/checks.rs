//! The checks every command that reads the configuration runs: what
//! `posture validate` reports (unknown resource types, schema errors,
//! references...) and each provider's own [`Provider::validate`] of every
//! instance it can expand, at the resource's location. `plan`, `apply` and
//! `destroy` run them before planning, so a typo never drops part of a
//! configuration silently.
//!
//! [`Provider::validate`]: crate::provider::Provider::validate

use crate::addrs::{ModuleInstance, ResourceInstanceAddr};
use crate::config::{ModuleTree, Resource};
use crate::diag::{Diagnostic, Diagnostics};
use crate::provider::Providers;
use crate::scope::{Evaluation, Strictness};
use crate::value::Value;
use crate::workspace::Workspace;

/// Every diagnostic `posture validate` reports for `ws`, sorted: the
/// loading and evaluation checks, then the providers' checks of each
/// instance.
pub fn validate(ws: &Workspace, providers: &Providers) -> Diagnostics {
    let mut all = ws.validate(providers);
    if !all.has_errors() {
        let ev = ws.evaluation(providers, Strictness::Validate);
        all.extend(provider_checks(&ev, providers));
        all.sort_dedup();
    }
    all
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
    for (key, binding) in ev.resource_expansion(mi, &r.addr).instances() {
        let config = ev.instance_config(mi, &r.addr, binding);
        let address = ResourceInstanceAddr {
            module: mi.clone(),
            resource: r.addr.clone(),
            key,
        }
        .to_string();
        diags.extend(instance_checks(p.as_ref(), &address, &config, r));
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
