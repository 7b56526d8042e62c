//! Making a plan: refresh in batches, then for every resource instance in
//! dependency order ask its provider what apply would do, and diff.

use super::graph::{Item, StaticGraph, StaticNode};
use super::model::*;
use crate::addrs::{InstanceKey, Mode, ModuleInstance, ResourceAddr, ResourceInstanceAddr};
use crate::diag::{Diagnostic, Diagnostics};
use crate::provider::{PlanRequest, Providers};
use crate::scope::{Evaluation, Node};
use crate::state::State;
use crate::value::{Type, Value, raw_equal};
use std::collections::{BTreeMap, BTreeSet};

/// Options of one plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Normal, destroy or refresh-only.
    pub mode: PlanMode,
    /// Read the real objects first (`--refresh=false` turns it off).
    pub refresh: bool,
    /// `--target`: only these addresses (and what they need).
    pub targets: Vec<String>,
    /// `--replace`: replace these instances even if unchanged.
    pub replace: Vec<String>,
    /// `--cluster`: only the instances of these state partitions are read
    /// and planned (`select.rs`).
    pub selection: crate::state::Selection,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            mode: PlanMode::Normal,
            refresh: true,
            targets: Vec::new(),
            replace: Vec::new(),
            selection: crate::state::Selection::All,
        }
    }
}

/// One configured resource instance found while planning.
struct Desired {
    module: ModuleInstance,
    resource: ResourceAddr,
    key: InstanceKey,
    static_node: StaticNode,
}

/// Plans `ev`'s configuration against `state`. Diagnostics explain every
/// failure; warnings may come back with a plan.
pub async fn plan(
    ev: &Evaluation<'_>,
    graph: &StaticGraph,
    providers: &Providers,
    state: &State,
    opts: &PlanOptions,
) -> Result<(Plan, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::default();
    // 1. Refresh: every recorded instance, in batches of one type and batch key.
    let super::refresh::Refreshed {
        current,
        drift,
        unreadable,
        marks_unrecorded,
    } = super::refresh::refresh(ev, providers, state, opts, &mut diags).await;
    let mut selecting = super::select::Selecting::new(&opts.selection);
    let mut failed: Vec<(String, String)> = Vec::new();
    if diags.has_errors() {
        return Err(diags);
    }
    let mut changes: Vec<ResourceChange> = Vec::new();
    let mut desired_addrs: BTreeSet<String> = BTreeSet::new();
    let mut instance_deps: BTreeMap<StaticNode, Vec<String>> = BTreeMap::new();
    if opts.mode != PlanMode::Destroy {
        // 2. Every configured instance, dependencies first.
        for snode in &graph.resource_order {
            let Item::Resource(raddr) = &snode.item else {
                continue;
            };
            let static_path: Vec<&str> = snode.module.iter().map(String::as_str).collect();
            let deps: Vec<String> = graph
                .resource_deps
                .get(snode)
                .map(|ds| {
                    ds.iter()
                        .flat_map(|d| instance_deps.get(d).cloned().unwrap_or_default())
                        .collect()
                })
                .unwrap_or_default();
            let mut mine = Vec::new();
            for mi in ev.module_instances(&static_path) {
                let expansion = ev.resource_expansion(&mi, raddr);
                let mut desired: Vec<(Desired, Option<(String, Value)>)> = Vec::new();
                for (key, binding) in expansion.instances() {
                    desired.push((
                        Desired {
                            module: mi.clone(),
                            resource: raddr.clone(),
                            key,
                            static_node: snode.clone(),
                        },
                        binding,
                    ));
                }
                for (d, binding) in desired {
                    let ia = ResourceInstanceAddr {
                        module: d.module.clone(),
                        resource: d.resource.clone(),
                        key: d.key.clone(),
                    };
                    let address = ia.to_string();
                    mine.push(address.clone());
                    desired_addrs.insert(address.clone());
                    if let Some(msg) = unreadable.get(&address) {
                        failed.push((address.clone(), unread(msg)));
                        if let Some(prior) = current.get(&address) {
                            ev.set_instance_value(
                                &d.module,
                                &d.resource,
                                d.key.clone(),
                                prior.clone(),
                            );
                        }
                        continue;
                    }
                    let mut checked = None;
                    if selecting.active() && d.resource.mode == Mode::Managed {
                        let config = ev.instance_config(&d.module, &d.resource, binding.clone());
                        let record = state.instances.get(&address);
                        match selecting.decide(&config, record) {
                            super::select::Decision::Plan => checked = Some(config),
                            super::select::Decision::Skip(p) => {
                                let prior = current.get(&address);
                                let (m, r, k) = (&d.module, &d.resource, d.key.clone());
                                changes.extend(
                                    selecting.skip(ev, m, r, k, &address, p, prior, record),
                                );
                                continue;
                            }
                            super::select::Decision::Unknown => {
                                failed.push((address.clone(), super::select::UNKNOWN.to_string()));
                                continue;
                            }
                        }
                    }
                    if let (Some(config), Some(schema)) = (
                        &checked,
                        providers.schema_of(d.resource.mode, &d.resource.type_name),
                    ) {
                        selecting.check(&address, config, &schema, &deps, &mut diags);
                    }
                    let c = plan_instance(
                        ev,
                        providers,
                        &d,
                        binding,
                        &address,
                        current.get(&address),
                        opts,
                        &deps,
                        &triggered_by(ev, &d, &changes),
                        marks_unrecorded.contains(&address),
                        state.instances.get(&address).is_some_and(|r| r.tainted),
                        &mut diags,
                        &mut failed,
                    )
                    .await;
                    if let Some(c) = c {
                        let value = if c.action == Action::Delete {
                            Value::NULL
                        } else {
                            c.after.clone()
                        };
                        ev.set_instance_value(&d.module, &d.resource, d.key.clone(), value);
                        changes.push(c);
                    }
                    let _ = &d.static_node;
                }
            }
            instance_deps.insert(snode.clone(), mine);
        }
    }
    // 3. Recorded instances no longer configured (or all, for destroy).
    let mut orphans: Vec<ResourceChange> = Vec::new();
    for (addr, rec) in &state.instances {
        if desired_addrs.contains(addr) || rec.mode == crate::state::Mode::Data {
            continue;
        }
        if !selecting.selects_record(rec) {
            continue;
        }
        if let Some(msg) = unreadable.get(addr) {
            // Its delete cannot be planned unread; dropping it silently would
            // let destroy claim "No changes" with the object still there.
            failed.push((addr.clone(), unread(msg)));
            continue;
        }
        let Some(prior) = current.get(addr).cloned() else {
            continue;
        };
        let mut c = change(
            addr,
            &rec.resource_type,
            &rec.provider,
            false,
            Action::Delete,
            prior,
            Value::NULL,
        );
        c.dependencies = rec.dependencies.clone();
        if prevent_destroy(ev, addr) {
            diags.push(Diagnostic::error(
                "Instance cannot be destroyed",
                format!("{addr} has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed. To avoid this error and continue with the plan, either disable lifecycle.prevent_destroy or reduce the scope of the plan using --target."),
            ));
        }
        orphans.push(c);
    }
    // Destroy dependents before what they depend on.
    orphans.reverse();
    changes.extend(orphans);
    changes.extend(selecting.deposed(deposed_deletes(providers, state), state));
    diags.extend(selecting.unknown_names(state));
    if opts.mode == PlanMode::RefreshOnly {
        for c in changes.iter_mut() {
            c.action = Action::NoOp;
        }
    }
    // 4. Targets: keep only the targeted instances and what they depend on
    // (for destroy: what depends on them).
    if !opts.targets.is_empty() {
        let keep = super::target::targeted(&changes, &opts.targets, opts.mode);
        for c in changes.iter_mut() {
            if !keep.contains(&c.address) && c.action != Action::NoOp {
                c.action = Action::NoOp;
                c.after = c.before.clone();
            }
        }
    }
    // 5. Outputs.
    let mut outputs = Vec::new();
    if !diags.has_errors() {
        for (name, o) in &ev.tree().module.outputs {
            let before = state
                .outputs
                .get(name)
                .map(|ov| {
                    // The type is stored as its JSON form, in a string.
                    let t = crate::state::decode_json(&ov.type_name)
                        .ok()
                        .and_then(|j| Type::from_json(&j))
                        .unwrap_or(Type::Dynamic);
                    Value::from_json_typed(&ov.value, &t)
                        .unwrap_or_else(|_| Value::from_json(&ov.value))
                        .mark_if(ov.sensitive)
                })
                .unwrap_or(Value::NULL);
            let after = if !selecting.selects_outputs() {
                // Outputs live in the no-cluster partition, not written by this run.
                before.clone()
            } else if opts.mode == PlanMode::Destroy {
                Value::NULL
            } else {
                ev.get(&Node::Output(ModuleInstance::root(), name.clone()))
            };
            outputs.push(OutputChange {
                name: name.clone(),
                before,
                after,
                sensitive: o.sensitive,
            });
        }
    }
    diags.extend(ev.diagnostics());
    diags.sort_dedup();
    if diags.has_errors() {
        return Err(diags);
    }
    let plan = Plan {
        lineage: state.lineage.clone(),
        serial: state.serial,
        mode: opts.mode,
        changes,
        drift,
        outputs,
        variables: Vec::new(),
        failed,
    };
    Ok((plan, diags))
}

/// Why a deposed object is destroyed, in Terraform's words.
const LEFT_OVER: &str = "left over from a partially-failed replacement of this instance";

/// A delete for every deposed object: the old objects of create-before-destroy
/// replacements whose destroy did not complete (failed, or the run was killed).
fn deposed_deletes(providers: &Providers, state: &State) -> Vec<ResourceChange> {
    let mut out = Vec::new();
    for (addr, rec) in &state.instances {
        if rec.deposed.is_empty() || rec.mode == crate::state::Mode::Data {
            continue;
        }
        // A missing schema is diagnosed by refresh.
        let Some(schema) = providers.schema_of(Mode::Managed, &rec.resource_type) else {
            continue;
        };
        for (key, obj) in &rec.deposed {
            let old = crate::state::InstanceRecord {
                attributes: obj.attributes.clone(),
                sensitive_paths: obj.sensitive_paths.clone(),
                deposed: Default::default(),
                ..rec.clone()
            };
            let mut c = change(
                addr,
                &rec.resource_type,
                &rec.provider,
                false,
                Action::Delete,
                super::statecodec::from_state(&old, &schema),
                Value::NULL,
            );
            c.reason = Some(LEFT_OVER.to_string());
            c.dependencies = rec.dependencies.clone();
            c.deposed = Some(key.clone());
            out.push(c);
        }
    }
    out
}

fn unread(msg: &str) -> String {
    format!("could not read the object, so it is left out of this plan: {msg}")
}

/// The first resource named in `lifecycle { replace_triggered_by }` that
/// this plan updates or replaces (those are planned earlier: the static graph
/// orders them first).
fn triggered_by(ev: &Evaluation<'_>, d: &Desired, changes: &[ResourceChange]) -> Option<String> {
    let t = ev.tree().descendant(&d.module.static_path())?;
    let r = t.module.resources.get(&d.resource)?;
    for e in &r.lifecycle.replace_triggered_by {
        for rf in crate::lang::refs::references(&e.expr) {
            let (mode, type_name, name) = match rf.root.as_str() {
                "data" => (
                    Mode::Data,
                    rf.attrs.first()?.clone(),
                    rf.attrs.get(1)?.clone(),
                ),
                t => (Mode::Managed, t.to_string(), rf.attrs.first()?.clone()),
            };
            let target = ResourceAddr {
                mode,
                type_name,
                name,
            };
            let prefix = ResourceInstanceAddr {
                module: d.module.clone(),
                resource: target,
                key: InstanceKey::None,
            }
            .to_string();
            let hit = changes.iter().find(|c| {
                (c.address == prefix || c.address.starts_with(&format!("{prefix}[")))
                    && matches!(
                        c.action,
                        Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete
                    )
            });
            if let Some(c) = hit {
                return Some(c.address.clone());
            }
        }
    }
    None
}

pub(super) fn change(
    addr: &str,
    type_name: &str,
    provider: &str,
    data: bool,
    action: Action,
    before: Value,
    after: Value,
) -> ResourceChange {
    ResourceChange {
        address: addr.to_string(),
        data,
        type_name: type_name.to_string(),
        provider: provider.to_string(),
        action,
        reason: None,
        before,
        after,
        replace_paths: Vec::new(),
        dependencies: Vec::new(),
        create_before_destroy: false,
        notes: Vec::new(),
        tainted: false,
        deposed: None,
    }
}

fn prevent_destroy(ev: &Evaluation<'_>, addr: &str) -> bool {
    // The resource may still be configured (fewer instances) or gone.
    fn walk(t: &crate::config::ModuleTree, addr: &str) -> bool {
        t.module.resources.values().any(|r| {
            r.lifecycle.prevent_destroy
                && (addr.contains(&format!("{}[", r.addr)) || addr.ends_with(&r.addr.to_string()))
        }) || t.children.values().any(|c| walk(c, addr))
    }
    walk(ev.tree(), addr)
}

#[allow(clippy::too_many_arguments)]
async fn plan_instance(
    ev: &Evaluation<'_>,
    providers: &Providers,
    d: &Desired,
    binding: Option<(String, Value)>,
    address: &str,
    prior: Option<&Value>,
    opts: &PlanOptions,
    deps: &[String],
    triggered: &Option<String>,
    marks_unrecorded: bool,
    tainted: bool,
    diags: &mut Diagnostics,
    failed: &mut Vec<(String, String)>,
) -> Option<ResourceChange> {
    let t = ev.tree().descendant(&d.module.static_path())?;
    let r = t.module.resources.get(&d.resource)?;
    // An unknown type is an error the evaluation reports here, never a
    // resource silently left out.
    let before_errors = ev.error_count();
    let mut config = ev.instance_config(&d.module, &d.resource, binding);
    if ev.error_count() > before_errors {
        return None;
    }
    let (pname, p) = providers.for_resource(r)?;
    let schema = providers.schema_of(d.resource.mode, &d.resource.type_name)?;
    let problems = super::checks::instance_checks(p.as_ref(), address, &config, r);
    if problems.has_errors() {
        diags.extend(problems);
        return None;
    }
    let is_data = d.resource.mode == Mode::Data;
    if is_data {
        let after = if config.is_wholly_known() {
            match p.read_data(&d.resource.type_name, config.clone()).await {
                Ok(v) => v.with_marks_of(&config),
                Err(e) => {
                    diags.push(
                        Diagnostic::error(
                            "Failed to read data source",
                            format!("{address}: {}", e.message),
                        )
                        .at(r.span),
                    );
                    return None;
                }
            }
        } else {
            config.clone()
        };
        let mut c = change(
            address,
            &d.resource.type_name,
            pname,
            true,
            Action::Read,
            Value::NULL,
            after,
        );
        c.dependencies = deps.to_vec();
        return Some(c);
    }
    let prior = prior.cloned().unwrap_or(Value::NULL);
    // ignore_changes: the recorded values win at the named paths.
    config = super::ignore::apply(config, &prior, &r.lifecycle.ignore_changes);
    let resp = match p
        .plan(PlanRequest {
            address: address.to_string(),
            type_name: d.resource.type_name.clone(),
            prior: prior.clone(),
            config: config.clone(),
        })
        .await
    {
        Ok(r) => r,
        Err(e) => {
            // This instance fails; the others are still planned.
            failed.push((address.to_string(), e.message));
            return None;
        }
    };
    // Providers answer with plain data: the configuration's marks go back
    // on at the same paths, as Terraform does.
    let planned = resp.planned.with_marks_of(&config);
    let mut replace_paths = resp.requires_replace;
    let mut reason = None;
    let action = if prior.is_null() {
        Action::Create
    } else {
        if let (Some(pm), Some(nm)) = (prior.as_map(), planned.as_map()) {
            for (name, a) in &schema.attributes {
                if a.force_new {
                    let (x, y) = (
                        pm.get(name).cloned().unwrap_or(Value::NULL),
                        nm.get(name).cloned().unwrap_or(Value::NULL),
                    );
                    if !y.is_wholly_known() || !raw_equal(&x, &y) {
                        replace_paths.push(name.clone());
                    }
                }
            }
        }
        if tainted {
            // Terraform's headline says why: "is tainted, so must be replaced".
        } else if opts.replace.iter().any(|a| a == address) {
            reason = Some("requested with --replace".to_string());
        } else if let Some(t) = triggered {
            reason = Some(format!("replace_triggered_by: {t} changes"));
        } else if !replace_paths.is_empty() {
            reason = Some(format!(
                "{} changed, which forces replacement",
                replace_paths.join(", ")
            ));
        }
        if reason.is_some() || tainted {
            if r.lifecycle.create_before_destroy {
                Action::CreateThenDelete
            } else {
                Action::DeleteThenCreate
            }
        } else if raw_equal(&prior, &planned)
            && planned.is_wholly_known()
            // Marks state lacks (a state written before they were kept) are
            // written by an update, as Terraform does.
            && prior.marks_cover(&planned)
            && !marks_unrecorded
        {
            Action::NoOp
        } else {
            Action::Update
        }
    };
    if action.is_replace() && r.lifecycle.prevent_destroy {
        diags.push(
            Diagnostic::error(
                "Instance cannot be destroyed",
                format!("{address} has lifecycle.prevent_destroy set, but the plan calls for this resource to be replaced. Either disable lifecycle.prevent_destroy or change the configuration so it is not replaced."),
            )
            .at(r.span),
        );
    }
    // A replaced object gets new computed values.
    let after = if action.is_replace() {
        recompute(planned, &schema)
    } else {
        planned
    };
    let mut c = change(
        address,
        &d.resource.type_name,
        pname,
        false,
        action,
        prior,
        after,
    );
    c.reason = reason;
    c.replace_paths = replace_paths;
    c.dependencies = deps.to_vec();
    c.create_before_destroy = r.lifecycle.create_before_destroy;
    c.notes = resp.notes;
    c.tainted = tainted && action.is_replace();
    Some(c)
}

/// Computed-only attributes become unknown again (a new object gets new ones).
fn recompute(v: Value, schema: &crate::schema::Schema) -> Value {
    match v {
        Value::Object(mut m) => {
            for (k, a) in &schema.attributes {
                if a.computed && !a.optional {
                    m.insert(k.clone(), Value::Unknown(a.ty.clone()));
                }
            }
            Value::Object(m)
        }
        other => other,
    }
}
