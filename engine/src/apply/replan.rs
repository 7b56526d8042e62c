//! Which instances planned with unknowns are evaluated and planned again
//! at apply (their unknowns may be known once upstream objects exist), and
//! their configuration, evaluated again, when they are.

use crate::plan::ResourceChange;
use crate::provider::Providers;
use crate::schema::Schema;
use crate::scope::Evaluation;
use crate::value::Value;
use std::collections::HashMap;

/// What one apply looks up once and keeps: each resource's `each`/`count`
/// bindings and each type's schema.
#[derive(Default)]
pub(super) struct Replanner {
    bindings: Bindings,
    schemas: SchemaCache,
}

impl Replanner {
    /// The configuration `c` is planned again from, or why it cannot be
    /// (an error evaluating it, a value still unknown); `(None, None)`
    /// when it is sent as planned.
    pub(super) fn fresh_config(
        &mut self,
        ev: &Evaluation<'_>,
        providers: &Providers,
        c: &ResourceChange,
    ) -> (Option<Value>, Option<String>) {
        if settled_at_plan(c, &mut self.schemas, providers) {
            return (None, None);
        }
        let before = ev.error_count();
        let Some(cfg) = instance_config(ev, &c.address, &mut self.bindings) else {
            return (None, None);
        };
        let new_error = (ev.error_count() > before)
            .then(|| {
                ev.diagnostics()
                    .0
                    .into_iter()
                    .rfind(|d| d.severity == crate::diag::Severity::Error)
            })
            .flatten();
        let error = if let Some(d) = new_error {
            Some(format!("{}: {}", d.summary, d.detail))
        } else if !configured_known(&cfg, schema_of(&mut self.schemas, providers, c)) {
            Some("a configuration value is still unknown at apply time: something it depends on was not applied".to_string())
        } else {
            None
        };
        (Some(cfg), error)
    }
}

/// An attribute only the provider sets (computed, neither optional nor
/// required).
fn computed_only(schema: Option<&Schema>, name: &str) -> bool {
    schema
        .and_then(|s| s.attributes.get(name))
        .is_some_and(|a| a.computed && !a.optional && !a.required)
}

/// True when every attribute the configuration sets is known (computed-only
/// attributes are the provider's to fill).
fn configured_known(cfg: &Value, schema: Option<&Schema>) -> bool {
    let Some(m) = cfg.unmarked().as_map() else {
        return cfg.is_wholly_known();
    };
    m.iter()
        .all(|(k, v)| computed_only(schema, k) || v.is_wholly_known())
}

/// Managed resource schemas by type, looked up once per apply.
type SchemaCache = HashMap<String, Option<Schema>>;

/// True when planning the instance again at apply cannot change it: its
/// only unknowns are computed-only attributes, so every attribute its
/// configuration sets was known at plan and stays so (providers keep
/// configured unknowns unknown). Every `posture_data` create is one (only
/// `id` is unknown): re-planning them was 8.5% of a 100,000-instance apply.
fn settled_at_plan(c: &ResourceChange, schemas: &mut SchemaCache, providers: &Providers) -> bool {
    if c.data {
        return false;
    }
    let schema = schema_of(schemas, providers, c);
    let Some(m) = c.after.unmarked().as_map().filter(|_| schema.is_some()) else {
        return false;
    };
    m.iter()
        .all(|(k, v)| v.is_wholly_known() || computed_only(schema, k))
}

fn schema_of<'s>(s: &'s mut SchemaCache, p: &Providers, c: &ResourceChange) -> Option<&'s Schema> {
    s.entry(c.type_name.clone())
        .or_insert_with(|| p.schema_of(crate::addrs::Mode::Managed, &c.type_name))
        .as_ref()
}

/// Each instance's `each`/`count` binding, by resource, computed once per
/// run (expansions are known at plan time and do not change during apply).
type Bindings = HashMap<
    (crate::addrs::ModuleInstance, crate::addrs::ResourceAddr),
    HashMap<crate::addrs::InstanceKey, Option<(String, Value)>>,
>;

fn instance_config(ev: &Evaluation<'_>, address: &str, bindings: &mut Bindings) -> Option<Value> {
    let a = crate::addrs::parse_instance(address).ok()?;
    let per_key = bindings
        .entry((a.module.clone(), a.resource.clone()))
        .or_insert_with(|| {
            ev.resource_expansion(&a.module, &a.resource)
                .instances()
                .into_iter()
                .collect()
        });
    let binding = per_key.get(&a.key)?.clone();
    Some(ev.instance_config(&a.module, &a.resource, binding))
}
